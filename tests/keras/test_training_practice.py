"""Modern training practice, the Keras way and against the NumPy engine: schedules,
AdamW and label smoothing give the same numbers in both; mixing in ``make_dataset``;
``.keras`` files round-trip (custom layers included) and ``train`` keeps the best one."""

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse import nn
from cnncourse.data import load_digits
from cnncourse.keras import cosine_with_warmup, make_dataset, stn_classifier, train
from cnncourse.keras._tf import keras
from cnncourse.nn import functional as F
from cnncourse.nn.schedules import CosineDecay, LinearWarmup, StepDecay

pytestmark = pytest.mark.slow  # TensorFlow for real work


def _values(schedule, steps):
    return np.array([float(schedule(step)) for step in range(steps)])


def test_schedules_equal_keras_schedules():
    # Keras computes in float32: agreement to float32 precision.
    pairs = [
        (StepDecay(0.1, 4, 0.5), keras.optimizers.schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True)),
        (CosineDecay(0.05, 30, alpha=0.1), keras.optimizers.schedules.CosineDecay(0.05, 30, alpha=0.1)),
        (
            CosineDecay(0.001, 30, alpha=0.1, warmup_target=0.05, warmup_steps=8),
            keras.optimizers.schedules.CosineDecay(0.001, 30, alpha=0.1, warmup_target=0.05, warmup_steps=8),
        ),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(
            _values(ours, 45), _values(theirs, 45), rtol=1e-6, atol=1e-9, err_msg=repr(ours)
        )


def test_cosine_with_warmup_is_linear_warmup_around_cosine():
    schedule = cosine_with_warmup(0.01, total_steps=100, warmup_steps=10, alpha=0.05)
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    numpy_twin = LinearWarmup(CosineDecay(0.01, 90, alpha=0.05), warmup_steps=10)
    np.testing.assert_allclose(_values(schedule, 120), _values(numpy_twin, 120), rtol=1e-6, atol=1e-9)
    assert float(schedule(0)) == 0.0 and float(schedule(10)) == pytest.approx(0.01)
    assert float(schedule(55)) == pytest.approx(0.01 * (1 + 0.05) / 2)  # half-way down the cosine
    no_warmup = cosine_with_warmup(0.02, total_steps=50)
    assert float(no_warmup(0)) == pytest.approx(0.02) and float(no_warmup(50)) == 0.0
    with pytest.raises(
        ValueError, match=r"warmup_steps must be a whole number in \[0, total_steps=10\); got 10"
    ):
        cosine_with_warmup(0.01, 10, warmup_steps=10)
    with pytest.raises(ValueError, match="warmup_target must be > 0"):
        cosine_with_warmup(0.0, 10, warmup_steps=2)
    with pytest.raises(
        ValueError, match=r"alpha \(the floor as a fraction of the peak\) must be in \[0, 1\]"
    ):
        cosine_with_warmup(0.01, 10, alpha=2.0)


def test_adamw_equals_keras_adamw_with_a_schedule():
    """Eight steps of both on the same gradients. Keras rounds beta1 and beta2 to float32
    before its bias corrections, so the betas here are exact in float32 (0.875 = 7/8,
    0.99609375 = 1 - 2**-8) and the two agree to float64 rounding plus float32 rates."""
    rng = np.random.default_rng(0)
    start = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    variables = [
        keras.Variable(start["w"].copy(), dtype="float64"),
        keras.Variable(start["b"].copy(), dtype="float64"),
    ]
    theirs = keras.optimizers.AdamW(
        learning_rate=keras.optimizers.schedules.CosineDecay(
            0.0, 6, alpha=0.1, warmup_target=0.05, warmup_steps=2
        ),
        weight_decay=0.2,
        beta_1=0.875,
        beta_2=0.99609375,
        epsilon=1e-12,
    )
    ours = nn.AdamW(
        lr=CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.05, warmup_steps=2),
        weight_decay=0.2,
        beta1=0.875,
        beta2=0.99609375,
        eps=1e-12,
    )
    params = {key: value.copy() for key, value in start.items()}
    for step in range(8):
        grads = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
        theirs.apply([grads["w"], grads["b"]], variables)
        ours.step(params, grads)
        for key, variable in zip(("w", "b"), variables, strict=True):
            np.testing.assert_allclose(
                params[key], variable.numpy(), atol=1e-7, err_msg=f"{key} after step {step + 1}"
            )
    assert not np.allclose(params["w"], start["w"], atol=0.05)  # the steps did move the weights


