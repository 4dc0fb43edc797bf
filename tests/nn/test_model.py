"""Layers and the Sequential trainer: parameter counts, weights, reproducibility, training."""

import time

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.data import load_digits


def seed_cnn_layers():
    """The course's Keras model, layer for layer, in cnncourse.nn."""
    return [
        nn.Conv2D(32, 3, activation="relu"),
        nn.MaxPool2D(2),
        nn.Conv2D(64, 3, activation="relu"),
        nn.MaxPool2D(2),
        nn.Conv2D(64, 3, activation="relu"),
        nn.Flatten(),
        nn.Dense(64, activation="relu"),
        nn.Dense(10, activation="softmax"),
    ]


def test_seed_cnn_parameter_count_and_summary():
    model = nn.Sequential(seed_cnn_layers(), input_shape=(28, 28, 1))
    # 3*3*1*32+32 = 320; 3*3*32*64+64 = 18,496; 3*3*64*64+64 = 36,928;
    # Flatten 3*3*64 = 576; 576*64+64 = 36,928; 64*10+10 = 650. Total 93,322.
    assert model.count_params() == 93_322
    assert model.output_shape == (10,)
    text = model.summary(print_fn=None)
    for expected in [
        "(None, 26, 26, 32)",
        "(None, 13, 13, 32)",
        "(None, 3, 3, 64)",
        "(None, 576)",
        "18,496",
        "36,928",
        "Total params: 93,322",
        "conv2d_1 (Conv2D)",
        "max_pool2d_1 (MaxPool2D)",
        "dense_1 (Dense)",
    ]:
        assert expected in text


def test_batchnorm_counts_moving_statistics_as_non_trainable():
    model = nn.Sequential([nn.Conv2D(4, 3), nn.BatchNorm(), nn.Flatten(), nn.Dense(2)], input_shape=(5, 5, 1))
    text = model.summary(print_fn=None)
    # conv 3*3*1*4+4 = 40; BN 4 gamma + 4 beta trainable, 8 moving stats; dense 36*2+2 = 74.
    assert model.count_params() == 40 + 16 + 74
    assert "Non-trainable params: 8" in text


def test_weights_round_trip_in_keras_order():
    a = nn.Sequential(seed_cnn_layers(), input_shape=(28, 28, 1), seed=0)
    b = nn.Sequential(seed_cnn_layers(), input_shape=(28, 28, 1), seed=1)
    weights = a.get_weights()
    assert [w.shape for w in weights[:2]] == [(3, 3, 1, 32), (32,)]
    assert [w.shape for w in weights[-2:]] == [(64, 10), (10,)]
    b.set_weights(weights)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    with pytest.raises(ValueError, match="expects 2 arrays"):
        b.layers[0].set_weights([weights[0]])
    with pytest.raises(ValueError, match=r"must have shape \(3, 3, 1, 32\)"):
        b.layers[0].set_weights([weights[2], weights[1]])


def test_predict_gives_probabilities():
    model = nn.Sequential(seed_cnn_layers(), input_shape=(28, 28, 1))
    p = model.predict(np.random.default_rng(0).random((5, 28, 28, 1)))
    assert p.shape == (5, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)


def small_cnn(seed=0, **kwargs):
    return nn.Sequential(
        [
            nn.Conv2D(8, 3, activation="relu"),
            nn.MaxPool2D(2),
            nn.Conv2D(16, 3, activation="relu"),
            nn.MaxPool2D(2),
            nn.Flatten(),
            nn.Dense(10, activation="softmax"),
        ],
        input_shape=(28, 28, 1),
        seed=seed,
        **kwargs,
    )


def test_training_is_reproducible_with_a_seed():
    digits = load_digits(seed=0)
    x, y = digits.train.x[:256], digits.train.y[:256]
    runs = []
    for _ in range(2):
        model = small_cnn(seed=5)
        history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
        runs.append((history.history["loss"], model.get_weights()[0]))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_fit_history_callbacks_and_early_stop():
    digits = load_digits(seed=0)
    events = []

    class Recorder:
        def on_train_begin(self, logs):
            events.append("begin")

        def on_epoch_end(self, epoch, logs):
            events.append((epoch, sorted(logs)))
            if epoch == 1:
                model.stop_training = True

        def on_train_end(self, logs):
            events.append("end")

    model = small_cnn()
    history = model.fit(
        digits.train.x[:200],
        digits.train.y[:200],
        epochs=5,
        verbose=0,
        validation_data=(digits.val.x, digits.val.y),
        callbacks=[Recorder()],
    )
    assert history.epoch == [0, 1]  # stopped after the second epoch
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert events[0] == "begin" and events[-1] == "end"
    assert events[1] == (0, ["accuracy", "loss", "val_accuracy", "val_loss"])


def test_dropout_and_regularisers_train():
    digits = load_digits(seed=0)
    model = nn.Sequential(
        [
            nn.Conv2D(8, 3, activation="relu", kernel_regularizer=nn.L2(1e-4)),
            nn.MaxPool2D(2),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Dense(10, activation="softmax"),
        ],
        input_shape=(28, 28, 1),
        seed=0,
    )
    history = model.fit(digits.train.x, digits.train.y, epochs=3, verbose=0, optimizer=nn.Momentum(0.05))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(digits.test.x, digits.test.y)[1] > 0.85


@pytest.mark.slow
def test_numpy_cnn_learns_handwritten_digits():
    """conv-relu-pool-conv-relu-pool-dense-softmax reaches >= 97% on held-out digits, < 60 s."""
    digits = load_digits(seed=0)
    model = small_cnn(seed=0)
    start = time.perf_counter()
    model.fit(
        digits.train.x,
        digits.train.y,
        epochs=10,
        batch_size=32,
        optimizer=nn.Adam(2e-3),
        validation_data=(digits.val.x, digits.val.y),
        verbose=0,
    )
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(digits.test.x, digits.test.y)
    print(f"digits test accuracy {accuracy:.4f}, loss {loss:.4f}, trained in {seconds:.1f} s")
    assert accuracy >= 0.97
    assert seconds < 60
