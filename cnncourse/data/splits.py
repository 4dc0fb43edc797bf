"""The containers every dataset of the course comes in, and seeded stratified splits.

A :class:`Split` is images ``x`` and labels ``y`` (it unpacks as ``x, y = split``); a
:class:`Dataset` is three splits and the class names. :func:`split_dataset` divides
arrays into train / validation / test with every class in the same proportions.
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


def stratified_split(y, fractions, rng: np.random.Generator) -> list[np.ndarray]:
    """Indices into ``y`` for each part, every class divided in the same proportions.

    fractions: one fraction per part, summing to 1 (e.g. ``[0.7, 0.1, 0.2]``); rng: the
    NumPy generator that shuffles each class and then each part. Returns one int64 index
    array per part, in shuffled order.
    """
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
        raise ValueError(
            f"fractions must be in [0, 1) and sum below 1; got val={val_fraction}, test={test_fraction}"
        )
    return [1 - val_fraction - test_fraction, val_fraction, test_fraction]


def split_dataset(
    x, y, class_names, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """``x`` (N, ...) and ``y`` (N,) split into train / validation / test, every class in the
    same proportions, fixed by ``seed``."""
    fractions = split_fractions(val_fraction, test_fraction)
    parts = stratified_split(y, fractions, np.random.default_rng(seed))
    train, val, test = (Split(x[i], y[i]) for i in parts)
    return Dataset(train, val, test, tuple(class_names))
