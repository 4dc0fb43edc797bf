"""Mixup and CutMix: train on blends of two images, with their labels blended in the
same proportion.

Both take a batch ``x (N, H, W, C)`` with one-hot (or already soft) labels ``y (N, K)``
and return a new batch and soft labels. Each image is mixed with a partner from the same
batch (a random permutation, so an image may now and then draw itself). One mixing weight
``lam`` is drawn per batch from ``Beta(alpha, alpha)``, as in the papers' reference code
(Keras' ``MixUp`` layer draws one per image). With :meth:`Sequential.fit
<cnncourse.nn.model.Sequential.fit>`::

    >>> from functools import partial
    >>> from cnncourse.nn.mixing import mixup, one_hot
    >>> model.fit(x, one_hot(y, 10), augment=partial(mixup, alpha=0.2))  # doctest: +SKIP

- **Mixup** (Zhang et al., 2018): ``lam * x + (1 - lam) * x[partner]``, a see-through
  blend of the two images.
- **CutMix** (Yun et al., 2019): a box cut out of the partner is pasted over the image;
  the partner's label weight is the fraction of the image the box covers.
"""

from __future__ import annotations

import numpy as np

from .validation import as_float_array, positive_int

__all__ = ["cutmix", "cutmix_box", "mixup", "one_hot"]


def one_hot(labels, num_classes: int, dtype=np.float32) -> np.ndarray:
    """Integer labels ``(N,)`` -> one-hot rows ``(N, num_classes)`` (Keras'
    ``keras.utils.to_categorical``)."""
    num_classes = positive_int(num_classes, "num_classes")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be a 1-D array of integers; got shape {labels.shape}, dtype {labels.dtype}"
        )
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"labels must be in [0, {num_classes - 1}]; got {labels[i]} at index {i}")
    return np.eye(num_classes, dtype=dtype)[labels]


def _check_batch(x, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x, "x", 4, "(N, H, W, C)")
    y = as_float_array(y, "y")
    if y.ndim != 2:
        raise ValueError(
            f"{name} needs one-hot labels y (N, K); got shape {y.shape}; convert integer labels "
            "with cnncourse.nn.mixing.one_hot(y, num_classes)"
        )
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    return x, y


def _partners(n: int, rng: np.random.Generator, partners) -> np.ndarray:
    """Which image each one is mixed with: ``partners`` checked, or a random permutation."""
    if partners is None:
        return rng.permutation(n)
    partners = np.asarray(partners)
    if (
        partners.shape != (n,)
        or partners.dtype.kind not in "iu"
        or (partners < 0).any()
        or (partners >= n).any()
    ):
        raise ValueError(f"partners must be {n} indices in [0, {n - 1}]; got {partners!r}")
    return partners


def _mixing_weight(rng: np.random.Generator, alpha: float, lam) -> float:
    """``lam`` checked, or drawn from Beta(alpha, alpha)."""
    if lam is not None:
        if not 0 <= lam <= 1:
            raise ValueError(f"lam must be in [0, 1]; got {lam!r}")
        return float(lam)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0 (the Beta distribution's parameter); got {alpha!r}")
    return float(rng.beta(alpha, alpha))


def mixup(x, y, rng=None, alpha: float = 0.2, lam: float | None = None, partners=None):
    """Blend every image and its label with a partner's.

    x: ``(N, H, W, C)``; y: ``(N, K)`` one-hot or soft labels; rng: a
    ``numpy.random.Generator`` or a seed. alpha: ``lam ~ Beta(alpha, alpha)``; small
    alphas (0.2, the paper's choice for ImageNet) give ``lam`` near 0 or 1, so most
    images stay close to one of the two. lam, partners: fix the weight and the
    ``(N,)`` partner indices instead of drawing them (to see or test what happens).

    Returns ``(x_mix, y_mix)``: ``lam * x + (1 - lam) * x[partners]`` in ``x``'s dtype,
    and ``lam * y + (1 - lam) * y[partners]``.
    """
    x, y = _check_batch(x, y, "mixup")
    rng = np.random.default_rng(rng)
    lam = _mixing_weight(rng, alpha, lam)
    partners = _partners(len(x), rng, partners)
    x_mix = (lam * x + (1 - lam) * x[partners]).astype(x.dtype, copy=False)
    return x_mix, lam * y + (1 - lam) * y[partners]


def cutmix_box(height: int, width: int, lam: float, rng=None) -> tuple[int, int, int, int]:
    """A box to cut out for CutMix, covering about ``1 - lam`` of an image.

    Its sides are ``round(height * sqrt(1 - lam))`` and ``round(width * sqrt(1 - lam))``
    and its centre a uniformly drawn pixel; the part outside the image is cut off, so
    near a border the box is smaller. Returns ``(top, left, box_height, box_width)``.
    """
    height, width = positive_int(height, "height"), positive_int(width, "width")
    if not 0 <= lam <= 1:
        raise ValueError(f"lam must be in [0, 1]; got {lam!r}")
    rng = np.random.default_rng(rng)
    side = np.sqrt(1 - lam)
    box_h, box_w = round(height * side), round(width * side)
    centre_y, centre_x = int(rng.integers(height)), int(rng.integers(width))
    top, left = centre_y - box_h // 2, centre_x - box_w // 2
    bottom, right = min(top + box_h, height), min(left + box_w, width)
    top, left = max(top, 0), max(left, 0)
    return top, left, bottom - top, right - left


def cutmix(x, y, rng=None, alpha: float = 1.0, lam: float | None = None, partners=None, box=None):
    """Paste a box cut from each image's partner over it, and mix the labels by area.

    x: ``(N, H, W, C)``; y: ``(N, K)`` one-hot or soft labels; rng: a
    ``numpy.random.Generator`` or a seed. alpha: ``lam ~ Beta(alpha, alpha)`` (1.0, the
    paper's choice, is uniform), then :func:`cutmix_box` places a box of about
    ``1 - lam`` of the image; the same box is used for the whole batch. lam, partners,
    box: fix the weight, the ``(N,)`` partner indices or the box
    ``(top, left, box_height, box_width)`` instead of drawing them (a box replaces lam).

    Returns ``(x_mix, y_mix)``: the images with the partners' box pasted in, and
    ``(1 - a) * y + a * y[partners]`` where ``a`` is the fraction of the image inside
    the box (after clipping at the border, so labels and pixels always agree).
    """
    x, y = _check_batch(x, y, "cutmix")
    rng = np.random.default_rng(rng)
    n, height, width = x.shape[:3]
    if box is None:
        box = cutmix_box(height, width, _mixing_weight(rng, alpha, lam), rng)
    elif lam is not None:
        raise ValueError("give either lam or box, not both: the box decides the mixing weight")
    top, left, box_h, box_w = (int(v) for v in box)
    if top < 0 or left < 0 or box_h < 0 or box_w < 0 or top + box_h > height or left + box_w > width:
        raise ValueError(
            f"box (top, left, height, width) = {tuple(box)} does not fit in a {height}x{width} image"
        )
    partners = _partners(n, rng, partners)
    x_mix = x.copy()
    rows, cols = slice(top, top + box_h), slice(left, left + box_w)
    x_mix[:, rows, cols] = x[partners, rows, cols]
    area = box_h * box_w / (height * width)
    return x_mix, (1 - area) * y + area * y[partners]
