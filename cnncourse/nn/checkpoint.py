"""Checkpoints: a :class:`~cnncourse.nn.model.Sequential` model in one ``.npz`` file
(architecture, weights and, if wanted, the optimiser with its state), and a callback
that saves the best model while ``fit`` runs.

>>> model.save("digits.npz")                            # doctest: +SKIP
>>> model = load_model("digits.npz")                    # doctest: +SKIP
>>> model.fit(x, y, optimizer=model.optimizer)           # doctest: +SKIP

The file is an ordinary NumPy archive (``np.load`` opens it) with these entries:

- ``config``: JSON text: the format's name and version, the model (its settings and one
  ``{"class_name", "config"}`` per layer, from ``Layer.get_config()``) and the optimiser
  (its class, hyperparameters, learning-rate schedule and step count), or null;
- ``weights/<layer index>.<name>``: each layer's arrays (``weights/0.w``, ``weights/0.b``);
- ``optimizer/<parameter>/<slot>``: the optimiser's state (``optimizer/0.w/m``).

It holds only numbers and text, and :func:`load_model` reads it with
``allow_pickle=False``: opening a checkpoint can never run code, as unpickling a file
can. The price is that a layer, initialiser or schedule of your own cannot be stored;
saving one raises a ``TypeError`` that names it.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import layers as layers_module
from .layers import Layer
from .model import Sequential
from .optim import OPTIMIZERS, Optimizer

__all__ = ["FORMAT", "VERSION", "CheckpointError", "ModelCheckpoint", "load_model", "save_model"]

FORMAT = "cnncourse.nn checkpoint"
VERSION = 1

LAYERS = {
    name: cls
    for name, cls in vars(layers_module).items()
    # Each class once, under its own name (not the aliases MaxPooling2D, BatchNormalization...).
    if isinstance(cls, type) and issubclass(cls, Layer) and cls is not Layer and cls.__name__ == name
}
_OPTIMIZERS = {cls.__name__: cls for cls in OPTIMIZERS.values()}


class CheckpointError(ValueError):
    """The file is not a checkpoint that this version of :mod:`cnncourse.nn` can read."""


def _json(data, what: str) -> str:
    def refuse(obj):
        raise TypeError(
            f"cannot store {what} in a checkpoint: it holds {obj!r}, which is not plain data "
            "(a checkpoint stores numbers and text, never code); use the course's built-in "
            "layers, initialisers, regularisers and schedules"
        )

    return json.dumps(data, default=refuse)


def save_model(model: Sequential, path, optimizer: Optimizer | None = None) -> Path:
    """Write ``model`` (and ``optimizer`` with its state, if given) to ``path``, which
    must end in ``.npz``. The file is written whole or not at all (to a temporary file
    first), so a crash while saving never spoils an earlier checkpoint. Returns the path.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"a checkpoint's file name must end in .npz; got {str(path)!r}")
    model._require_built()
    layer_configs = []
    for layer in model.layers:
        entry = {"class_name": type(layer).__name__, "config": layer.get_config()}
        if entry["class_name"] not in LAYERS:
            raise TypeError(
                f"cannot store layer {layer.name!r}: {entry['class_name']} is not a cnncourse.nn layer"
            )
        _json(entry, f"layer {layer.name!r}")
        layer_configs.append(entry)
    config = {
        "format": FORMAT,
        "version": VERSION,
        "model": {
            "name": model.name,
            "seed": model.seed,
            "dtype": model.dtype.name,
            "input_shape": list(model.input_shape),
            "layers": layer_configs,
        },
        "optimizer": None,
    }
    arrays = {}
    for i, layer in enumerate(model.layers):
        store = {**layer.params, **layer.state}
        for name in layer.weight_names:
            arrays[f"weights/{i}.{name}"] = store[name]
    if optimizer is not None:
        config["optimizer"] = {
            "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(),
            "iterations": optimizer.iterations,
        }
        if config["optimizer"]["class_name"] not in _OPTIMIZERS:
            raise TypeError(f"cannot store optimizer {optimizer!r}: not one of {sorted(_OPTIMIZERS)}")
        for key, slots in optimizer.state.items():
            for slot, value in slots.items():
                arrays[f"optimizer/{key}/{slot}"] = value
    text = _json(config, "the model")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, config=np.array(text), **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read(path) -> tuple[dict, dict[str, np.ndarray]]:
    """The checkpoint's config and arrays; a CheckpointError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    not_ours = f"{str(path)!r} is not a cnncourse.nn checkpoint"
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{not_ours}: it is not a NumPy .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{not_ours}: it holds a single array (an .npy file), not an .npz archive")
    with archive:
        if "config" not in archive.files:
            raise CheckpointError(
                f"{not_ours}: the .npz archive has no 'config' entry (entries: {archive.files[:5]})"
            )
        arrays = {}
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except (ValueError, OSError, zipfile.BadZipFile) as exc:
                raise CheckpointError(
                    f"{not_ours}: its entry {key!r} cannot be read safely ({exc})"
                ) from None
    try:
        config = json.loads(str(arrays.pop("config")))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{not_ours}: its 'config' entry is not JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{not_ours}: its config does not name the format {FORMAT!r}")
    if config.get("version") != VERSION:
        raise CheckpointError(
            f"{str(path)!r} is a checkpoint of format version {config.get('version')!r}; "
            f"this version of cnncourse reads version {VERSION}"
        )
    return config, arrays


def _entry(arrays: dict, key: str, path) -> np.ndarray:
    if key not in arrays:
        raise CheckpointError(f"the checkpoint {str(path)!r} has no array {key!r}: the file is incomplete")
    return arrays[key]


def load_model(path) -> Sequential:
    """The model saved at ``path`` by :func:`save_model` (or ``model.save``): same
    layers, same weights, so the same predictions. If the file holds an optimiser, it
    comes back with its state and step count as ``model.optimizer``: resume with
    ``model.fit(..., optimizer=model.optimizer)``. A file that is not such a checkpoint
    raises :class:`CheckpointError`; a missing one, ``FileNotFoundError``."""
    config, arrays = _read(path)
    try:
        spec = config["model"]
        built = []
        for entry in spec["layers"]:
            if entry["class_name"] not in LAYERS:
                raise CheckpointError(
                    f"the checkpoint {str(path)!r} has a layer of unknown class {entry['class_name']!r}"
                )
            built.append(LAYERS[entry["class_name"]].from_config(entry["config"]))
        model = Sequential(
            built, input_shape=spec["input_shape"], seed=spec["seed"], dtype=spec["dtype"], name=spec["name"]
        )
    except (KeyError, TypeError) as exc:
        raise CheckpointError(
            f"the checkpoint {str(path)!r} has a malformed model config ({exc!r})"
        ) from None
    model.set_weights(
        [
            _entry(arrays, f"weights/{i}.{name}", path)
            for i, layer in enumerate(model.layers)
            for name in layer.weight_names
        ]
    )
    if config.get("optimizer") is not None:
        model.optimizer = _load_optimizer(config["optimizer"], arrays, path)
    return model


def _load_optimizer(spec: dict, arrays: dict, path) -> Optimizer:
    if spec.get("class_name") not in _OPTIMIZERS:
        raise CheckpointError(
            f"the checkpoint {str(path)!r} has an optimizer of unknown class {spec.get('class_name')!r}"
        )
    optimizer = _OPTIMIZERS[spec["class_name"]].from_config(spec["config"])
    optimizer.iterations = int(spec["iterations"])
    if callable(optimizer.learning_rate) and optimizer.iterations:
        optimizer.lr = float(optimizer.learning_rate(optimizer.iterations - 1))
    for key, value in arrays.items():
        if key.startswith("optimizer/"):
            parameter, slot = key[len("optimizer/") :].rsplit("/", 1)
            optimizer.state.setdefault(parameter, {})[slot] = value
    return optimizer


class ModelCheckpoint:
    """A ``fit`` callback that saves the model after every epoch, or only when it
    improved: ``keras.callbacks.ModelCheckpoint`` for :mod:`cnncourse.nn`.

    filepath: a ``.npz`` path, which may name fields filled from the epoch (from 1) and
    the epoch's logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``. monitor: the log
    to watch (``"val_loss"`` needs ``validation_data``). mode: ``"min"``, ``"max"`` or
    ``"auto"`` (max for names with ``acc``, else min). save_best_only: save only when
    ``monitor`` beats the best value so far. include_optimizer: store the optimiser's
    state too (to resume training; without it the file is smaller).

    After training: ``best`` (the best value seen), ``best_epoch`` (from 1) and
    ``saved`` (the paths written, in order).
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = False,
        include_optimizer: bool = True,
    ):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f'mode must be "auto", "min" or "max"; got {mode!r}')
        if not str(filepath).endswith(".npz"):
            raise ValueError(f"filepath must end in .npz; got {str(filepath)!r}")
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, save_best_only
        self.include_optimizer = include_optimizer
        self.maximise = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.saved: list[Path] = []
        self.model: Sequential | None = None

    def set_model(self, model: Sequential) -> None:
        self.model = model

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self.maximise else value < self.best

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        value = logs.get(self.monitor)
        if value is None and self.save_best_only:
            raise KeyError(
                f"ModelCheckpoint watches {self.monitor!r} but the logs only have {sorted(logs)}; "
                "pass validation_data to fit or change monitor"
            )
        improved = value is not None and self._improved(value)
        if improved:
            self.best, self.best_epoch = float(value), epoch + 1
        if self.save_best_only and not improved:
            return
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as exc:
            raise KeyError(
                f"filepath {self.filepath!r} names {exc}, which is not in the logs {sorted(logs)}"
            ) from None
        self.model.save(path, include_optimizer=self.include_optimizer)
        self.saved.append(Path(path))

    def __repr__(self):
        return (
            f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r}, "
            f"save_best_only={self.save_best_only}, best={self.best})"
        )
