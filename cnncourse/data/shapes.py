"""Synthetic shapes: an endless, deterministic image dataset drawn with NumPy.

Each image holds one shape (circle, square, triangle, star, cross or ring) with a random
colour on a random background, at a random position, scale and rotation, plus Gaussian
pixel noise. The same ``seed`` always gives the same images. Segmentation masks and
bounding boxes come with it for the detection and segmentation chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..common import positive_int
from .splits import Dataset, split_dataset, split_fractions

SHAPE_NAMES = ("circle", "square", "triangle", "star", "cross", "ring")
# More shapes for new tasks, e.g. fine-tuning a network pretrained on SHAPE_NAMES.
EXTRA_SHAPES = ("pentagon", "hexagon", "semicircle", "ellipse", "heart")

_CHUNK = 4096  # images rendered at once: bounds the temporary arrays to ~20 MB each


@dataclass(frozen=True)
class Shapes:
    """Images and labels from :func:`make_shapes`; unpacks as ``x, y = shapes``.

    x: ``(N, size, size, 3)`` (or ``1`` channel with ``gray=True``) float32 in [0, 1].
    y: ``(N,)`` int64 class indices into ``class_names``.
    masks: ``(N, size, size)`` uint8, 0 for background and ``y + 1`` on the shape, or None.
    boxes: ``(N, 4)`` float32 ``(y_min, x_min, y_max, x_max)`` in pixels, max exclusive
    (the tight box around the mask), or None.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    masks: np.ndarray | None = None
    boxes: np.ndarray | None = None

    def __iter__(self):
        return iter((self.x, self.y))

    def __len__(self):
        return len(self.y)


def make_shapes(
    n: int,
    size: int = 32,
    seed: int = 0,
    classes=SHAPE_NAMES,
    noise: float = 0.05,
    scale: tuple[float, float] = (0.25, 0.45),
    gray: bool = False,
    masks: bool = False,
    boxes: bool = False,
) -> Shapes:
    """``n`` images of one shape each, balanced over ``classes``.

    size: image height and width in pixels (>= 8). scale: the shape's outer radius as a
    fraction of ``size``, drawn uniformly from this range. noise: standard deviation of
    the Gaussian noise added to every pixel (then clipped to [0, 1]). gray: one channel
    instead of RGB. masks / boxes: also return segmentation masks / bounding boxes.
    classes: names from :data:`SHAPE_NAMES` (the default) and :data:`EXTRA_SHAPES`.
    Returns a :class:`Shapes`. 100,000 images of 32x32 take a few seconds.
    """
    n = positive_int(n, "n")
    size = positive_int(size, "size")
    if size < 8:
        raise ValueError(f"size must be >= 8 pixels; got {size}")
    classes = tuple(classes)
    unknown = [c for c in classes if c not in _INSIDE]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct names from {SHAPE_NAMES + EXTRA_SHAPES}; got {classes!r}")
    lo, hi = scale
    if not 0 < lo <= hi <= 0.5:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high <= 0.5; got {scale!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0; got {noise}")

    rng = np.random.default_rng(seed)
    channels = 1 if gray else 3
    y = rng.permutation(np.arange(n) % len(classes))
    radius = rng.uniform(lo, hi, n) * size
    cy = rng.uniform(radius, size - radius)
    cx = rng.uniform(radius, size - radius)
    angle = rng.uniform(0, 2 * np.pi, n)
    background = rng.uniform(0, 1, (n, channels))
    # Every channel of the shape differs from the background by 0.35 to 0.65.
    foreground = (background + rng.uniform(0.35, 0.65, (n, channels))) % 1.0

    x = np.empty((n, size, size, channels), dtype=np.float32)
    mask_out = np.empty((n, size, size), dtype=np.uint8) if masks or boxes else None
    noise_buf = np.empty((min(n, _CHUNK), size, size, channels), dtype=np.float32)
    centres = np.arange(size, dtype=np.float32) + 0.5
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(start + _CHUNK, n))
        # Pixel centres in the shape's frame: shifted, rotated, divided by the radius.
        r = radius[sl, None, None].astype(np.float32)
        dy = (centres[None, :, None] - cy[sl, None, None].astype(np.float32)) / r
        dx = (centres[None, None, :] - cx[sl, None, None].astype(np.float32)) / r
        cos = np.cos(angle[sl])[:, None, None].astype(np.float32)
        sin = np.sin(angle[sl])[:, None, None].astype(np.float32)
        u = cos * dx + sin * dy
        v = cos * dy - sin * dx
        inside = np.zeros(u.shape, dtype=bool)
        labels = y[sl]
        for k, name in enumerate(classes):
            idx = np.flatnonzero(labels == k)
            if len(idx):
                inside[idx] = _INSIDE[name](u[idx], v[idx])
        out = x[sl]
        out[...] = background[sl, None, None, :]
        np.copyto(out, foreground[sl, None, None, :].astype(np.float32), where=inside[..., None])
        if noise > 0:
            buf = noise_buf[: len(out)]
            rng.standard_normal(out=buf, dtype=np.float32)
            buf *= np.float32(noise)
            out += buf
            np.clip(out, 0, 1, out=out)
        if mask_out is not None:
            np.multiply(inside, (labels[:, None, None] + 1).astype(np.uint8), out=mask_out[sl])

    return Shapes(
        x=x,
        y=y.astype(np.int64),
        class_names=classes,
        masks=mask_out if masks else None,
        boxes=mask_boxes(mask_out) if boxes else None,
    )


