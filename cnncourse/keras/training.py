"""Training with Keras on whatever hardware is there: device report, mixed precision,
``tf.data`` input pipelines, augmentation and mixing, learning-rate schedules, seeding,
callbacks, checkpoints and distribution.

>>> from cnncourse.data import load_digits
>>> from cnncourse.keras import seed_cnn, train
>>> d = load_digits()
>>> history = train(seed_cnn, d.train, d.val, epochs=5)   # history.model is the model
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..common import positive_int
from ..nn import schedules
from ._tf import keras, tf
from .distributed import multi_worker_strategy

# --------------------------------------------------------------------------- hardware


@dataclass
class DeviceReport:
    """What :func:`device_report` found. ``gpus``: one dict per GPU with ``name``,
    ``compute_capability`` (e.g. ``(8, 0)``) and ``memory_gb`` (None if unknown)."""

    tensorflow: str
    keras: str
    cpu: str
    cpu_cores: int
    memory_gb: float | None
    gpus: list[dict] = field(default_factory=list)

    @property
    def mixed_precision_supported(self) -> bool:
        """True when every GPU has tensor cores for float16 (compute capability >= 7.0)."""
        return bool(self.gpus) and all((g["compute_capability"] or (0, 0)) >= (7, 0) for g in self.gpus)

    def __str__(self):
        lines = [
            f"TensorFlow {self.tensorflow}, Keras {self.keras}",
            f"CPU: {self.cpu} ({self.cpu_cores} cores"
            + (f", {self.memory_gb:.1f} GB RAM)" if self.memory_gb else ")"),
        ]
        if not self.gpus:
            lines.append("GPU: none (training runs on the CPU)")
        for i, g in enumerate(self.gpus):
            cc = ".".join(map(str, g["compute_capability"])) if g["compute_capability"] else "?"
            memory = f", {g['memory_gb']:.1f} GB" if g["memory_gb"] else ""
            lines.append(f"GPU {i}: {g['name']} (compute capability {cc}{memory})")
        lines.append(
            "Mixed precision (float16): "
            + ("supported" if self.mixed_precision_supported else "not applicable")
        )
        return "\n".join(lines)


def device_report() -> DeviceReport:
    """CPU and GPU names, core count and memory, and TensorFlow / Keras versions."""
    gpus = []
    for i, device in enumerate(tf.config.list_physical_devices("GPU")):
        details = tf.config.experimental.get_device_details(device)
        gpus.append(
            {
                "name": details.get("device_name", device.name),
                "compute_capability": details.get("compute_capability"),
                "memory_gb": _gpu_memory_gb(i),
            }
        )
    return DeviceReport(
        tensorflow=tf.__version__,
        keras=keras.__version__,
        cpu=_cpu_name(),
        cpu_cores=os.cpu_count() or 1,
        memory_gb=_ram_gb(),
        gpus=gpus,
    )


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return None


def _gpu_memory_gb(index: int) -> float | None:
    """Total memory of GPU ``index`` from nvidia-smi (TensorFlow only reports usage)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", f"--id={index}", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return float(out.strip().splitlines()[0]) / 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def use_mixed_precision(enable="auto") -> str:
    """Set Keras' global dtype policy; returns its name.

    ``"auto"``: ``"mixed_float16"`` when :attr:`DeviceReport.mixed_precision_supported`
    (float16 maths on tensor cores, float32 weights), else ``"float32"`` (on a CPU,
    float16 is slower, not faster). ``True`` forces mixed float16, ``False`` float32.
    Build models after calling this; models built earlier keep their policy.
    """
    if enable == "auto":
        enable = device_report().mixed_precision_supported
    if not isinstance(enable, bool):
        raise ValueError(f'enable must be "auto", True or False; got {enable!r}')
    policy = "mixed_float16" if enable else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def get_strategy(devices=None) -> tf.distribute.Strategy:
    """``MirroredStrategy`` over ``devices`` (default: every GPU) when there are two or
    more, else TensorFlow's default strategy (one device, no replication).

    ``"multi_worker"``: ``MultiWorkerMirroredStrategy`` across the machines that the
    ``TF_CONFIG`` environment variable lists (see :mod:`cnncourse.keras.distributed`);
    a :class:`~cnncourse.keras.distributed.TFConfigError` says what is missing or wrong.
    """
    if devices == "multi_worker":
        return multi_worker_strategy()
    if isinstance(devices, str):
        raise ValueError(f'devices must be a list of device names, None or "multi_worker"; got {devices!r}')
    if devices is None:
        devices = [f"/gpu:{i}" for i in range(len(tf.config.list_physical_devices("GPU")))]
    if len(devices) >= 2:
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.get_strategy()


