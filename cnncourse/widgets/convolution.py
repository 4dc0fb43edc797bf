"""Convolution explorer: an input, a kernel (presets or your own 3x3 / 5x5 values), stride
and padding; shows input, kernel and output side by side with their shapes."""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np
import traitlets as t

from .. import viz
from ..nn import functional as F
from ..nn.validation import resolve_padding
from .inputs import InputPicker
from .live import InputFigure, LiveExplorer, js_module

_GAUSS5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256

#: Hand-made kernels ``(K, K)``: the classic image filters a CNN rediscovers by training.
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1 / 9),
    "gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "neighbour difference": np.array([[0, 0, 0], [0, -1, 1], [0, 0, 0]], dtype=float),
    "sobel x (vertical edges)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel y (horizontal edges)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "outline (laplacian)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "box blur 5x5": np.full((5, 5), 1 / 25),
    "gaussian blur 5x5": _GAUSS5,
}

#: A 6x6 input with a vertical edge down the middle: what edge detectors are for.
EDGE_MATRIX = np.array([[0, 0, 0, 9, 9, 9]] * 6, dtype=float)

_PADDINGS = [("valid (no padding)", "valid"), ("same", "same"), ("1", 1), ("2", 2)]


def fit_kernel(kernel, size: int) -> np.ndarray:
    """Centre ``kernel (K, K)`` in a ``size`` x ``size`` array of zeros (or crop it)."""
    kernel = np.asarray(kernel, dtype=float)
    out = np.zeros((size, size))
    k = kernel.shape[0]
    if k <= size:
        o = (size - k) // 2
        out[o : o + k, o : o + k] = kernel
    else:
        o = (k - size) // 2
        out[:] = kernel[o : o + size, o : o + size]
    return out


class ConvolutionFigure(InputFigure):
    """Convolves in the browser and holds the kernel's weight boxes (``js/convolution.js``).

    ``preset`` indexes ``presets`` (``[name, (K, K) rows]``; one past the end is
    "custom"), ``size`` indexes ``sizes``, ``padding`` indexes ``paddings``; ``kernel``
    holds the ``K*K`` weights in row order (what the boxes show, or what was typed).
    """

    _esm = js_module("convolution")
    presets = t.List().tag(sync=True)
    preset = t.Int(0).tag(sync=True)
    sizes = t.List(t.Int()).tag(sync=True)
    size = t.Int(0).tag(sync=True)
    kernel = t.List(t.Float()).tag(sync=True)
    flip = t.Bool(False).tag(sync=True)
    stride = t.Int(1).tag(sync=True)
    paddings = t.List().tag(sync=True)
    padding = t.Int(0).tag(sync=True)


