"""Training helpers: device report, mixed precision, tf.data, augmentation, seeding,
callbacks, strategies and the quiet TensorFlow import."""

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
import cnncourse.keras
from cnncourse.keras import seed_cnn
from cnncourse.keras import training as T_MOD
from cnncourse.keras._tf import keras, tf


def _toy(n=96, seed=0):
    """Images whose class is which quadrant is bright: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 4
    x = rng.random((n, 28, 28, 1)).astype(np.float32) * 0.2
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, r * 14 : (r + 1) * 14, q * 14 : (q + 1) * 14] += 0.8
    return x, y


def _small():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, strides=2),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )


@pytest.fixture(autouse=True)
def _float32_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_device_report_on_this_machine():
    report = T_MOD.device_report()
    assert report.tensorflow == tf.__version__ and report.keras == keras.__version__
    assert report.cpu_cores >= 1 and report.cpu
    gpus = tf.config.list_physical_devices("GPU")
    assert len(report.gpus) == len(gpus)
    text = str(report)
    assert f"TensorFlow {tf.__version__}" in text and "CPU:" in text
    if not gpus:
        assert "GPU: none" in text and not report.mixed_precision_supported


def test_mixed_precision_support_rule():
    r = T_MOD.DeviceReport(
        "2", "3", "cpu", 2, 8.0, gpus=[{"name": "A", "compute_capability": (8, 0), "memory_gb": 40.0}]
    )
    assert r.mixed_precision_supported
    r.gpus.append({"name": "K80", "compute_capability": (3, 7), "memory_gb": None})
    assert not r.mixed_precision_supported  # every GPU must have tensor cores
    assert "GPU 1: K80 (compute capability 3.7)" in str(r)


def test_use_mixed_precision():
    expected = "mixed_float16" if T_MOD.device_report().mixed_precision_supported else "float32"
    assert T_MOD.use_mixed_precision("auto") == expected
    assert T_MOD.use_mixed_precision(True) == "mixed_float16"
    model = seed_cnn()
    assert model.layers[0].compute_dtype == "float16"
    assert model.layers[-1].compute_dtype == "float32"  # softmax stays float32
    assert T_MOD.use_mixed_precision(False) == "float32"
    with pytest.raises(ValueError, match="enable must be \"auto\", True or False; got 'yes'"):
        T_MOD.use_mixed_precision("yes")


def test_make_dataset_batches_and_shuffles_reproducibly():
    x = np.arange(10, dtype=np.float64).reshape(10, 1)
    y = np.arange(10)
    ds = T_MOD.make_dataset(x, y, batch_size=4)
    batches = [(bx.numpy(), by.numpy()) for bx, by in ds]
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype == np.float32
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)

    def order(seed):
        return [np.concatenate([b[1].numpy() for b in T_MOD.make_dataset(x, y, 4, shuffle=True, seed=seed)])]

    first = order(1)[0]
    assert sorted(first) == list(range(10)) and list(first) != list(range(10))
    np.testing.assert_array_equal(order(1)[0], first)
    shuffled = T_MOD.make_dataset(x, y, 4, shuffle=True, seed=1)
    epoch1 = np.concatenate([b[1].numpy() for b in shuffled])
    epoch2 = np.concatenate([b[1].numpy() for b in shuffled])
    assert list(epoch1) != list(epoch2)  # reshuffled every epoch


def test_make_dataset_errors():
    with pytest.raises(ValueError, match="x has 3 examples but y has 2 labels"):
        T_MOD.make_dataset(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        T_MOD.make_dataset(np.zeros((3, 2)), batch_size=0)
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        T_MOD.make_dataset(np.zeros(3))


def test_augmentation_changes_training_batches_only():
    aug = T_MOD.augmentation(
        flip="horizontal", rotation=0.1, zoom=0.1, translation=0.1, contrast=0.2, noise=0.05, seed=3
    )
    assert len(aug.layers) == 6
    x, y = _toy(8)
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape and not np.allclose(out, x)
    np.testing.assert_array_equal(np.asarray(aug(x, training=False)), x)
    ds = T_MOD.make_dataset(x, y, batch_size=8, augment=aug)
    bx, by = next(iter(ds))
    assert bx.shape == x.shape and not np.allclose(bx.numpy(), x)
    np.testing.assert_array_equal(by.numpy(), y)
    images_only = next(iter(T_MOD.make_dataset(x, batch_size=8, augment=aug)))
    assert images_only.shape == x.shape
    assert T_MOD.augmentation(flip=None, rotation=0, zoom=0, translation=0).layers == []


@pytest.mark.slow
def test_seeding_makes_training_reproducible():
    x, y = _toy()
    runs = [
        T_MOD.train(_small, (x, y), epochs=2, batch_size=16, seed=5, mixed_precision=False) for _ in range(2)
    ]
    for a, b in zip(runs[0].model.get_weights(), runs[1].model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    other = T_MOD.train(_small, (x, y), epochs=2, batch_size=16, seed=6, mixed_precision=False)
    assert not np.allclose(other.model.get_weights()[0], runs[0].model.get_weights()[0])
    with pytest.raises(ValueError, match="seed must be a non-negative int; got -1"):
        T_MOD.seed_everything(-1)


@pytest.mark.slow
def test_train_learns_with_callbacks_and_default_strategy():
    x, y = _toy(160)
    xv, yv = _toy(64, seed=1)
    updates = []
    strategy = T_MOD.get_strategy()
    if len(tf.config.list_physical_devices("GPU")) < 2:
        assert strategy.num_replicas_in_sync == 1
        assert type(strategy).__name__ == "_DefaultDistributionStrategy"
    history = T_MOD.train(
        _small,
        (x, y),
        (xv, yv),
        epochs=40,
        batch_size=16,
        learning_rate=0.02,
        monitor=lambda step, logs: updates.append((step, logs)),
        target_accuracy=0.95,
        early_stopping=10,
        strategy=strategy,
        verbose=0,
    )
    stop = history.stop_at
    assert stop.reached and stop.seconds > 0
    epochs_run = len(history.history["loss"])
    assert stop.epoch == epochs_run < 40  # stopped as soon as the target was reached
    assert history.history["val_accuracy"][-1] >= 0.95
    assert [s for s, _ in updates] == list(range(1, epochs_run + 1))
    assert set(updates[0][1]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert updates[-1][1]["loss"] < updates[0][1]["loss"]


def test_live_curves_function_per_batch():
    calls = []
    curves = T_MOD.LiveCurves(lambda step, logs: calls.append(step), every="batch")
    x, y = _toy(64)
    model = _small()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, callbacks=[curves], verbose=0)
    # 4 batches per epoch: steps 0.25 ... 1.0, then the epoch update 1, and so on
    assert calls == [0.25, 0.5, 0.75, 1.0, 1, 1.25, 1.5, 1.75, 2.0, 2]
    assert [e for e, _ in curves.history] == [1, 2]
    assert all(isinstance(v, float) for _, logs in curves.history for v in logs.values())


def test_live_curves_drives_a_monitor_with_callback_methods():
    class Monitor:  # the protocol of cnncourse.widgets.TrainingMonitor (any subset)
        def __init__(self):
            self.calls = []

        def on_train_begin(self, logs):
            self.calls.append("begin")

        def on_batch_end(self, batch, logs):
            self.calls.append(("batch", batch, sorted(logs)))

        def on_epoch_end(self, epoch, logs):
            self.calls.append(("epoch", epoch, sorted(logs)))

    monitor = Monitor()
    x, y = _toy(32)
    model = _small()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        x,
        y,
        batch_size=16,
        epochs=2,
        validation_data=(x, y),
        callbacks=[T_MOD.LiveCurves(monitor)],
        verbose=0,
    )
    batch_keys, epoch_keys = ["accuracy", "loss"], ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert monitor.calls == [
        "begin",
        ("batch", 0, batch_keys),
        ("batch", 1, batch_keys),
        ("epoch", 0, epoch_keys),
        ("batch", 0, batch_keys),
        ("batch", 1, batch_keys),
        ("epoch", 1, epoch_keys),
    ]
    with pytest.raises(ValueError, match='every must be "epoch" or "batch"; got \'step\''):
        T_MOD.LiveCurves(monitor, every="step")
    with pytest.raises(TypeError, match="monitor must have callback methods"):
        T_MOD.LiveCurves(42)


def test_train_restores_the_global_policy_and_tells_a_training_monitor_the_plan():
    from cnncourse.widgets import TrainingMonitor

    x, y = _toy(32)
    monitor = TrainingMonitor()
    history = T_MOD.train(
        _small, (x, y), (x, y), epochs=2, batch_size=16, mixed_precision=True, monitor=monitor
    )
    assert history.model.dtype_policy.name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"  # later models: float32
    assert _small().dtype_policy.name == "float32"
    assert monitor.epochs == 2 and monitor.steps_per_epoch == 2
    assert set(monitor.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert "finished after epoch 2/2" in monitor.status.value


def test_early_stopping_restores_best_weights():
    x, y = _toy(64)
    # a huge learning rate makes val_loss get worse: training stops after patience
    history = T_MOD.train(
        _small,
        (x, y),
        (x, y),
        epochs=30,
        batch_size=16,
        optimizer=keras.optimizers.SGD(5.0),
        early_stopping=2,
        mixed_precision=False,
    )
    losses = history.history["val_loss"]
    assert len(losses) < 30
    best = int(np.nanargmin(losses))
    assert len(losses) == best + 3


def test_train_errors():
    x, y = _toy(16)
    with pytest.raises(ValueError, match="epochs must be a positive int; got 0"):
        T_MOD.train(_small, (x, y), epochs=0)
    with pytest.raises(TypeError, match=r"model must be a keras\.Model or a function"):
        T_MOD.train("seed_cnn", (x, y), epochs=1)
    with pytest.raises(TypeError, match=r"train_data must be an \(x, y\) pair"):
        T_MOD.train(_small, x, epochs=1)


MIRRORED = """
import json
import numpy as np
import cnncourse.keras as k
from cnncourse.keras._tf import keras, tf
from tensorflow.python.framework import config as op_config
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
k.seed_everything(0, deterministic=True)
strategy = k.get_strategy(["/cpu:0", "/cpu:1"])
x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
y = np.arange(64) % 10
small = lambda: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
h = k.train(small, (x, y), epochs=2, batch_size=8, strategy=strategy, mixed_precision=False)
try:
    k.train(small(), (x, y), epochs=1, strategy=strategy)
    refused = False