def test_label_smoothing_equals_keras_categorical_crossentropy():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((8, 5)) * 3
    y = rng.integers(0, 5, 8)
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    expected = float(keras_loss(keras.utils.to_categorical(y, 5), logits))
    assert F.softmax_cross_entropy(logits, y, label_smoothing=0.2)[0] == pytest.approx(expected, rel=1e-6)


def test_make_dataset_mixes_images_and_labels():
    x = np.random.default_rng(2).random((16, 8, 8, 1)).astype(np.float32)
    y = keras.utils.to_categorical(np.arange(16) % 4, 4)
    for layer in (keras.layers.MixUp(alpha=0.4, seed=1), keras.layers.CutMix(seed=1)):
        images, labels = next(iter(make_dataset(x, y, batch_size=16, mix=layer)))
        assert images.shape == x.shape and labels.dtype == "float32"
        np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, rtol=1e-5)
        assert (labels.numpy().max(axis=1) < 0.999).any(), type(layer).__name__  # some labels got mixed
        assert not np.allclose(images.numpy(), x)
    with pytest.raises(ValueError, match=r"mix needs one-hot labels y \(N, K\); got \(16,\)"):
        make_dataset(x, np.arange(16) % 4, mix=keras.layers.MixUp())


def _small():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _digits(split, n):
    """The first ``n`` 8x8 digits of a split, with one-hot labels."""
    images = getattr(load_digits(size=8, seed=0), split)
    return images.x[:n], keras.utils.to_categorical(images.y[:n], 10)


def test_keras_file_round_trip_keeps_predictions_and_the_optimizer(tmp_path):
    x, y = _digits("train", 32)
    model = _small()
    model.compile(
        optimizer=keras.optimizers.AdamW(cosine_with_warmup(0.01, 20, warmup_steps=4), weight_decay=0.01),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    )
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "small.keras")
    loaded = keras.models.load_model(tmp_path / "small.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.optimizer, keras.optimizers.AdamW)
    assert int(loaded.optimizer.iterations) == 4 and loaded.optimizer.weight_decay == 0.01
    assert loaded.optimizer.learning_rate.numpy() == pytest.approx(model.optimizer.learning_rate.numpy())
    assert loaded.loss.get_config()["label_smoothing"] == 0.1
    # The moments came back too: one more identical batch moves both models alike.
    for m in (model, loaded):
        m.train_on_batch(x[:8], y[:8])
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_keras_file_round_trip_with_the_spatial_transformer(tmp_path):
    model = stn_classifier()
    x = np.random.default_rng(3).random((2, 28, 28, 1)).astype(np.float32)
    model.save(tmp_path / "stn.keras")
    loaded = keras.models.load_model(tmp_path / "stn.keras")
    assert type(loaded.get_layer("stn")).__name__ == "SpatialTransformer"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_train_with_adamw_schedule_mixup_label_smoothing_and_a_checkpoint(tmp_path):
    x, y = _digits("train", 64)
    x_val, y_val = _digits("val", 32)
    history = train(
        _small,
        (x, y),
        (x_val, y_val),
        epochs=3,
        batch_size=16,
        optimizer="adamw",
        learning_rate=cosine_with_warmup(0.02, total_steps=12, warmup_steps=2),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        mix=keras.layers.MixUp(alpha=0.2, seed=0),
        checkpoint=tmp_path / "best.keras",
        mixed_precision=None,
    )
    assert isinstance(history.model.optimizer, keras.optimizers.AdamW)
    assert int(history.model.optimizer.iterations) == 12
    best = keras.models.load_model(tmp_path / "best.keras")
    val_loss = best.evaluate(x_val, y_val, verbose=0)
    assert val_loss[0] == pytest.approx(min(history.history["val_loss"]), rel=1e-5)