def load_shapes(
    n: int = 6000,
    size: int = 32,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    **kwargs,
) -> Dataset:
    """:func:`make_shapes` split like :func:`~cnncourse.data.load_digits` into a
    :class:`~cnncourse.data.Dataset` (stratified by class, fixed by ``seed``).

    kwargs go to :func:`make_shapes` (``classes``, ``noise``, ``gray``, ...).
    """
    split_fractions(val_fraction, test_fraction)  # fail before the work
    data = make_shapes(n, size=size, seed=seed, **kwargs)
    return split_dataset(data.x, data.y, data.class_names, val_fraction, test_fraction, seed)


def mask_boxes(masks: np.ndarray) -> np.ndarray:
    """Tight boxes around the non-zero pixels of each mask.

    masks: ``(N, H, W)``. Returns ``(N, 4)`` float32 ``(y_min, x_min, y_max, x_max)``
    with the max exclusive; an empty mask gives ``(0, 0, 0, 0)``.
    """
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"masks must be (N, H, W); got shape {masks.shape}")
    rows = masks.any(axis=2)
    cols = masks.any(axis=1)
    h, w = masks.shape[1:]
    boxes = np.stack(
        [
            rows.argmax(axis=1),
            cols.argmax(axis=1),
            h - rows[:, ::-1].argmax(axis=1),
            w - cols[:, ::-1].argmax(axis=1),
        ],
        axis=1,
    )
    boxes[~rows.any(axis=1)] = 0
    return boxes.astype(np.float32)


# --------------------------------------------------------------------------- geometry
# Each test takes coordinates (u, v) in the shape's own frame, where the shape's outer
# radius is 1, and returns a boolean array: is the pixel inside?


def _star_inside(u, v, points: int, inner: float):
    """A star with ``points`` tips at radius 1 and notches at radius ``inner``.

    Folding the angle into one half-sector leaves a single straight edge to test,
    from the tip ``A = (1, 0)`` to the notch ``B`` at angle ``pi / points``. A regular
    polygon is the star whose notches lie on its edges, ``inner = cos(pi / points)``.
    """
    half = np.pi / points
    phi = np.mod(np.arctan2(v, u), 2 * half)
    phi = np.minimum(phi, 2 * half - phi)
    rho = np.hypot(u, v)
    px, py = rho * np.cos(phi), rho * np.sin(phi)
    bx, by = inner * np.cos(half), inner * np.sin(half)
    return (bx - 1) * py - by * (px - 1) >= 0


def _polygon_inside(u, v, sides: int):
    """Regular polygon with vertices at radius 1 (one at angle 0): inside every edge."""
    apothem = np.cos(np.pi / sides)
    inside = np.ones(u.shape, dtype=bool)
    for j in range(sides):
        normal = (2 * j + 1) * np.pi / sides
        inside &= u * np.float32(np.cos(normal)) + v * np.float32(np.sin(normal)) <= apothem
    return inside


def _cross_inside(u, v, arm: float = 0.32):
    au, av = np.abs(u), np.abs(v)
    reach = 0.95
    return ((au <= arm) & (av <= reach)) | ((av <= arm) & (au <= reach))


def _heart_inside(u, v):
    """Two discs side by side over a downward-pointing triangle."""
    lobes = ((u - 0.4) ** 2 + (v + 0.3) ** 2 <= 0.42**2) | ((u + 0.4) ** 2 + (v + 0.3) ** 2 <= 0.42**2)
    tip = (v >= -0.3) & (v <= 0.95) & (np.abs(u) <= 0.8 * (0.95 - v) / 1.25)
    return lobes | tip


_INSIDE = {
    "circle": lambda u, v: u * u + v * v <= 1.0,
    "square": lambda u, v: _polygon_inside(u, v, 4),
    "triangle": lambda u, v: _polygon_inside(u, v, 3),
    "star": lambda u, v: _star_inside(u, v, 5, 0.45),
    "cross": _cross_inside,
    "ring": lambda u, v: (u * u + v * v <= 1.0) & (u * u + v * v >= 0.55**2),
    "pentagon": lambda u, v: _polygon_inside(u, v, 5),
    "hexagon": lambda u, v: _polygon_inside(u, v, 6),
    "semicircle": lambda u, v: (u * u + v * v <= 1.0) & (v <= 0.2),
    "ellipse": lambda u, v: u * u + (v / 0.5) ** 2 <= 1.0,
    "heart": lambda u, v: _heart_inside(u, v),
}
