"""Datasets for the course. Everything but the downloads works offline, and importing this
package never imports TensorFlow.

- :func:`load_digits`: scikit-learn's handwritten digits as 28x28x1 images, split by seed
- :func:`make_shapes`, :func:`load_shapes`: synthetic coloured shapes, any number, with
  optional segmentation masks and bounding boxes
- :func:`make_signals`, :func:`load_signals`: synthetic 1D signals (sine, burst, chirp,
  square); :func:`make_token_sequences`: token sequences labelled by a motif
- :func:`augment_image`, :func:`random_augment`: rotations, shifts, zooms and flips in NumPy
- :func:`sample_image`: real photographs shipped with scikit-image / scikit-learn
- :func:`load_mnist`, :func:`load_fashion_mnist`, :func:`load_cifar10`: downloaded once
  through Keras' cache; a clear :class:`DatasetUnavailableError` offline
"""

from .augment import augment_image, random_augment
from .digits import Dataset, Split, load_digits
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

__all__ = [
    "EXTRA_SHAPES", "SAMPLE_IMAGES", "SHAPE_NAMES", "SIGNAL_CLASSES", "Dataset",
    "DatasetUnavailableError", "Shapes", "Signals", "Split", "augment_image", "default_cache_dir",
    "describe_sample_images", "load_cifar10", "load_digits", "load_fashion_mnist", "load_mnist",
    "load_shapes", "load_signals", "make_shapes", "make_signals", "make_token_sequences",
    "mask_boxes", "random_augment", "sample_image",
]
