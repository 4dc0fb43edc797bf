"""Matplotlib helpers for the book and the widgets: images, matrices, kernels, feature maps
and learning curves.

Two levels:

- ``draw_*(ax, ...)`` draw onto one ``Axes`` (the widgets compose them into their figures);
- ``show_*(...)`` make a whole pyplot figure and return it;
- ``describe(fig, alt)`` displays a figure with its alternative text, the sentence a screen
  reader reads instead of the picture. The book gives every figure one this way:
  ``viz.describe(viz.show_images(...), "Four photos: ...")``.

``render_png`` turns a drawing function into PNG bytes without touching pyplot's global
state, which is what the widgets display. Images are ``(H, W)`` grayscale or ``(H, W, 3)``
RGB with values in ``[0, 1]`` (photos come from ``cnncourse.data.sample_image``); feature
maps are ``(H, W, C)``.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Every colour map the course draws with, and why it reads well for readers with the
# common colour-vision deficiencies (red-green: deuteranopia, protanopia; blue-yellow:
# tritanopia). tests/test_colour_maps.py fails on any other map in the package or the book.
COLOUR_MAPS = {
    "gray": "photos and digits: lightness only, no hue to confuse",
    "Blues": "non-negative matrices: one hue, the value is the lightness",
    "RdBu_r": (
        "signed values (kernels, edge responses, gradients): blue below zero, red above, white "
        "at zero; the two sides also differ in lightness, so they stay apart without hue "
        "(ColorBrewer rates RdBu colour-blind safe)"
    ),
    "coolwarm": "signed class probabilities in 2-D: a blue-red diverging map like RdBu_r",
    "viridis": (
        "feature maps: perceptually uniform and designed to be read with colour-vision "
        "deficiencies, lightness rising steadily with the value"
    ),
    "inferno": "heat maps (saliency, Grad-CAM, occlusion): like viridis, dark to bright",
}

# --------------------------------------------------------------------------- figures


class DescribedFigure:
    """A rendered figure and its alternative text, displayed as a PNG whose output metadata
    carries the text (``{"image/png": {"alt": ...}}``); the book's myst-nb renderer
    (:mod:`cnncourse.mystnb_renderer`) writes it into the page's ``<img alt>``. Front ends
    that show only text show the description.
    """

    def __init__(self, png: bytes, alt: str):
        self.png, self.alt = png, alt

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.alt}
        return data, {"image/png": {"alt": self.alt}}


def describe(fig: Figure, alt: str) -> None:
    """Display ``fig`` now, with ``alt`` as its alternative text, and close it (so Jupyter
    does not show it a second time at the end of the cell).

    ``alt`` says what the figure shows and what to notice, in a sentence or two; never a
    file name. It should carry the numbers the picture conveys.
    """
    alt = " ".join(str(alt).split())
    if not alt:
        raise ValueError("a figure needs alternative text: say what it shows")
    from IPython.display import display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    _close(fig)
    display(DescribedFigure(buf.getvalue(), alt))


def _close(fig: Figure) -> None:
    """Close a pyplot figure (one made without pyplot needs nothing)."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)


def render_png(draw: Callable[[Figure], object], figsize=(9.0, 3.2), dpi: int = 80) -> bytes:
    """Call ``draw(fig)`` on a fresh off-screen figure and return it as PNG bytes."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    draw(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08)
    return buf.getvalue()


def _pyplot_figure(figsize):
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize)


def _grid_shape(n: int, ncols: int | None) -> tuple[int, int]:
    ncols = ncols or min(n, 8)
    return math.ceil(n / ncols), ncols


# --------------------------------------------------------------------------- axes level


def draw_image(ax, img, title: str | None = None, cmap: str = "gray", signed: bool = False):
    """An image without ticks. ``signed=True`` centres a red/blue colour map on zero, so
    negative responses (e.g. of an edge detector) are blue and positive ones red."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 3:
        ax.imshow(np.clip(img, 0, 1))
    elif signed:  # clip the rare extremes so typical responses stay visible
        lim = float(np.percentile(np.abs(img), 99.5)) or float(np.abs(img).max()) or 1.0
        ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
    else:
        ax.imshow(img, cmap=cmap)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def readable_on(rgba) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with the colour ``rgba`` (floats
    in ``[0, 1]``): at least 4.58:1 on any background, above WCAG 2.1 AA's 4.5:1 for text."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def _number(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:.1f}"


def draw_matrix(
    ax, m, title: str | None = None, cmap: str | None = None, annotate: bool = True, highlight=None
):
    """A small 2-D array as coloured cells with its numbers written in.

    highlight: optional ``(row, col, height, width)`` rectangle drawn in orange (a window).
    Signed arrays get a colour map centred on zero.
    """
    from matplotlib.patches import Rectangle

    m = np.asarray(m, dtype=float)
    signed = m.min() < 0
    lim = float(np.abs(m).max()) or 1.0
    if cmap is None:
        cmap = "RdBu_r" if signed else "Blues"
    vmin, vmax = (-lim, lim) if signed else (0.0, lim)
    ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax)
    if annotate:
        size = 10 if max(m.shape) <= 6 else 8 if max(m.shape) <= 9 else 6
        colours = matplotlib.colormaps[cmap]((m - vmin) / (vmax - vmin))
        for (i, j), v in np.ndenumerate(m):
            ax.text(
                j, i, _number(v), ha="center", va="center", fontsize=size, color=readable_on(colours[i, j])
            )
    ax.set_xticks(np.arange(-0.5, m.shape[1], 1), minor=True)
    ax.set_yticks(np.arange(-0.5, m.shape[0], 1), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor="#f28e2b", linewidth=2.5))
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def draw_array(ax, a, title: str | None = None, max_annotated: int = 12, signed=None, highlight=None):
    """:func:`draw_matrix` with numbers for small arrays, :func:`draw_image` for big ones."""
    a = np.asarray(a)
    if max(a.shape[:2]) <= max_annotated and a.ndim == 2:
        return draw_matrix(ax, a, title, highlight=highlight)
    if signed is None:
        signed = a.ndim == 2 and a.min() < 0
    return draw_image(ax, a, title, signed=signed)


