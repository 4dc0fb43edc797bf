"""Geometric data augmentation in NumPy: rotations, shifts, zooms and flips of images.

Inverse mapping with bilinear interpolation, black outside the image; a whole batch is
transformed at once. It is what :class:`cnncourse.widgets.AugmentationExplorer` shows and
what the NumPy training loops of the book use; the Keras equivalent (preprocessing
layers inside a ``tf.data`` pipeline) is :func:`cnncourse.keras.training.augmentation`.
"""

from __future__ import annotations

import numpy as np


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


def augment_image(
    image, rotation: float = 0.0, shift=(0.0, 0.0), zoom: float = 1.0, flip: bool = False
) -> np.ndarray:
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
        raise ValueError(f"shift must be a pair (down, right) of pixel counts; got {shift!r}") from None
    return _transform(
        img[None],
        np.array([rotation], float),
        np.array([[dy, dx]]),
        np.array([zoom], float),
        np.array([bool(flip)]),
    )[0]


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


def random_augment(
    images, rotation: float = 15.0, shift: float = 0.1, zoom: float = 0.1, flip: bool = False, seed=0
) -> tuple[np.ndarray, list[dict]]:
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
    params = [
        {"rotation": float(a), "shift": (float(s[0]), float(s[1])), "zoom": float(z), "flip": bool(f)}
        for a, s, z, f in zip(angles, shifts, zooms, flips, strict=True)
    ]
    return _transform(imgs, angles, shifts, zooms, flips), params
