"""Datasets for the course. Everything here works offline and imports no TensorFlow.

- :func:`load_digits`: scikit-learn's handwritten digits as 28x28x1 images, split by seed
"""

from .digits import Dataset, Split, load_digits

__all__ = ["Dataset", "Split", "load_digits"]
