"""TrainingMonitor: the callback protocol, with the NumPy trainer and with Keras."""

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.widgets import TrainingMonitor


def test_protocol_by_hand():
    mon = TrainingMonitor(epochs=2, update_every=2)
    empty = bytes(mon.figure.value)
    mon.on_train_begin()
    for epoch in range(2):
        for b in range(4):
            mon.on_batch_end(b, {"loss": 1.0 / (epoch * 4 + b + 1), "accuracy": 0.1 * b})
        mon.on_epoch_end(
            epoch,
            {"loss": 0.5 - 0.1 * epoch, "accuracy": 0.6 + 0.1 * epoch, "val_loss": 0.6, "val_accuracy": 0.55},
        )
    mon.on_train_end()
    assert mon.history["loss"] == pytest.approx([0.5, 0.4])
    assert mon.history["val_accuracy"] == [0.55, 0.55]
    assert [round(s, 2) for s, _, _ in mon.batches] == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    assert mon.status.value.startswith("finished after epoch 2/2")
    assert bytes(mon.figure.value) != empty
    mon.on_train_begin()  # a second fit starts afresh
    assert mon.history == {} and mon.batches == []


def test_numpy_trainer_drives_the_monitor():
    rng = np.random.default_rng(0)
    x = rng.random((64, 6, 6, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(int)
    model = nn.Sequential(
        [nn.Conv2D(2, 3, activation="relu"), nn.Flatten(), nn.Dense(2, activation="softmax")],
        input_shape=(6, 6, 1),
        seed=0,
    )
    mon = TrainingMonitor(epochs=3)
    redraws = []
    mon.figure.observe(lambda change: redraws.append(1), names="value")
    history = model.fit(x, y, epochs=3, batch_size=16, optimizer=nn.Adam(1e-2), callbacks=[mon])
    assert mon.history["loss"] == pytest.approx(history.history["loss"])
    assert len(mon.batches) == 12 and mon.batches[-1][0] == pytest.approx(3.0)
    assert len(redraws) >= 3, "redrawn after every epoch"
    assert "finished after epoch 3/3" in mon.status.value


@pytest.mark.slow
def test_keras_callback_adapter():
    keras = pytest.importorskip("keras")
    import cnncourse.keras  # noqa: F401

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((32, 4)).astype(np.float32)
    y = (x.sum(1) > 2).astype(int)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    mon = TrainingMonitor(update_every=1)
    cb = mon.keras_callback()
    assert isinstance(cb, keras.callbacks.Callback)
    hist = m.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0, callbacks=[cb])
    assert mon.epochs == 2 and set(mon.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert mon.history["loss"] == pytest.approx(hist.history["loss"], rel=1e-5)
    assert len(mon.batches) == 6 and "finished after epoch 2/2" in mon.status.value
