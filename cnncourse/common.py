"""Small helpers that more than one subpackage needs (``nn``, ``data``, ``keras``).

Keeping them here lets ``data`` and ``keras`` share them without importing each other.
Nothing in this module imports TensorFlow.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path


def positive_int(value, name: str) -> int:
    """``value`` as an int if it is a whole number >= 1 (not a bool), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def keras_cache_dir() -> Path:
    """Where Keras caches downloads (datasets, weights): ``$KERAS_HOME`` if set, else
    ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
