"""Data augmentation preview: random rotations, shifts, zooms and flips of one image, the
way a training pipeline would show it to a network, epoch after epoch.

The geometric transform is plain NumPy (inverse mapping with bilinear interpolation, black
outside the image), so this module does not import TensorFlow; the Keras equivalent is
:func:`cnncourse.keras.train.augmentation`.
"""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np

from .. import viz
from .base import FigureExplorer
from .inputs import InputPicker


def _check_image(image, name: str = "image", batch: bool = False) -> np.ndarray:
    img = np.asarray(image)
    if not np.issubdtype(img.dtype, np.number) or np.issubdtype(img.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got dtype {img.dtype}")
    ndims = (3, 4) if batch else (2, 3)
    shapes = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
    if img.ndim not in ndims:
        raise ValueError(f"{name} must have shape {shapes}; got shape {img.shape}")
    if min(img.shape[1:3] if batch else img.shape[:2]) < 1:
        raise ValueError(f"{name} must not be empty; got shape {img.shape}")
    return img.astype(float, copy=False)


def augment_image(image, rotation: float = 0.0, shift=(0.0, 0.0), zoom: float = 1.0,
                  flip: bool = False) -> np.ndarray:
    """One geometric transform of ``image (H, W)`` or ``(H, W, C)``; same shape out, float.

    In this order: ``flip`` mirrors left-right; ``rotation`` turns by that many degrees
    counter-clockwise and ``zoom`` scales by that factor (> 1 enlarges), both about the
    image centre; ``shift = (down, right)`` moves the content by that many pixels (may be
    fractional). Pixels that come from outside the image are 0 (black); values between
    pixels are interpolated bilinearly, so whole-pixel shifts and quarter turns of a
    square image move the pixels exactly.
    """
    img = _check_image(image)
    if not (np.isscalar(zoom) and np.isreal(zoom) and zoom > 0):
        raise ValueError(f"zoom must be a positive factor (1 = unchanged); got {zoom!r}")
    try:
        dy, dx = (float(v) for v in shift)
    except (TypeError, ValueError):
        raise ValueError(f"shift must be a pair (down, right) of pixel counts; got {shift!r}") \
            from None
    return _transform(img[None], np.array([rotation], float), np.array([[dy, dx]]),
                      np.array([zoom], float), np.array([bool(flip)]))[0]


def _transform(imgs: np.ndarray, angles, shifts, zooms, flips) -> np.ndarray:
    """Every image of ``imgs (N, H, W[, C])`` transformed by its own ``angles (N,)``
    (degrees), ``shifts (N, 2)`` (pixels), ``zooms (N,)`` and ``flips (N,)``, at once."""
    n, h, w_ = imgs.shape[:3]
    imgs = np.where(flips.reshape((n,) + (1,) * (imgs.ndim - 1)), imgs[:, :, ::-1], imgs)
    cy, cx = (h - 1) / 2, (w_ - 1) / 2
    theta = np.radians(angles)[:, None, None]
    cos, sin = np.cos(theta) / zooms[:, None, None], np.sin(theta) / zooms[:, None, None]
    # Inverse map: output pixel p reads the input at (zoom R(theta))^-1 (p - centre - shift).
    r = np.arange(h)[None, :, None] - cy - shifts[:, 0, None, None]
    c = np.arange(w_)[None, None, :] - cx - shifts[:, 1, None, None]
    src_r = np.round(cos * r + sin * c + cy, 9)  # rounding snaps exact turns onto pixels
    src_c = np.round(-sin * r + cos * c + cx, 9)
    return _bilinear(imgs, src_r, src_c)


def _bilinear(imgs: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``imgs (N, H, W[, C])`` sampled at fractional ``rows, cols (N, H, W)``; 0 outside."""
    n, h, w_ = imgs.shape[:3]
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    index = np.arange(n)[:, None, None]
    out = np.zeros(imgs.shape)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            rr, cc = r0 + dr, c0 + dc
            inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w_)
            weight = np.where(inside, wr * wc, 0.0)
            value = imgs[index, np.clip(rr, 0, h - 1), np.clip(cc, 0, w_ - 1)]
            out += (weight[..., None] if imgs.ndim == 4 else weight) * value
    return out


def random_augment(images, rotation: float = 15.0, shift: float = 0.1, zoom: float = 0.1,
                   flip: bool = False, seed=0) -> tuple[np.ndarray, list[dict]]:
    """A random transform of each image of ``images (N, H, W)`` or ``(N, H, W, C)``.

    Each copy gets an angle uniform in ``[-rotation, rotation]`` degrees, a shift uniform
    in ``[-shift, shift]`` times the height (down) and the width (right), a zoom factor
    uniform in ``[1 - zoom, 1 + zoom]`` and, if ``flip``, a left-right mirror with
    probability 1/2. ``seed``: an int or a ``np.random.Generator``; the same seed gives the
    same copies. Returns ``(augmented (same shape, float), params)``, one dict of
    :func:`augment_image` keyword arguments per image.
    """
    imgs = _check_image(images, "images", batch=True)
    if not 0 <= rotation <= 180:
        raise ValueError(f"rotation must be a maximum angle in degrees in [0, 180]; got {rotation}")
    if not 0 <= shift < 1:
        raise ValueError(f"shift must be a fraction of the image size in [0, 1); got {shift}")
    if not 0 <= zoom < 1:
        raise ValueError(f"zoom must be a fraction in [0, 1) (0.1 = 90% to 110%); got {zoom}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n, h, w_ = imgs.shape[:3]
    angles = rng.uniform(-rotation, rotation, n)
    shifts = rng.uniform(-shift, shift, (n, 2)) * (h, w_)
    zooms = rng.uniform(1 - zoom, 1 + zoom, n)
    flips = rng.random(n) < 0.5 if flip else np.zeros(n, bool)
    params = [{"rotation": float(a), "shift": (float(s[0]), float(s[1])), "zoom": float(z),
               "flip": bool(f)} for a, s, z, f in zip(angles, shifts, zooms, flips, strict=True)]
    return _transform(imgs, angles, shifts, zooms, flips), params


class AugmentationExplorer(FigureExplorer):
    """The chosen image and ``copies`` random augmentations of it.

    After any change: ``input (H, W)``, ``images (copies, H, W)`` and ``params`` (one dict
    of :func:`augment_image` arguments per copy). Controls: ``picker.source``,
    ``picker.matrix``, ``rotation`` (max degrees), ``shift`` and ``zoom`` (max fractions),
    ``flip``, ``seed``. The same settings and seed always give the same copies. Each copy's
    title gives its angle, zoom factor and shift ``(down, right)`` in pixels.
    """

    figsize = (9.0, 3.9)

    def __init__(self, source: str | None = "digit", rotation: float = 15.0, shift: float = 0.1,
                 zoom: float = 0.1, flip: bool = False, seed: int = 0, copies: int = 9,
                 image=None, matrix=None):
        if not isinstance(copies, int) or not 1 <= copies <= 19:
            raise ValueError(f"copies must be an int from 1 to 19; got {copies!r}")
        if source is None or image is not None:
            source = None  # InputPicker then shows the caller's image
        matrix = np.eye(6) if matrix is None else matrix
        self.picker = InputPicker(source, matrix, image)
        self.copies = copies
        self.rotation = w.FloatSlider(value=rotation, min=0, max=180, step=5,
                                      description="rotation ±°")
        self.shift = w.FloatSlider(value=shift, min=0, max=0.5, step=0.05,
                                   description="shift ±")
        self.zoom = w.FloatSlider(value=zoom, min=0, max=0.5, step=0.05, description="zoom ±")
        self.flip = w.Checkbox(value=flip, description="random left-right flip", indent=False)
        self.seed = w.IntSlider(value=seed, min=0, max=99, description="seed")
        controls = [w.HBox(self.picker.controls), w.HBox([self.rotation, self.shift]),
                    w.HBox([self.zoom, self.seed]), self.flip]
        super().__init__(controls)
        self.watch(self.picker.source, self.picker.matrix, self.rotation, self.shift,
                   self.zoom, self.flip, self.seed)
        self.update()

    def compute(self) -> None:
        x = self.picker.value()
        batch = np.repeat(x[None], self.copies, axis=0)
        self.input = x
        self.images, self.params = random_augment(batch, self.rotation.value, self.shift.value,
                                                  self.zoom.value, self.flip.value,
                                                  self.seed.value)

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
            title = (f"{p['rotation']:+.0f}°, ×{p['zoom']:.2f}" + (", flipped" if p["flip"] else "")
                     + f"\nshift ({p['shift'][0]:+.1f}, {p['shift'][1]:+.1f})")
            viz.draw_image(ax, np.clip((img - lo) / scale, 0, 1), title)
            ax.title.set_fontsize(8)
        for ax in axes[n:]:
            ax.axis("off")

    def describe(self) -> str:
        h, w_ = self.input.shape
        return (f"{self.copies} random copies of a {h}×{w_} image: angle in "
                f"±{self.rotation.value:g}°, shift up to ±{self.shift.value * h:.1f} px down and "
                f"±{self.shift.value * w_:.1f} px right, zoom ×{1 - self.zoom.value:.2f} to "
                f"×{1 + self.zoom.value:.2f}{', flipped with probability 1/2' if self.flip.value else ''}"
                f". Same seed, same copies; the label stays the same.")
