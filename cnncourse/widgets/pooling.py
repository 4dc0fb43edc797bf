"""Pooling explorer: max, average or sum pooling of an input with a chosen window and
stride, showing how much smaller the output is."""

from __future__ import annotations

import ipywidgets as w
import numpy as np

from .. import viz
from ..nn import functional as F
from .base import FigureExplorer
from .inputs import InputPicker

#: The book's 4x4 example: its top-left 2x2 window [[1, 3], [2, 4]] max-pools to 4.
POOL_MATRIX = np.array([[1, 3, 0, 2], [2, 4, 1, 1], [5, 0, 2, 6], [1, 2, 3, 0]], dtype=float)


class PoolingExplorer(FigureExplorer):
    """After any change: ``input (H, W)`` and ``result (OH, OW)``.

    Controls: ``picker.source``, ``picker.matrix``, ``mode`` (``"max"``, ``"avg"``,
    ``"sum"``), ``pool_size``, ``stride``.
    """

    def __init__(
        self,
        source: str | None = None,
        mode: str = "max",
        pool_size: int = 2,
        stride: int | None = None,
        image=None,
        matrix=None,
    ):
        self.picker = InputPicker(source, POOL_MATRIX if matrix is None else matrix, image)
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
        self.watch(self.picker.source, self.picker.matrix, self.mode, self.pool_size, self.stride)
        self.update()

    def compute(self) -> None:
        x = self.picker.value()
        out, _ = F.pool_forward(x[None, :, :, None], self.pool_size.value, self.stride.value, self.mode.value)
        self.input, self.result = x, out[0, :, :, 0]

    def draw(self, fig) -> None:
        x, out = self.input, self.result
        k = self.pool_size.value
        ax_in, ax_out = fig.subplots(1, 2)
        name = {"max": "max", "avg": "average", "sum": "sum"}[self.mode.value]
        viz.draw_array(ax_in, x, f"input {x.shape[0]}×{x.shape[1]}", highlight=(0, 0, k, k))
        viz.draw_array(ax_out, out, f"{name} pooled {out.shape[0]}×{out.shape[1]}", highlight=(0, 0, 1, 1))

    def describe(self) -> str:
        x, out = self.input, self.result
        share = out.size / x.size
        return (
            f"{x.size} values in, {out.size} out ({share:.0%} of the memory and of the "
            f"work for the next layer); output side ⌊({x.shape[0]} − {self.pool_size.value})"
            f" / {self.stride.value}⌋ + 1 = <b>{out.shape[0]}</b>"
        )
