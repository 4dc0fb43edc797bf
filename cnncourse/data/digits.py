"""Handwritten digits that work offline.

``load_digits`` turns scikit-learn's 8x8 handwritten digits (shipped inside the package,
no download) into MNIST-like 28x28x1 images with a seeded train/validation/test split.
"""

from __future__ import annotations

import numpy as np

from .splits import Dataset, split_dataset, split_fractions


def load_digits(
    size: int = 28, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """scikit-learn's 1,797 handwritten digits as ``(N, size, size, 1)`` float32 images.

    Each 8x8 image (values 0..16) is scaled to [0, 1], enlarged to ``20/28 * size``
    pixels with bilinear interpolation and centred on a ``size`` x ``size`` black
    canvas, the way MNIST centres its 20x20 digits. ``size=8`` returns the originals.
    The split is stratified by class and fixed by ``seed``.
    """
    from sklearn.datasets import load_digits as sk_digits

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8; got {size!r}")
    split_fractions(val_fraction, test_fraction)  # fail before the work
    raw = sk_digits()
    images = raw.images.astype(np.float32) / 16.0
    if size != 8:
        images = _enlarge_centred(images, size)
    return split_dataset(
        images[..., None],
        raw.target.astype(np.int64),
        [str(d) for d in range(10)],
        val_fraction,
        test_fraction,
        seed,
    )


def _enlarge_centred(images: np.ndarray, size: int) -> np.ndarray:
    """``(N, 8, 8)`` -> ``(N, size, size)``: resize the digit to ``round(size*20/28)`` and pad."""
    from skimage.transform import resize

    inner = max(8, round(size * 20 / 28))
    big = resize(images, (len(images), inner, inner), order=1, mode="edge", anti_aliasing=False).astype(
        np.float32
    )
    out = np.zeros((len(images), size, size), dtype=np.float32)
    top = (size - inner) // 2
    out[:, top : top + inner, top : top + inner] = np.clip(big, 0, 1)
    return out