class ConvolutionExplorer(LiveExplorer):
    """Slide a kernel over an input and watch the output change.

    After any change: ``input (H, W)``, ``kernel (K, K)`` (flipped if ``flip`` is ticked,
    i.e. exactly what was slid), ``result (OH, OW)``; ``pads`` is
    ``(top, bottom, left, right)``. The browser computes and draws the same numbers
    (:class:`ConvolutionFigure`), and holds the weight boxes: ``view.kernel``.

    Controls: ``picker.source``, ``picker.matrix``, ``preset``, ``size``, ``flip``,
    ``stride``, ``padding``; type your own weights with :meth:`set_kernel`.
    """

    figure_class = ConvolutionFigure

    def __init__(
        self,
        source: str | None = None,
        kernel: str = "sobel x (vertical edges)",
        stride: int = 1,
        padding="valid",
        image=None,
        matrix=None,
    ):
        self.picker = InputPicker(source, EDGE_MATRIX if matrix is None else matrix, image, hide_matrix=False)
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {list(KERNELS)}; got {kernel!r}")
        self.preset = w.Dropdown(options=[*KERNELS, "custom"], value=kernel, description="kernel")
        self.size = w.ToggleButtons(
            options=[("3x3", 3), ("5x5", 5)],
            value=KERNELS[kernel].shape[0],
            description="size",
            style={"button_width": "4em"},
            layout=w.Layout(width="auto"),
        )
        self.flip = w.Checkbox(
            value=False,
            description="flip kernel (true convolution)",
            indent=True,
            layout=w.Layout(width="auto"),
        )
        self.stride = w.IntSlider(value=stride, min=1, max=4, description="stride")
        if padding not in [v for _, v in _PADDINGS]:
            raise ValueError(f"padding must be one of {[v for _, v in _PADDINGS]}; got {padding!r}")
        self.padding = w.Dropdown(options=_PADDINGS, value=padding, description="padding")
        controls = [
            w.HBox([*self.picker.controls]),
            w.HBox([self.preset, self.size]),
            w.HBox([self.stride, self.padding]),
            self.flip,
        ]
        super().__init__(controls)
        self.view.presets = [[name, k.tolist()] for name, k in KERNELS.items()]
        self.view.sizes = [size for _, size in self.size.options]
        self.view.paddings = [value for _, value in _PADDINGS]
        self._set_weights(fit_kernel(KERNELS[kernel], self.size.value))
        self.link_input(self.picker)
        self.link(
            preset=(self.preset, "index"),
            size=(self.size, "index"),
            flip=(self.flip, "value"),
            stride=(self.stride, "value"),
            padding=(self.padding, "index"),
        )
        # The browser refills the weight boxes on these changes by itself; Python does the
        # same, so a kernel driven from code (or the tests) stays in step.
        self.preset.observe(self._on_preset, names="value")
        self.size.observe(self._on_size, names="value")
        self.view.observe(self._on_change, names="kernel")
        self.watch(self.picker.source, self.picker.matrix, self.flip, self.stride, self.padding)
        self.update()

    # ------------------------------------------------------------------ kernel editing

    def _set_weights(self, kernel) -> None:
        """Fill the weight boxes without recomputing (the caller recomputes once)."""
        holding, self._holding = self._holding, True
        try:
            self.view.kernel = np.asarray(kernel, dtype=float).ravel().tolist()
        finally:
            self._holding = holding

    def _on_preset(self, change) -> None:
        if change["new"] == "custom":
            return
        kernel = KERNELS[change["new"]]
        if kernel.shape[0] > self.size.value:
            self._holding = True
            try:
                self.size.value = kernel.shape[0]
            finally:
                self._holding = False
        self._set_weights(fit_kernel(kernel, self.size.value))
        self.update()

    def _on_size(self, change) -> None:
        current = KERNELS[self.preset.value] if self.preset.value != "custom" else self._typed()
        self._set_weights(fit_kernel(current, change["new"]))
        self._on_change()  # recomputes unless a preset or set_kernel is changing the size

    def kernel_values(self) -> np.ndarray:
        """The kernel, ``(K, K)``: the exact preset (the boxes show it rounded to 4
        decimals), or the weights typed in the boxes when the preset is ``"custom"``."""
        if self.preset.value != "custom":
            return fit_kernel(KERNELS[self.preset.value], self.size.value)
        return self._typed()

    def _typed(self) -> np.ndarray:
        k = math.isqrt(len(self.view.kernel))
        return np.array(self.view.kernel, dtype=float).reshape(k, k)

    def set_kernel(self, kernel) -> None:
        """Type a ``(3, 3)`` or ``(5, 5)`` kernel into the boxes (the preset becomes custom)."""
        kernel = np.asarray(kernel, dtype=float)
        if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] not in (3, 5):
            raise ValueError(f"kernel must be 3x3 or 5x5; got shape {kernel.shape}")
        self._holding = True
        try:
            self.preset.value = "custom"
            self.size.value = kernel.shape[0]
        finally:
            self._holding = False
        self._set_weights(kernel)
        self.update()

    # ------------------------------------------------------------------ computing, drawing

    def compute(self) -> None:
        x = self.picker.value()
        kernel = self.kernel_values()
        if self.flip.value:
            kernel = kernel[::-1, ::-1]
        s, p = self.stride.value, self.padding.value
        out, _ = F.conv2d_forward(x[None, :, :, None], kernel[:, :, None, None], stride=s, padding=p)
        self.input, self.kernel, self.result = x, kernel, out[0, :, :, 0]
        self.pads = resolve_padding(p, x.shape, kernel.shape, (s, s))

    def _small(self) -> bool:
        top, bottom, left, right = self.pads
        return max(self.input.shape[0] + top + bottom, self.input.shape[1] + left + right) <= 12

    def alt_text(self) -> str:
        (h, wd), (kh, kw), (oh, ow) = self.input.shape, self.kernel.shape, self.result.shape
        return (
            f"Input {h}×{wd} ({self.picker.source.label}), the {self.preset.value} kernel {kh}×{kw} and the "
            f"output {oh}×{ow}, values from {self.result.min():.3g} to {self.result.max():.3g}."
        )

    def draw(self, fig) -> None:
        x, k, out = self.input, self.kernel, self.result
        ax_in, ax_k, ax_out = fig.subplots(1, 3, gridspec_kw={"width_ratios": [3, 1.6, 3]})
        h, wd = x.shape
        if self._small():
            top, bottom, left, right = self.pads
            xp = np.pad(x, ((top, bottom), (left, right)))
            label = f"input {h}×{wd}" + (f", padded to {xp.shape[0]}×{xp.shape[1]}" if any(self.pads) else "")
            viz.draw_matrix(ax_in, xp, label, highlight=(0, 0, *k.shape))
            viz.draw_matrix(ax_k, k, f"kernel {k.shape[0]}×{k.shape[1]}")
            viz.draw_matrix(ax_out, out, f"output {out.shape[0]}×{out.shape[1]}", highlight=(0, 0, 1, 1))
        else:
            viz.draw_image(ax_in, x, f"input {h}×{wd}")
            viz.draw_matrix(ax_k, k, f"kernel {k.shape[0]}×{k.shape[1]}")
            viz.draw_image(ax_out, out, f"output {out.shape[0]}×{out.shape[1]}", signed=bool(out.min() < 0))
