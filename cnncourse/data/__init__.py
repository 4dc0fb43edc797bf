"""Datasets for the course. Everything but the downloads works offline, and neither
importing this package nor loading any dataset imports TensorFlow or Keras.

- :class:`Split`, :class:`Dataset`, :func:`split_dataset`: the containers every loader
  returns and seeded stratified splits (:mod:`~cnncourse.data.splits`)
- :func:`load_digits`: scikit-learn's handwritten digits as 28x28x1 images, split by seed
- :func:`load_faces`: real photographs, 25x25 faces and non-faces from scikit-image's
  LFW subset, split by seed
- :func:`make_shapes`, :func:`load_shapes`: synthetic coloured shapes, any number, with
  optional segmentation masks and bounding boxes
- :func:`make_signals`, :func:`load_signals`: synthetic 1D signals (sine, burst, chirp,
  square); :func:`make_token_sequences`: token sequences labelled by a motif
- :func:`augment_image`, :func:`random_augment`: rotations, shifts, zooms and flips in NumPy
- :func:`sample_image`: real photographs shipped with scikit-image / scikit-learn
- :func:`load_mnist`, :func:`load_fashion_mnist`, :func:`load_cifar10`: downloaded once
  (``urllib``) into Keras' cache folder and layout; a clear
  :class:`DatasetUnavailableError` offline

Dependencies: ``data`` needs only NumPy, scikit-learn / scikit-image and
:mod:`cnncourse.common`; it never imports :mod:`cnncourse.keras` (nor
:mod:`cnncourse.nn`). The direction is one-way: ``keras`` may consume what ``data``
makes (a :class:`Split` unpacks to ``(x, y)``), never the reverse.
"""

from .augment import augment_image, random_augment
from .digits import load_digits
from .faces import FACE_CLASSES, load_faces
from .images import SAMPLE_IMAGES, describe_sample_images, sample_image
from .online import (
    DatasetUnavailableError,
    default_cache_dir,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
)
from .shapes import EXTRA_SHAPES, SHAPE_NAMES, Shapes, load_shapes, make_shapes, mask_boxes
from .signals import SIGNAL_CLASSES, Signals, load_signals, make_signals, make_token_sequences
from .splits import Dataset, Split, split_dataset

__all__ = [
    "EXTRA_SHAPES",
    "FACE_CLASSES",
    "SAMPLE_IMAGES",
    "SHAPE_NAMES",
    "SIGNAL_CLASSES",
    "Dataset",
    "DatasetUnavailableError",
    "Shapes",
    "Signals",
    "Split",
    "augment_image",
    "default_cache_dir",
    "describe_sample_images",
    "load_cifar10",
    "load_digits",
    "load_faces",
    "load_fashion_mnist",
    "load_mnist",
    "load_shapes",
    "load_signals",
    "make_shapes",
    "make_signals",
    "make_token_sequences",
    "mask_boxes",
    "random_augment",
    "sample_image",
    "split_dataset",
]
