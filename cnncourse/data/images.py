"""Real photographs that ship inside scikit-image and scikit-learn (no download).

>>> cat = sample_image("cat")          # (300, 451, 3) float32 in [0, 1]
>>> coins = sample_image("coins")      # (303, 384) float32, grayscale
"""

from __future__ import annotations

import numpy as np

# name -> (library, loader name, what it shows)
_IMAGES = {
    "cat": ("skimage", "chelsea", "Chelsea the cat, colour"),
    "astronaut": ("skimage", "astronaut", "astronaut Eileen Collins, colour"),
    "camera": ("skimage", "camera", "the classic cameraman, grayscale"),
    "coins": ("skimage", "coins", "Greek coins on a dark background, grayscale"),
    "coffee": ("skimage", "coffee", "a cup of coffee, colour"),
    "rocket": ("skimage", "rocket", "a rocket on its launch pad, colour"),
    "moon": ("skimage", "moon", "the lunar surface, grayscale"),
    "brick": ("skimage", "brick", "a brick wall texture, grayscale"),
    "grass": ("skimage", "grass", "a grass texture, grayscale"),
    "gravel": ("skimage", "gravel", "a gravel texture, grayscale"),
    "text": ("skimage", "text", "handwritten and printed text, grayscale"),
    "page": ("skimage", "page", "a scanned page of a book, grayscale"),
    "clock": ("skimage", "clock", "a wall clock, grayscale"),
    "horse": ("skimage", "horse", "a horse silhouette, binary"),
    "checkerboard": ("skimage", "checkerboard", "a checkerboard pattern, grayscale"),
    "hubble": ("skimage", "hubble_deep_field", "the Hubble deep field, colour"),
    "cells": ("skimage", "immunohistochemistry", "stained tissue under a microscope, colour"),
    "retina": ("skimage", "retina", "a human retina, colour"),
    "china": ("sklearn", "china.jpg", "a temple in China, colour"),
    "flower": ("sklearn", "flower.jpg", "a flower, colour"),
}
_ALIASES = {"chelsea": "cat", "cameraman": "camera"}

SAMPLE_IMAGES = tuple(_IMAGES)


def sample_image(name: str, gray: bool = False, size=None) -> np.ndarray:
    """A real photograph as a float32 array in [0, 1].

    name: one of :data:`SAMPLE_IMAGES` (``"cat"``, ``"astronaut"``, ``"camera"``,
    ``"coins"``, ...). Colour images are ``(H, W, 3)``, grayscale ones ``(H, W)``.
    gray: convert colour to grayscale ``(H, W)`` (luminance weights of ITU-R 709).
    size: ``None`` keeps the original size; an int ``s`` gives ``(s, s)``, a pair
    ``(h, w)`` that shape (resized with anti-aliasing).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string; got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _IMAGES:
        raise ValueError(f"unknown sample image {name!r}; choose one of {', '.join(_IMAGES)}")
    library, loader, _ = _IMAGES[key]
    if library == "skimage":
        import skimage.data

        raw = getattr(skimage.data, loader)()
    else:
        from sklearn.datasets import load_sample_image

        raw = load_sample_image(loader)
    img = _to_float(raw)
    if gray and img.ndim == 3:
        from skimage.color import rgb2gray

        img = rgb2gray(img).astype(np.float32)
    if size is not None:
        img = _resize(img, size)
    return img


def describe_sample_images() -> dict[str, str]:
    """``{name: what the picture shows}`` for every sample image."""
    return {name: info[2] for name, info in _IMAGES.items()}


def _to_float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == bool:
        return raw.astype(np.float32)
    if raw.dtype == np.uint8:
        img = raw.astype(np.float32) / 255.0
    else:
        img = np.clip(raw, 0, 1).astype(np.float32)
    if img.ndim == 3 and img.shape[2] == 4:  # drop an alpha channel
        img = img[..., :3]
    return img


def _resize(img: np.ndarray, size) -> np.ndarray:
    from skimage.transform import downscale_local_mean, resize

    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        shape = (int(size), int(size))
    elif (
        isinstance(size, tuple | list)
        and len(size) == 2
        and all(isinstance(s, int | np.integer) for s in size)
    ):
        shape = (int(size[0]), int(size[1]))
    else:
        raise TypeError(f"size must be None, an int or a pair (h, w) of ints; got {size!r}")
    if min(shape) < 1:
        raise ValueError(f"size must be positive; got {size!r}")
    # Block means first: a large Gaussian anti-aliasing filter is slow on big photos.
    factor = min(img.shape[0] // shape[0], img.shape[1] // shape[1])
    if factor >= 2:
        img = downscale_local_mean(img, (factor, factor) + (1,) * (img.ndim - 2))
    out = resize(img, shape + img.shape[2:], anti_aliasing=True, preserve_range=True)
    return np.clip(out, 0, 1).astype(np.float32)
