"""A small CNN pretrained on the synthetic shapes, shipped with the package, and the
ImageNet models of ``keras.applications`` for when there is a network.

>>> model = load_pretrained()                    # 6 shapes, 32x32x3 -> (N, 6)
>>> model = load_pretrained(num_classes=5)       # new head for a new task, to fine-tune
>>> model = imagenet_model("MobileNetV2")        # downloads ImageNet weights once

The architecture is :func:`cnncourse.keras.models.shapes_cnn` (also reachable here as
``pretrained.shapes_cnn``). The weights file ``cnncourse/assets/shapes_cnn.npz`` is made by
``scripts/train_pretrained.py`` (rerun it to rebuild the file; it is deterministic on a
given machine). It holds the weight arrays in Keras order plus the recipe that made them.
"""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import numpy as np

from ..common import keras_cache_dir
from ._tf import keras
from .models import output_dtype, shapes_cnn

layers = keras.layers

ASSET = Path(__file__).resolve().parent.parent / "assets" / "shapes_cnn.npz"


class PretrainedUnavailableError(RuntimeError):
    """Pretrained weights that need a download could not be fetched (offline)."""


def save_pretrained(model: keras.Model, info: dict, path=ASSET) -> Path:
    """Write ``model``'s weights and ``info`` (a JSON-able dict: classes, recipe,
    accuracy) to an ``.npz`` file; returns its path."""
    path = Path(path)
    arrays = {f"w{i:02d}": np.asarray(w, dtype=np.float32) for i, w in enumerate(model.get_weights())}
    np.savez_compressed(path, info=np.array(json.dumps(info)), **arrays)
    return path


def pretrained_info(path=ASSET) -> dict:
    """The recipe and results stored with the pretrained weights (``classes``,
    ``input_shape``, ``test_accuracy``, ``seed``, ...)."""
    with np.load(_existing(path)) as f:
        return json.loads(str(f["info"]))


def load_pretrained(
    num_classes: int | None = None, freeze: bool = False, seed: int = 0, path=ASSET
) -> keras.Sequential:
    """The shapes CNN with its pretrained weights.

    num_classes: None keeps the pretrained head (classes in
    ``pretrained_info()["classes"]``); another number replaces the last layer by a new,
    randomly initialised (``seed``) ``Dense(num_classes, softmax)`` to fine-tune on a new
    task. freeze: make every layer but the head non-trainable (feature extraction).
    """
    info = pretrained_info(path)
    model = shapes_cnn(tuple(info["input_shape"]), len(info["classes"]))
    with np.load(_existing(path)) as f:
        weights = [f[k] for k in sorted(k for k in f.files if k.startswith("w"))]
    expected = [tuple(w.shape) for w in model.get_weights()]
    if [w.shape for w in weights] != expected:
        raise ValueError(
            f"{path} holds weights of shapes {[w.shape for w in weights]}; the "
            f"shapes CNN expects {expected}. Rerun scripts/train_pretrained.py"
        )
    model.set_weights(weights)
    if num_classes is not None and num_classes != len(info["classes"]):
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2 or None; got {num_classes!r}")
        body = model.layers[:-1]
        head = layers.Dense(
            num_classes,
            activation="softmax",
            dtype=output_dtype(),
            name="new_predictions",
            kernel_initializer=keras.initializers.GlorotUniform(seed),
        )
        model = keras.Sequential(
            [keras.Input(tuple(info["input_shape"]), name="image"), *body, head], name="shapes_cnn_finetune"
        )
    for layer in model.layers[:-1]:
        layer.trainable = not freeze
    return model


def _existing(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no pretrained weights at {path}; make them with `python scripts/train_pretrained.py`"
        )
    return path


def imagenet_model(name: str = "MobileNetV2", **kwargs) -> keras.Model:
    """A ``keras.applications`` model (``"MobileNetV2"``, ``"ResNet50"``, ``"VGG16"``,
    ``"InceptionV3"``, ``"EfficientNetB0"``, ...) with ImageNet weights, downloaded once
    into Keras' cache (``$KERAS_HOME/models``, by default ``~/.keras/models``).

    kwargs go to the constructor (``include_top``, ``input_shape``, ...). Offline, raises
    :class:`PretrainedUnavailableError` saying what was tried, where the cache is and
    what to use instead.
    """
    builder = getattr(keras.applications, name, None)
    if not callable(builder):
        known = sorted(n for n in dir(keras.applications) if n[:1].isupper())
        raise ValueError(f"unknown keras.applications model {name!r}; one of {known}")
    try:
        return builder(weights="imagenet", **kwargs)
    except Exception as err:
        if not _is_network_error(err):
            raise
        raise PretrainedUnavailableError(
            f"the ImageNet weights of {name} are not in Keras' cache "
            f"({keras_cache_dir() / 'models'}) and downloading them failed: {err}. "
            "Connect once to cache them, or work offline with "
            "cnncourse.keras.load_pretrained() (a small CNN pretrained on synthetic shapes, "
            "shipped with the package)"
        ) from err


def _is_network_error(err: BaseException) -> bool:
    """Keras' get_file turns a failed download into a plain ``Exception`` raised while
    handling the ``URLError``; look for that, or an ``OSError``, along the chain."""
    seen = err
    while seen is not None:
        if isinstance(seen, urllib.error.URLError | ConnectionError | TimeoutError) or str(seen).startswith(
            "URL fetch failure"
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