# --------------------------------------------------------------------------- seeding


def seed_everything(seed: int = 0, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``).

    deterministic: also make TensorFlow's ops deterministic (same results run after
    run, also on GPU, at some cost in speed). This lasts for the whole process.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


# --------------------------------------------------------------------------- data


def make_dataset(
    x,
    y=None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    augment: Callable | None = None,
    cache: bool = True,
    drop_remainder: bool = False,
    mix: Callable | None = None,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline: cache -> shuffle -> batch -> augment -> mix -> prefetch.

    x: ``(N, ...)`` array; y: ``(N, ...)`` labels or None. shuffle: reshuffle every
    epoch (seeded). augment: a function or Keras layer applied to each image batch
    with ``training=True`` (e.g. :func:`augmentation`), on the training data only.
    mix: a Keras layer that blends images and labels, ``keras.layers.MixUp(alpha=0.2)``
    or ``keras.layers.CutMix()``, applied to each batch after ``augment``; y must then
    be one-hot ``(N, K)`` (``keras.utils.to_categorical(y, K)``), and the model is
    trained with ``loss="categorical_crossentropy"``. Batches are float32 images and
    the labels as given (float32 when mixed).
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more; got shape {x.shape}")
    batch_size = positive_int(batch_size, "batch_size")
    x = x.astype(np.float32, copy=False)
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels")
    if mix is not None:
        if y is None or y.ndim != 2:
            shape = None if y is None else y.shape
            raise ValueError(
                f"mix needs one-hot labels y (N, K); got {shape}; convert integer labels "
                "with keras.utils.to_categorical(y, num_classes)"
            )
        y = y.astype(np.float32, copy=False)
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if augment is not None:

        def apply(images, *labels):  # labels: () when y is None, else (y_batch,)
            images = augment(images, training=True)
            return (images, *labels) if labels else images

        ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
    if mix is not None:

        def blend(images, labels):
            mixed = mix({"images": images, "labels": labels}, training=True)
            return mixed["images"], mixed["labels"]

        ds = ds.map(blend, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def augmentation(
    flip: str | None = "horizontal",
    rotation: float = 0.05,
    zoom: float = 0.1,
    translation: float = 0.1,
    contrast: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> keras.Sequential:
    """Random image transformations as Keras layers (active only in training).

    flip: ``"horizontal"``, ``"vertical"``, ``"horizontal_and_vertical"`` or None
    (don't flip digits). rotation: fraction of a full turn (0.05 = up to +-18 degrees).
    zoom, translation: fraction of the image size. contrast: factor range. noise:
    standard deviation of Gaussian noise. Zero switches a transformation off.
    Maps ``(N, H, W, C)`` to the same shape.
    """
    steps = []
    if flip:
        steps.append(keras.layers.RandomFlip(flip, seed=seed))
    if rotation:
        steps.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1))
    if zoom:
        steps.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed + 2))
    if translation:
        steps.append(
            keras.layers.RandomTranslation(translation, translation, fill_mode="constant", seed=seed + 3)
        )
    if contrast:
        steps.append(keras.layers.RandomContrast(contrast, seed=seed + 4))
    if noise:
        steps.append(keras.layers.GaussianNoise(noise, seed=seed + 5))
    return keras.Sequential(steps, name="augmentation")


def cosine_with_warmup(
    peak_learning_rate: float,
    total_steps: int,
    warmup_steps: int = 0,
    alpha: float = 0.0,
    initial_learning_rate: float = 0.0,
) -> keras.optimizers.schedules.CosineDecay:
    """Keras' ``CosineDecay`` for "climb linearly from ``initial_learning_rate`` to
    ``peak_learning_rate`` over ``warmup_steps`` steps, then follow half a cosine down to
    ``alpha * peak_learning_rate`` by step ``total_steps``".

    Steps are optimiser updates: ``total_steps = epochs * ceil(N / batch_size)``. Pass the
    result as the learning rate: ``keras.optimizers.AdamW(cosine_with_warmup(1e-3, 3000,
    300))`` or ``train(..., learning_rate=cosine_with_warmup(...))``. The NumPy engine's
    same schedule is ``LinearWarmup(CosineDecay(peak, total_steps - warmup_steps, alpha),
    warmup_steps, initial_learning_rate)`` from :mod:`cnncourse.nn.schedules`.
    """
    total_steps = positive_int(total_steps, "total_steps")
    if not isinstance(warmup_steps, int | np.integer) or not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"warmup_steps must be a whole number in [0, total_steps={total_steps}); got {warmup_steps!r}"
        )
    # The NumPy engine's CosineDecay has Keras' arguments: it checks them, and its config
    # is what Keras' constructor takes.
    if warmup_steps:
        same = schedules.CosineDecay(
            initial_learning_rate,
            total_steps - int(warmup_steps),
            alpha,
            warmup_target=peak_learning_rate,
            warmup_steps=int(warmup_steps),
        )
    else:
        same = schedules.CosineDecay(peak_learning_rate, total_steps, alpha)
    return keras.optimizers.schedules.CosineDecay(**same.get_config())


