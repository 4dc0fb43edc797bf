"""Handwritten digits that work offline, and the ``Split`` / ``Dataset`` containers.

``load_digits`` turns scikit-learn's 8x8 handwritten digits (shipped inside the package,
no download) into MNIST-like 28x28x1 images with a seeded train/validation/test split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """Images ``x (N, H, W, C)`` float32 in [0, 1] and integer labels ``y (N,)``."""

    x: np.ndarray
    y: np.ndarray

    def __iter__(self):  # allows ``x, y = split``
        return iter((self.x, self.y))

    def __len__(self):
        return len(self.y)


@dataclass(frozen=True)
class Dataset:
    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]


def _stratified_split(y, fractions, rng):
    """Indices for each part, every class divided in the same proportions."""
    parts = [[] for _ in fractions]
    cuts = np.cumsum(fractions)[:-1]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        bounds = np.round(cuts * len(idx)).astype(int)
        for part, chunk in zip(parts, np.split(idx, bounds), strict=True):
            part.extend(chunk)
    return [rng.permutation(np.array(p, dtype=np.int64)) for p in parts]


def split_fractions(val_fraction: float, test_fraction: float) -> list[float]:
    """``[train, val, test]`` fractions; a ``ValueError`` unless they make a valid split."""
    if not (0 <= val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"fractions must be in [0, 1) and sum below 1; got val={val_fraction}, "
                         f"test={test_fraction}")
    return [1 - val_fraction - test_fraction, val_fraction, test_fraction]


def split_dataset(x, y, class_names, val_fraction: float = 0.1, test_fraction: float = 0.2,
                  seed: int = 0) -> Dataset:
    """``x`` (N, ...) and ``y`` (N,) split into train / validation / test, every class in the
    same proportions, fixed by ``seed``."""
    fractions = split_fractions(val_fraction, test_fraction)
    parts = _stratified_split(y, fractions, np.random.default_rng(seed))
    train, val, test = (Split(x[i], y[i]) for i in parts)
    return Dataset(train, val, test, tuple(class_names))


def load_digits(size: int = 28, val_fraction: float = 0.1, test_fraction: float = 0.2,
                seed: int = 0) -> Dataset:
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
    return split_dataset(images[..., None], raw.target.astype(np.int64),
                         [str(d) for d in range(10)], val_fraction, test_fraction, seed)


def _enlarge_centred(images: np.ndarray, size: int) -> np.ndarray:
    """``(N, 8, 8)`` -> ``(N, size, size)``: resize the digit to ``round(size*20/28)`` and pad."""
    from skimage.transform import resize

    inner = max(8, round(size * 20 / 28))
    big = resize(images, (len(images), inner, inner), order=1, mode="edge",
                 anti_aliasing=False).astype(np.float32)
    out = np.zeros((len(images), size, size), dtype=np.float32)
    top = (size - inner) // 2
    out[:, top:top + inner, top:top + inner] = np.clip(big, 0, 1)
    return out