def draw_history(ax_loss, ax_acc, history: dict, batches: Sequence | None = None):
    """Loss and accuracy curves per epoch (``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy`` lists, like ``History.history``). batches: optional
    ``(step_in_epochs, loss, accuracy)`` tuples drawn faintly behind."""
    if batches:
        steps, losses, accs = (np.asarray(v, dtype=float) for v in zip(*batches, strict=True))
        ax_loss.plot(steps, losses, color="C0", alpha=0.25, linewidth=1, label="batch")
        ax_acc.plot(steps, accs, color="C0", alpha=0.25, linewidth=1, label="batch")
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        for name, colour in ((key, "C0"), (f"val_{key}", "C1")):
            values = history.get(name, [])
            if values:
                epochs = np.arange(1, len(values) + 1)
                label = "validation" if name.startswith("val_") else "training"
                ax.plot(epochs, values, "o-", color=colour, label=label, markersize=4)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs, not 1.25
        ax.set_title(key, fontsize=10)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    ax_acc.set_ylim(0, 1.02)
    return ax_loss, ax_acc


def matrix_text(array) -> str:
    """A small array as words for alternative text, written like a nested list with
    numbers as ``:g`` gives them: ``[[1, 3], [2, 4.5]]`` (``-0`` is written ``0``)."""
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{float(array) + 0.0:g}"  # adding 0.0 turns -0.0 into 0.0
    return "[" + ", ".join(matrix_text(row) for row in array) + "]"


def describe_history(history: dict) -> str:
    """Learning curves in words, for alternative text: the number of epochs, then each
    curve's first and last value (``"training loss 2.30 to 0.41, ..."``)."""
    history = getattr(history, "history", history)
    curves = []
    for key in ("loss", "accuracy"):
        for name, label in ((key, "training"), (f"val_{key}", "validation")):
            values = history.get(name, [])
            if values:
                fmt = ".0%" if key == "accuracy" else ".3g"
                curves.append(f"{label} {key} {values[0]:{fmt}} to {values[-1]:{fmt}}")
    epochs = max((len(v) for v in history.values()), default=0)
    if not curves:
        return "Loss and accuracy per epoch: no data yet."
    return f"Loss and accuracy over {epochs} epoch{'s' if epochs != 1 else ''}: {', '.join(curves)}."


def draw_feature_maps(fig, maps, max_channels: int = 64, ncols: int | None = None, title: str | None = None):
    """Every channel of ``maps (H, W, C)`` as a grid of small images on ``fig``."""
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (H, W, C); got shape {maps.shape}")
    c = min(maps.shape[-1], max_channels)
    rows, cols = _grid_shape(c, ncols)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < c:
            draw_image(ax, maps[..., k], f"{k}", cmap="viridis")
            ax.title.set_fontsize(7)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return axes


# --------------------------------------------------------------------------- figure level


def show_images(
    images,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 2.0,
    signed: bool = False,
    suptitle: str | None = None,
):
    """A grid of images ``(N, H, W[, C])`` (or a list of differently sized ones)."""
    n = len(images)
    rows, cols = _grid_shape(n, ncols)
    fig = _pyplot_figure((size * cols, size * rows + (0.3 if suptitle else 0)))
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < n:
            draw_image(ax, images[k], titles[k] if titles else None, signed=signed)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_matrices(matrices, titles: Sequence[str] | None = None, size: float = 2.4):
    """Small arrays side by side with their numbers, e.g. ``input, kernel, output``."""
    fig = _pyplot_figure((size * len(matrices), size))
    axes = fig.subplots(1, len(matrices), squeeze=False)[0]
    for k, (ax, m) in enumerate(zip(axes, matrices, strict=True)):
        draw_matrix(ax, m, titles[k] if titles else None)
    fig.tight_layout()
    return fig


def show_feature_maps(
    maps, max_channels: int = 64, ncols: int | None = None, title: str | None = None, size: float = 1.1
):
    """Every channel of ``maps (H, W, C)`` in a grid."""
    c = min(np.shape(maps)[-1], max_channels)
    rows, cols = _grid_shape(c, ncols)
    fig = _pyplot_figure((size * cols, size * rows + 0.4))
    draw_feature_maps(fig, maps, max_channels, ncols, title)
    fig.tight_layout()
    return fig


def show_history(history, batches=None):
    """Loss and accuracy curves from a ``History`` (or its ``.history`` dict)."""
    history = getattr(history, "history", history)
    fig = _pyplot_figure((9, 3))
    ax_loss, ax_acc = fig.subplots(1, 2)
    draw_history(ax_loss, ax_acc, history, batches)
    fig.tight_layout()
    return fig