except ValueError as err:
    refused = "strategy.scope()" in str(err)
print(json.dumps({"kind": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
                  "deterministic": op_config.is_op_determinism_enabled(),
                  "epochs": len(h.history["loss"]), "refused": refused,
                  "log_lines": len(k.import_log())}))
"""


@pytest.mark.slow
def test_quiet_import_determinism_and_mirrored_strategy_in_a_fresh_process():
    """Two logical CPUs stand in for two GPUs: MirroredStrategy with 2 replicas trains,
    op determinism switches on, and importing TensorFlow prints nothing to stderr."""
    out = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["kind"] == "MirroredStrategy" and result["replicas"] == 2
    assert result["deterministic"] and result["refused"] and result["epochs"] == 2
    noise = [line for line in out.stderr.splitlines() if line.strip()]
    assert noise == [], noise[:5]


def test_train_function_is_exported_and_its_module_reachable():
    """``cnncourse.keras.train`` is the function; its module is ``cnncourse.keras.training``,
    and every name in it can be reached through the dotted path."""
    assert cnncourse.keras.train is cnncourse.keras.training.train
    assert cnncourse.keras.training.augmentation is cnncourse.keras.augmentation
    assert callable(cnncourse.keras.training.augmentation)
    assert cnncourse.keras.training.__name__ == "cnncourse.keras.training"
    assert cnncourse.keras.train.__module__ == "cnncourse.keras.training"
