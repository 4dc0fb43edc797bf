"""Pooling explorer: max, average or sum pooling of an input with a chosen window and
stride, showing how much smaller the output is."""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import traitlets as t

from .. import viz
from ..nn import functional as F
from .inputs import InputPicker
from .live import InputFigure, LiveExplorer, js_module

#: The book's 4x4 example: its top-left 2x2 window [[1, 3], [2, 4]] max-pools to 4.
POOL_MATRIX = np.array([[1, 3, 0, 2], [2, 4, 1, 1], [5, 0, 2, 6], [1, 2, 3, 0]], dtype=float)


class PoolingFigure(InputFigure):
    """Pools in the browser (``js/pooling.js``); ``mode`` indexes ``modes``."""

    _esm = js_module("pooling")
    modes = t.List(t.Unicode()).tag(sync=True)
    mode = t.Int(0).tag(sync=True)
    pool_size = t.Int(2).tag(sync=True)
    stride = t.Int(2).tag(sync=True)


class PoolingExplorer(LiveExplorer):
    """After any change: ``input (H, W)`` and ``result (OH, OW)``; the browser draws
    the same numbers (:class:`PoolingFigure`).

    Controls: ``picker.source``, ``picker.matrix``, ``mode`` (``"max"``, ``"avg"``,
    ``"sum"``), ``pool_size``, ``stride``.
    """

    figure_class = PoolingFigure

    def __init__(
        self,
        source: str | None = None,
        mode: str = "max",
        pool_size: int = 2,
        stride: int | None = None,
        image=None,
        matrix=None,
    ):
        self.picker = InputPicker(source, POOL_MATRIX if matrix is None else matrix, image, hide_matrix=False)
        self.mode = w.ToggleButtons(
            options=[("max", "max"), ("average", "avg"), ("sum", "sum")],
            value=mode,
            description="pooling",
            style={"button_width": "6.5em"},
            layout=w.Layout(width="auto"),
        )
        self.pool_size = w.IntSlider(value=pool_size, min=1, max=4, description="window")
        self.stride = w.IntSlider(value=stride or pool_size, min=1, max=4, description="stride")
        controls = [w.HBox(self.picker.controls), self.mode, w.HBox([self.pool_size, self.stride])]
        super().__init__(controls)
        self.view.modes = [value for _, value in self.mode.options]
        self.link_input(self.picker)
        self.link(
            mode=(self.mode, "index"), pool_size=(self.pool_size, "value"), stride=(self.stride, "value")
        )
        self.watch(self.picker.source, self.picker.matrix, self.mode, self.pool_size, self.stride)
        self.update()

    def compute(self) -> None:
        x = self.picker.value()
        out, _ = F.pool_forward(x[None, :, :, None], self.pool_size.value, self.stride.value, self.mode.value)
        self.input, self.result = x, out[0, :, :, 0]

    def alt_text(self) -> str:
        (h, wd), (oh, ow), k = self.input.shape, self.result.shape, self.pool_size.value
        return (
            f"Input {h}×{wd} and its {self.mode.label} pooled output {oh}×{ow} "
            f"({k}×{k} window, stride {self.stride.value})."
        )

    def draw(self, fig) -> None:
        x, out = self.input, self.result
        k = self.pool_size.value
        ax_in, ax_out = fig.subplots(1, 2)
        name = {"max": "max", "avg": "average", "sum": "sum"}[self.mode.value]
        viz.draw_array(ax_in, x, f"input {x.shape[0]}×{x.shape[1]}", highlight=(0, 0, k, k))
        viz.draw_array(ax_out, out, f"{name} pooled {out.shape[0]}×{out.shape[1]}", highlight=(0, 0, 1, 1))