def _as_dataset(data, batch_size, shuffle, seed, augment, name, mix=None) -> tf.data.Dataset:
    """A Split / (x, y) pair / tf.data.Dataset -> a batched dataset."""
    if data is None or isinstance(data, tf.data.Dataset):
        return data
    try:
        x, y = data
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be an (x, y) pair, a cnncourse.data.Split or a "
            f"tf.data.Dataset; got {type(data).__name__}"
        ) from None
    return make_dataset(x, y, batch_size, shuffle=shuffle, seed=seed, augment=augment, mix=mix)


# --------------------------------------------------------------------------- callbacks


_PROTOCOL = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class LiveCurves(keras.callbacks.Callback):
    """Feeds Keras' training metrics to a live plot while Keras trains.

    monitor: either an object with the callback methods that ``cnncourse.nn``'s ``fit``
    calls (``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``;
    any subset), such as the live training-curve widget
    ``cnncourse.widgets.TrainingMonitor``, so the NumPy engine and Keras drive the same
    plot; or a plain function ``f(step, logs)``, called after every epoch (``step`` = the
    epoch number from 1) and, with ``every="batch"``, after every batch too (``step`` =
    fractional epoch, e.g. 2.25). ``history`` keeps every epoch's ``(epoch, logs)``.
    """

    def __init__(self, monitor, every: str = "epoch"):
        super().__init__()
        if every not in ("epoch", "batch"):
            raise ValueError(f'every must be "epoch" or "batch"; got {every!r}')
        self._methods = {m: getattr(monitor, m) for m in _PROTOCOL if hasattr(monitor, m)}
        if not self._methods and not callable(monitor):
            raise TypeError(
                f"monitor must have callback methods ({', '.join(_PROTOCOL)}) or be "
                f"a function f(step, logs); got {type(monitor).__name__}"
            )
        self.monitor, self.every = monitor, every
        self.history: list[tuple[int, dict]] = []
        self._epoch, self._steps = 0, None

    def _forward(self, method, *args):
        if method in self._methods:
            self._methods[method](*args)

    def on_train_begin(self, logs=None):
        params = self.params or {}
        self._steps = params.get("steps")
        # A monitor that shows "epoch 2/10" (TrainingMonitor) learns the plan from Keras.
        if getattr(self.monitor, "epochs", 0) is None:
            self.monitor.epochs = params.get("epochs")
        if hasattr(self.monitor, "steps_per_epoch"):
            self.monitor.steps_per_epoch = self._steps or None
        self._forward("on_train_begin", _floats(logs))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._forward("on_epoch_begin", epoch, _floats(logs))

    def on_train_batch_end(self, batch, logs=None):
        logs = _floats(logs)
        self._forward("on_batch_end", batch, logs)
        if not self._methods and self.every == "batch" and self._steps:
            self.monitor(self._epoch + (batch + 1) / self._steps, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = _floats(logs)
        self.history.append((epoch + 1, logs))
        self._forward("on_epoch_end", epoch, logs)
        if not self._methods:
            self.monitor(epoch + 1, logs)

    def on_train_end(self, logs=None):
        self._forward("on_train_end", _floats(logs))


def _floats(logs) -> dict:
    return {k: float(v) for k, v in (logs or {}).items()}


class StopAtAccuracy(keras.callbacks.Callback):
    """Stops training once ``monitor`` reaches ``target``; records when.

    After training: ``reached`` (bool), ``epoch`` (1-based epoch that reached the target,
    or None) and ``seconds`` (wall time from the start of training to that epoch's end).
    """

    def __init__(self, target: float, monitor: str = "val_accuracy"):
        super().__init__()
        if not 0 < target <= 1:
            raise ValueError(f"target must be an accuracy in (0, 1]; got {target}")
        self.target, self.monitor = target, monitor
        self.reached, self.epoch, self.seconds = False, None, None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(
                f"StopAtAccuracy watches {self.monitor!r} but the logs only have "
                f"{sorted(logs or {})}; pass validation data or change monitor"
            )
        if value >= self.target and not self.reached:
            self.reached, self.epoch = True, epoch + 1
            self.seconds = time.perf_counter() - self._start
            self.model.stop_training = True


# --------------------------------------------------------------------------- train


def train(
    model,
    train_data,
    val_data=None,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    optimizer="adam",
    learning_rate=1e-3,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    augment: Callable | None = None,
    mix: Callable | None = None,
    early_stopping: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    monitor=None,
    target_accuracy: float | None = None,
    strategy=None,
    mixed_precision="auto",
    seed: int | None = 0,
    deterministic: bool = False,
    callbacks=(),
    verbose: int = 0,
) -> keras.callbacks.History:
    """Compile and fit a model with the course's defaults; returns Keras' ``History``
    (``history.model`` is the trained model, ``history.history`` the per-epoch metrics).

    model: a function that builds a model (preferred: it is then built under the seed,
    the mixed-precision policy and the strategy's scope) or a ``keras.Model`` (compiled
    here either way). train_data / val_data: ``(x, y)``, a :class:`cnncourse.data.Split`
    or a batched ``tf.data.Dataset``. optimizer: a name (``"adam"``, ``"adamw"``...,
    with ``learning_rate``, a number or a schedule such as :func:`cosine_with_warmup`)
    or a Keras optimizer. augment, mix: see :func:`make_dataset` (mix: one-hot labels
    and ``loss="categorical_crossentropy"``; label smoothing is
    ``loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1)``, also with
    one-hot labels). early_stopping: patience in epochs on ``val_loss`` (best weights
    restored). checkpoint: a ``.keras`` path where the best model so far is saved
    (lowest ``val_loss``, or ``loss`` without validation data); reload it with
    ``keras.models.load_model``. monitor: a live plot, see
    :class:`LiveCurves`. target_accuracy: stop once ``val_accuracy`` reaches it (the
    :class:`StopAtAccuracy` callback is then in ``history.stop_at``). strategy: a
    ``tf.distribute`` strategy, ``"auto"`` for :func:`get_strategy`, or None (default
    strategy); ``batch_size`` is per replica. mixed_precision: passed to
    :func:`use_mixed_precision` before building (``"auto"``: on where the GPU supports
    it; None leaves the global policy alone); the previous global policy is restored once
    the model is built, so later models are not silently mixed. seed / deterministic: see
    :func:`seed_everything` (None leaves the seeds alone).
    """
    epochs = positive_int(epochs, "epochs")
    if seed is not None:
        seed_everything(seed, deterministic)
    if strategy == "auto":
        strategy = get_strategy()
    strategy = strategy or tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # Keras 3's fit reduces its first batch across workers and fails there
        # (keras-team/keras#20585); refuse here with the way that works.
        raise ValueError(
            "train() cannot run under MultiWorkerMirroredStrategy: Keras 3's fit fails "
            "across workers; use cnncourse.keras.distributed.fit_multi_worker, which runs "
            "the same training step on every worker"
        )
    previous_policy = keras.mixed_precision.global_policy()
    if mixed_precision is not None:
        use_mixed_precision(mixed_precision)
    global_batch = batch_size * strategy.num_replicas_in_sync
    train_ds = _as_dataset(train_data, global_batch, True, seed or 0, augment, "train_data", mix)
    val_ds = _as_dataset(val_data, global_batch, False, 0, None, "val_data")

    try:  # the policy applies to the model built here, not to models built later
        with strategy.scope():
            model = _build(model, strategy)
            if isinstance(optimizer, str):
                optimizer = keras.optimizers.get(
                    {"class_name": optimizer, "config": {"learning_rate": learning_rate}}
                )
            model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    cbs = list(callbacks)
    if early_stopping is not None:
        cbs.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=early_stopping, restore_best_weights=True
            )
        )
    if checkpoint is not None:
        cbs.append(
            keras.callbacks.ModelCheckpoint(
                os.fspath(checkpoint),
                monitor="val_loss" if val_ds is not None else "loss",
                save_best_only=True,
            )
        )
    if monitor is not None:
        cbs.append(LiveCurves(monitor))
    stop_at = None
    if target_accuracy is not None:
        stop_at = StopAtAccuracy(target_accuracy)
        cbs.append(stop_at)
    # shuffle=False: make_dataset already reshuffles every epoch.
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, callbacks=cbs, shuffle=False, verbose=verbose
    )
    history.stop_at = stop_at
    return history


def _build(model, strategy) -> keras.Model:
    """The model to train: ``model`` itself, or what the function ``model()`` builds."""
    if isinstance(model, keras.Model):
        if strategy.num_replicas_in_sync > 1:
            raise ValueError(
                "with a distribution strategy, pass a function that builds the "
                "model, so that it is created inside strategy.scope()"
            )
        return model
    if callable(model):
        return model()
    raise TypeError(f"model must be a keras.Model or a function that builds one; got {type(model).__name__}")
