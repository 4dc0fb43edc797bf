"""Convolution explorer: an input, a kernel (presets or your own 3x3 / 5x5 values), stride
and padding; shows input, kernel and output side by side with their shapes."""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np

from .. import viz
from ..nn import functional as F
from ..nn.validation import resolve_padding
from .base import FigureExplorer
from .inputs import InputPicker

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


class ConvolutionExplorer(FigureExplorer):
    """Slide a kernel over an input and watch the output change.

    After any change: ``input (H, W)``, ``kernel (K, K)`` (flipped if ``flip`` is ticked,
    i.e. exactly what was slid), ``result (OH, OW)``; ``pads`` is
    ``(top, bottom, left, right)``. Controls: ``picker.source``, ``picker.matrix``,
    ``preset``, ``size``, ``cells`` (``K*K`` ``FloatText``), ``flip``, ``stride``,
    ``padding``.
    """

    def __init__(
        self,
        source: str | None = None,
        kernel: str = "sobel x (vertical edges)",
        stride: int = 1,
        padding="valid",
        image=None,
        matrix=None,
    ):
        self.picker = InputPicker(source, EDGE_MATRIX if matrix is None else matrix, image)
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {list(KERNELS)}; got {kernel!r}")
        self.preset = w.Dropdown(options=[*KERNELS, "custom"], value=kernel, description="kernel")
        k = KERNELS[kernel].shape[0]
        self.size = w.ToggleButtons(
            options=[("3x3", 3), ("5x5", 5)],
            value=k,
            description="size",
            style={"button_width": "4em"},
            layout=w.Layout(width="auto"),
        )
        self.cells: list[w.FloatText] = []
        self.grid = w.GridBox(layout=w.Layout(grid_gap="2px", margin="0 0 0 90px"))
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
        self._build_cells(KERNELS[kernel])
        controls = [
            w.HBox([*self.picker.controls]),
            w.HBox([self.preset, self.size]),
            self.grid,
            w.HBox([self.stride, self.padding]),
            self.flip,
        ]
        super().__init__(controls)
        self.preset.observe(self._on_preset, names="value")
        self.size.observe(self._on_size, names="value")
        self.watch(self.picker.source, self.picker.matrix, self.flip, self.stride, self.padding)
        self.update()

    # ------------------------------------------------------------------ kernel editing

    def _build_cells(self, kernel) -> None:
        k = kernel.shape[0]
        self.cells = [
            w.FloatText(value=round(float(v), 4), layout=w.Layout(width="4.5em")) for v in kernel.ravel()
        ]
        for cell in self.cells:
            cell.observe(self._on_cell, names="value")
        self.grid.children = self.cells
        self.grid.layout.grid_template_columns = f"repeat({k}, 4.5em)"

    def _set_cells(self, kernel) -> None:
        self._holding = True
        try:
            for cell, v in zip(self.cells, np.asarray(kernel).ravel(), strict=True):
                cell.value = round(float(v), 4)
        finally:
            self._holding = False

    def _on_preset(self, change) -> None:
        if change["new"] == "custom":
            return
        kernel = KERNELS[change["new"]]
        if kernel.shape[0] > self.size.value:
            self._holding = True
            self.size.value = kernel.shape[0]  # rebuilds the cells
            self._holding = False
        self._set_cells(fit_kernel(kernel, self.size.value))
        self.update()

    def _on_size(self, change) -> None:
        preset = self.preset.value
        current = KERNELS[preset] if preset != "custom" else self._cell_values()
        self._build_cells(fit_kernel(current, change["new"]))
        if not self._holding:
            self.update()

    def _on_cell(self, _change) -> None:
        if self._holding:
            return
        preset = self.preset.value
        if preset != "custom" and not np.allclose(
            self._cell_values(), fit_kernel(KERNELS[preset], self.size.value), atol=1e-4
        ):
            self._holding = True
            self.preset.value = "custom"
            self._holding = False
        self.update()

    def kernel_values(self) -> np.ndarray:
        """The kernel, ``(K, K)``: the exact preset (the cells show it rounded to 4
        decimals), or the values typed in the cells when the preset is ``"custom"``."""
        if self.preset.value != "custom":
            return fit_kernel(KERNELS[self.preset.value], self.size.value)
        return self._cell_values()

    def _cell_values(self) -> np.ndarray:
        k = math.isqrt(len(self.cells))
        return np.array([c.value for c in self.cells], dtype=float).reshape(k, k)

    def set_kernel(self, kernel) -> None:
        """Type a ``(3, 3)`` or ``(5, 5)`` kernel into the cells (the preset becomes custom)."""
        kernel = np.asarray(kernel, dtype=float)
        if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] not in (3, 5):
            raise ValueError(f"kernel must be 3x3 or 5x5; got shape {kernel.shape}")
        self._holding = True
        self.preset.value = "custom"
        self.size.value = kernel.shape[0]
        self._holding = False
        self._set_cells(kernel)
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

    def describe(self) -> str:
        top, bottom, left, right = self.pads
        k, s = self.kernel.shape[0], self.stride.value
        parts = []
        for axis, n, pad, o in (
            ("height", self.input.shape[0], top + bottom, self.result.shape[0]),
            ("width", self.input.shape[1], left + right, self.result.shape[1]),
        ):
            parts.append(f"{axis}: ⌊({n} + {pad} − {k}) / {s}⌋ + 1 = <b>{o}</b>")
        note = (
            "the orange window times the kernel, summed, gives the orange output"
            if self._small()
            else "blue: negative response, red: positive"
            if self.result.min() < 0
            else ""
        )
        return (
            "output size ⌊(n + padding − k) / stride⌋ + 1 &mdash; "
            + "; ".join(parts)
            + (f"<br><i>{note}</i>" if note else "")
        )
