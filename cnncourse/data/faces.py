"""Real photographs that ship offline: faces and non-faces from Labeled Faces in the Wild.

scikit-image includes ``lfw_subset``: 200 grayscale 25x25 crops, 100 faces (centred
portraits from the LFW benchmark) and 100 non-faces (patches of the same photographs'
backgrounds). It is small, but it is real camera data, with lighting, pose and
expression varying, unlike the course's digits and synthetic shapes.

One shortcut is worth knowing: the non-face patches are darker and flatter on average,
so brightness alone separates the classes three times out of four (a logistic
regression on each image's mean and standard deviation scores about 0.75 in 5-fold
cross-validation). ``contrast="stretch"`` (the default) maps every image's darkest pixel
to 0 and brightest to 1, which takes most of that cue away (about 0.66) while keeping
the picture.
"""

from __future__ import annotations

import numpy as np

from .splits import Dataset, split_dataset, split_fractions

FACE_CLASSES = ("non-face", "face")
CONTRASTS = ("stretch", "original")


def load_faces(
    size: int = 25,
    contrast: str = "stretch",
    val_fraction: float = 0.15,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> Dataset:
    """scikit-image's LFW subset as ``(N, size, size, 1)`` float32 images in [0, 1];
    labels 1 for a face and 0 for a non-face (``FACE_CLASSES``).

    ``size``: 25 keeps the crops as shipped; larger sizes enlarge them with bilinear
    interpolation (for networks that expect bigger inputs). ``contrast``: ``"stretch"``
    rescales each image to the full [0, 1] range (see the module docstring), ``"original"``
    keeps the values as shipped. The split is stratified (as many faces as non-faces in
    each part) and fixed by ``seed``: with the defaults 120 / 30 / 50 images.
    """
    from skimage.data import lfw_subset

    if not isinstance(size, int) or size < 25:
        raise ValueError(f"size must be an int >= 25; got {size!r}")
    if contrast not in CONTRASTS:
        raise ValueError(f"contrast must be one of {CONTRASTS}; got {contrast!r}")
    split_fractions(val_fraction, test_fraction)  # fail before the work
    images = lfw_subset().astype(np.float32)  # (200, 25, 25): 100 faces, then 100 non-faces
    labels = np.repeat(np.array([1, 0], dtype=np.int64), len(images) // 2)
    if contrast == "stretch":
        low = images.min(axis=(1, 2), keepdims=True)
        high = images.max(axis=(1, 2), keepdims=True)
        images = (images - low) / np.maximum(high - low, 1e-6)
    if size != 25:
        from skimage.transform import resize

        images = resize(images, (len(images), size, size), order=1, mode="edge", anti_aliasing=False)
        images = np.clip(images, 0, 1).astype(np.float32)
    return split_dataset(images[..., None], labels, FACE_CLASSES, val_fraction, test_fraction, seed)
