"""Activation explorer: an activation function and its derivative, and what happens to a
gradient that passes through many such layers."""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import traitlets as t

from ..nn import functional as F
from .live import LiveExplorer, LiveFigure, js_module

#: name -> (forward, backward, formula shown in the caption)
ACTIVATIONS = {
    "relu": (F.relu_forward, F.relu_backward, "max(0, x)"),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward, "x if x > 0 else α·x"),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward, "1 / (1 + e<sup>−x</sup>)"),
    "tanh": (F.tanh_forward, F.tanh_backward, "tanh(x)"),
}


def activation_and_derivative(name: str, x, alpha: float = 0.1):
    """``(f(x), f'(x))`` for an activation of :data:`ACTIVATIONS`, computed with the
    engine's forward and backward functions (the derivative is the backward of ones)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {list(ACTIVATIONS)}")
    forward, backward, _ = ACTIVATIONS[name]
    x = np.asarray(x, dtype=float)
    y, cache = forward(x, alpha) if name == "leaky_relu" else forward(x)
    return y, backward(np.ones_like(x), cache)


class ActivationFigure(LiveFigure):
    """Draws in the browser (``js/activations.js``); ``function`` indexes ``functions``
    and ``formulas``."""

    _esm = js_module("activations")
    functions = t.List(t.Unicode()).tag(sync=True)
    formulas = t.List(t.Unicode()).tag(sync=True)
    function = t.Int(0).tag(sync=True)
    alpha = t.Float(0.1).tag(sync=True)
    x_range = t.Float(5.0).tag(sync=True)
    depth = t.Int(10).tag(sync=True)


class ActivationExplorer(LiveExplorer):
    """After any change: ``x``, ``y = f(x)``, ``dy = f'(x)`` (each ``(401,)``),
    ``max_slope`` and ``signal``: the largest factor by which a gradient can survive
    ``depth`` such layers, ``max_slope ** depth``. The browser draws the same numbers
    (:class:`ActivationFigure`).

    Controls: ``function``, ``alpha`` (leaky ReLU), ``x_range``, ``depth``.
    """

    figsize = (10.0, 3.0)
    figure_class = ActivationFigure

    def __init__(self, function: str = "relu", alpha: float = 0.1, x_range: float = 5.0, depth: int = 10):
        if function not in ACTIVATIONS:
            raise ValueError(f"function must be one of {list(ACTIVATIONS)}; got {function!r}")
        self.function = w.Dropdown(options=list(ACTIVATIONS), value=function, description="function")
        self.alpha = w.FloatSlider(value=alpha, min=0.0, max=0.5, step=0.01, description="α (leaky)")
        self.x_range = w.FloatSlider(value=x_range, min=1.0, max=10.0, step=0.5, description="x range ±")
        self.depth = w.IntSlider(value=depth, min=1, max=30, description="layers")
        super().__init__([w.HBox([self.function, self.alpha]), w.HBox([self.x_range, self.depth])])
        self.view.functions = list(ACTIVATIONS)
        self.view.formulas = [formula for _, _, formula in ACTIVATIONS.values()]
        self.link(
            function=(self.function, "index"),
            alpha=(self.alpha, "value"),
            x_range=(self.x_range, "value"),
            depth=(self.depth, "value"),
        )
        self.watch(self.function, self.alpha, self.x_range, self.depth)
        self.update()

    def compute(self) -> None:
        self.x = np.linspace(-self.x_range.value, self.x_range.value, 401)
        self.y, self.dy = activation_and_derivative(self.function.value, self.x, self.alpha.value)
        self.max_slope = float(self.dy.max())
        self.signal = self.max_slope**self.depth.value

    def alt_text(self) -> str:
        name, r, n = self.function.value, self.x_range.value, self.depth.value
        return (
            f"{name}(x) and its derivative for x from {-r:g} to {r:g}, and the best-case gradient "
            f"after 1 to {n} layers: largest slope {self.max_slope:.3g}, after {n} layers "
            f"{self.signal:.3g}."
        )

    def draw(self, fig) -> None:
        ax_f, ax_d, ax_g = fig.subplots(1, 3)
        name = self.function.value
        ax_f.plot(self.x, self.y, color="C0", linewidth=2)
        ax_f.set_title(f"{name}(x)", fontsize=10)
        ax_d.plot(self.x, self.dy, color="C3", linewidth=2)
        ax_d.set_title(f"derivative {name}'(x)", fontsize=10)
        for ax in (ax_f, ax_d):
            ax.axhline(0, color="0.5", linewidth=0.8)
            ax.axvline(0, color="0.5", linewidth=0.8)
            ax.grid(alpha=0.3)
            ax.set_xlabel("x")
        layers = np.arange(1, self.depth.value + 1)
        ax_g.semilogy(layers, np.maximum(self.max_slope**layers, 1e-30), "o-", color="C2", markersize=3)
        ax_g.set_title("best-case gradient after n layers", fontsize=10)
        ax_g.set_xlabel("layers n")
        ax_g.grid(alpha=0.3, which="both")
