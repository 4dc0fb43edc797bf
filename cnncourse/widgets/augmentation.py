"""Data augmentation preview: random rotations, shifts, zooms and flips of one image, the
way a training pipeline would show it to a network, epoch after epoch (the transforms
are :mod:`cnncourse.data.augment`, plain NumPy, so this module does not import TensorFlow).
"""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np

from .. import viz
from ..data.augment import random_augment
from .base import FigureExplorer
from .inputs import InputPicker


class AugmentationExplorer(FigureExplorer):
    """The chosen image and ``copies`` random augmentations of it.

    After any change: ``input (H, W)``, ``images (copies, H, W)`` and ``params`` (one dict
    of :func:`augment_image` arguments per copy). Controls: ``picker.source``,
    ``picker.matrix``, ``rotation`` (max degrees), ``shift`` and ``zoom`` (max fractions),
    ``flip``, ``seed``. The same settings and seed always give the same copies. Each copy's
    title gives its angle, zoom factor and shift ``(down, right)`` in pixels.
    """

    figsize = (9.0, 3.9)

    def __init__(
        self,
        source: str | None = "digit",
        rotation: float = 15.0,
        shift: float = 0.1,
        zoom: float = 0.1,
        flip: bool = False,
        seed: int = 0,
        copies: int = 9,
        image=None,
        matrix=None,
    ):
        if not isinstance(copies, int) or not 1 <= copies <= 19:
            raise ValueError(f"copies must be an int from 1 to 19; got {copies!r}")
        if source is None or image is not None:
            source = None  # InputPicker then shows the caller's image
        matrix = np.eye(6) if matrix is None else matrix
        self.picker = InputPicker(source, matrix, image)
        self.copies = copies
        self.rotation = w.FloatSlider(value=rotation, min=0, max=180, step=5, description="rotation ±°")
        self.shift = w.FloatSlider(value=shift, min=0, max=0.5, step=0.05, description="shift ±")
        self.zoom = w.FloatSlider(value=zoom, min=0, max=0.5, step=0.05, description="zoom ±")
        self.flip = w.Checkbox(value=flip, description="random left-right flip", indent=False)
        self.seed = w.IntSlider(value=seed, min=0, max=99, description="seed")
        controls = [
            w.HBox(self.picker.controls),
            w.HBox([self.rotation, self.shift]),
            w.HBox([self.zoom, self.seed]),
            self.flip,
        ]
        super().__init__(controls)
        self.watch(
            self.picker.source, self.picker.matrix, self.rotation, self.shift, self.zoom, self.flip, self.seed
        )
        self.update()

    def compute(self) -> None:
        x = self.picker.value()
        batch = np.repeat(x[None], self.copies, axis=0)
        self.input = x
        self.images, self.params = random_augment(
            batch, self.rotation.value, self.shift.value, self.zoom.value, self.flip.value, self.seed.value
        )

    def draw(self, fig) -> None:
        n = self.copies + 1
        rows = 1 if n <= 5 else 2
        cols = math.ceil(n / rows)
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        lo, hi = float(self.input.min()), float(self.input.max())
        scale = (hi - lo) or 1.0
        viz.draw_image(axes[0], (self.input - lo) / scale, "original")
        axes[0].title.set_fontweight("bold")
        for ax, img, p in zip(axes[1:], self.images, self.params, strict=False):
            title = (
                f"{p['rotation']:+.0f}°, ×{p['zoom']:.2f}"
                + (", flipped" if p["flip"] else "")
                + f"\nshift ({p['shift'][0]:+.1f}, {p['shift'][1]:+.1f})"
            )
            viz.draw_image(ax, np.clip((img - lo) / scale, 0, 1), title)
            ax.title.set_fontsize(8)
        for ax in axes[n:]:
            ax.axis("off")

    def alt_text(self) -> str:
        return f"The original image, then {super().alt_text()}"

    def describe(self) -> str:
        h, w_ = self.input.shape
        return (
            f"{self.copies} random copies of a {h}×{w_} image: angle in "
            f"±{self.rotation.value:g}°, shift up to ±{self.shift.value * h:.1f} px down and "
            f"±{self.shift.value * w_:.1f} px right, zoom ×{1 - self.zoom.value:.2f} to "
            f"×{1 + self.zoom.value:.2f}{', flipped with probability 1/2' if self.flip.value else ''}"
            f". Same seed, same copies; the label stays the same."
        )
