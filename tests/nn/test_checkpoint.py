"""Checkpoints of the NumPy engine: a saved model predicts exactly as before, training
resumes where it stopped, ModelCheckpoint keeps the best epoch, and a file that is not
a checkpoint is refused with a message that says why."""

import inspect
import json
import zipfile

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.nn.checkpoint import LAYERS, CheckpointError, ModelCheckpoint, load_model, save_model
from cnncourse.nn.schedules import CosineDecay, LinearWarmup


def _every_layer_kind(dtype=np.float32):
    return nn.Sequential(
        [
            nn.Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer=nn.L2(1e-3)),
            nn.BatchNorm(momentum=0.9),
            nn.MaxPool2D(2),
            nn.Conv2D(4, (2, 3), strides=(1, 2), padding=1, use_bias=False, kernel_initializer="he_normal"),
            nn.LeakyReLU(0.2),
            nn.AvgPool2D(2, strides=1),
            nn.Activation("tanh"),
            nn.SumPool2D(1),
            nn.GlobalAvgPool2D(),
            nn.Dropout(0.25, seed=7),
            nn.Dense(6, kernel_regularizer=nn.Regularizer(l1=1e-4, l2=1e-4)),
            nn.ReLU(),
            nn.Dense(3),
            nn.Softmax(),
        ],
        input_shape=(8, 8, 2),
        seed=3,
        dtype=dtype,
        name="every_kind",
    )


# The arguments a layer cannot do without; every other argument keeps its default.
REQUIRED_ARGUMENTS = {"Conv2D": (4, 3), "Dense": (3,), "Activation": ("tanh",), "Dropout": (0.5,)}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_stores_each_constructor_argument(name):
    """A layer that gains an argument without adding it to get_config fails here."""
    cls = LAYERS[name]
    layer = cls(*REQUIRED_ARGUMENTS.get(name, ()))
    config = layer.get_config()
    arguments = set(inspect.signature(cls).parameters) - {"kwargs"}
    assert arguments <= set(config), f"{name}.get_config() misses {sorted(arguments - set(config))}"
    json.dumps(config)  # plain data
    assert cls.from_config(config).get_config() == config


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 2)).astype(np.float32), np.arange(n) % 3


def test_round_trip_predicts_identically(tmp_path):
    x, y = _data()
    model = _every_layer_kind()
    model.fit(x, y, epochs=2, batch_size=8, optimizer=nn.Momentum(0.05), verbose=0)
    path = save_model(model, tmp_path / "every_kind.npz")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [repr(a) for a in loaded.layers] == [repr(b) for b in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert loaded.name == "every_kind" and loaded.input_shape == (8, 8, 2) and loaded.dtype == np.float32
    assert loaded.count_params() == model.count_params()
    assert loaded.optimizer is None  # save_model without an optimizer
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_float64_model_and_the_files_entries(tmp_path):
    model = nn.Sequential([nn.Flatten(), nn.Dense(2)], input_shape=(2, 2, 1), dtype=np.float64)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["config", "weights/1.b", "weights/1.w"]
        config = json.loads(str(archive["config"]))
        assert archive["weights/1.w"].dtype == np.float64
    assert config["format"] == "cnncourse.nn checkpoint" and config["version"] == 1
    assert [layer["class_name"] for layer in config["model"]["layers"]] == ["Flatten", "Dense"]
    assert config["optimizer"] is None  # never fitted: no optimizer to store
    assert load_model(tmp_path / "m.npz").dtype == np.float64


def test_resuming_from_a_checkpoint_equals_training_straight_through(tmp_path):
    """Weights, Adam's moments, the step count and the schedule's position come back."""
    x, y = _data(32)

    def fresh():
        return nn.Sequential(
            [nn.Conv2D(3, 3, activation="relu"), nn.Flatten(), nn.Dense(3, activation="softmax")],
            input_shape=(8, 8, 2),
            seed=1,
        )

    def optimizer():
        return nn.AdamW(LinearWarmup(CosineDecay(0.02, decay_steps=12), warmup_steps=4), weight_decay=0.01)

    straight = fresh()
    straight.fit(x, y, epochs=4, batch_size=8, optimizer=optimizer(), shuffle=False, verbose=0)

    first = fresh()
    first.fit(x, y, epochs=2, batch_size=8, optimizer=optimizer(), shuffle=False, verbose=0)
    first.save(tmp_path / "half.npz")
    resumed = load_model(tmp_path / "half.npz")
    assert resumed.optimizer.iterations == 8
    assert resumed.optimizer.learning_rate == first.optimizer.learning_rate
    assert resumed.optimizer.lr == first.optimizer.lr
    resumed.fit(x, y, epochs=2, batch_size=8, optimizer=resumed.optimizer, shuffle=False, verbose=0)

    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    without = load_model(_saved(first, tmp_path / "weights_only.npz", include_optimizer=False))
    assert without.optimizer is None


def _saved(model, path, include_optimizer=True):
    model.save(path, include_optimizer=include_optimizer)
    return path


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    x, y = _data(48)
    x_val, y_val = _data(24, seed=1)
    model = nn.Sequential(
        [nn.Flatten(), nn.Dense(16, activation="relu"), nn.Dense(3, activation="softmax")],
        input_shape=(8, 8, 2),
        seed=0,
    )
    best = ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss", save_best_only=True)
    every = ModelCheckpoint(tmp_path / "epoch{epoch:02d}-{val_accuracy:.2f}.npz", monitor="val_accuracy")
    history = model.fit(
        x,
        y,
        epochs=6,
        batch_size=8,
        optimizer=nn.Adam(0.05),
        validation_data=(x_val, y_val),
        verbose=0,
        callbacks=[best, every],
    )
    val_loss = history.history["val_loss"]
    assert best.best_epoch == int(np.argmin(val_loss)) + 1
    assert best.best == pytest.approx(min(val_loss))
    improvements = sum(v < min(val_loss[:i], default=np.inf) for i, v in enumerate(val_loss))
    assert len(best.saved) == improvements and set(best.saved) == {tmp_path / "best.npz"}
    assert load_model(tmp_path / "best.npz").evaluate(x_val, y_val)[0] == pytest.approx(best.best, rel=1e-6)
    assert best.maximise is False and every.maximise is True  # mode "auto" reads the name
    assert [p.name for p in every.saved] == [
        f"epoch{e + 1:02d}-{acc:.2f}.npz" for e, acc in enumerate(history.history["val_accuracy"])
    ]


def test_model_checkpoint_errors(tmp_path):
    x, y = _data(8)
    model = nn.Sequential([nn.Flatten(), nn.Dense(3, activation="softmax")], input_shape=(8, 8, 2))
    with pytest.raises(KeyError, match="watches 'val_loss' but the logs only have"):
        model.fit(x, y, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "b.npz", save_best_only=True)])
    with pytest.raises(KeyError, match="names 'val_loss', which is not in the logs"):
        model.fit(x, y, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "{val_loss}.npz")])
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        ModelCheckpoint(tmp_path / "b.keras")
    with pytest.raises(ValueError, match='mode must be "auto", "min" or "max"'):
        ModelCheckpoint(tmp_path / "b.npz", mode="best")


def test_what_cannot_be_stored_is_refused_by_name(tmp_path):
    model = nn.Sequential(
        [nn.Flatten(), nn.Dense(2, kernel_initializer=lambda shape, rng, dtype: np.zeros(shape, dtype))],
        input_shape=(2, 2, 1),
    )
    with pytest.raises(TypeError, match="cannot store layer 'dense' in a checkpoint: it holds <function"):
        save_model(model, tmp_path / "m.npz")
    plain = nn.Sequential([nn.Flatten(), nn.Dense(2)], input_shape=(2, 2, 1))
    with pytest.raises(TypeError, match="a plain function or a class of your own cannot be stored"):
        save_model(plain, tmp_path / "m.npz", optimizer=nn.SGD(lr=lambda step: 0.1))
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        save_model(plain, tmp_path / "m.keras")
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _config(path):
    with np.load(path) as archive:
        return json.loads(str(archive["config"])), {k: archive[k] for k in archive.files if k != "config"}


@pytest.fixture
def good(tmp_path):
    model = nn.Sequential([nn.Flatten(), nn.Dense(2)], input_shape=(2, 2, 1))
    return save_model(model, tmp_path / "good.npz")


def test_alien_and_corrupted_files_give_clear_errors(tmp_path, good):
    config, arrays = _config(good)
    text = tmp_path / "notes.npz"
    text.write_text("hello, I am not an archive")
    single = tmp_path / "single.npz"
    with single.open("wb") as f:
        np.save(f, np.ones(3))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    pickled = _write_npz(
        tmp_path / "pickled.npz", config=np.array(json.dumps(config)), payload=np.array([{}], object)
    )
    newer = _write_npz(
        tmp_path / "newer.npz", config=np.array(json.dumps({**config, "version": 2})), **arrays
    )
    unknown = dict(config, model=dict(config["model"], layers=[{"class_name": "Evil", "config": {}}]))
    cases = {
        text: "is not a cnncourse.nn checkpoint: it is not a NumPy .npz archive",
        single: "it holds a single array",
        truncated: "is not a cnncourse.nn checkpoint",
        _write_npz(tmp_path / "plain.npz", a=np.ones(2)): "has no 'config' entry",
        _write_npz(tmp_path / "text.npz", config=np.array("{oops")): "'config' entry is not JSON",
        _write_npz(tmp_path / "other.npz", config=np.array('{"format": "x"}')): "does not name the format",
        pickled: "entry 'payload' cannot be read safely",
        newer: "format version 2; this version of cnncourse reads version 1",
        _write_npz(
            tmp_path / "missing.npz", config=np.array(json.dumps(config))
        ): "has no array 'weights/1.w'",
        _write_npz(
            tmp_path / "evil.npz", config=np.array(json.dumps(unknown)), **arrays
        ): "unknown class 'Evil'",
    }
    for path, message in cases.items():
        with pytest.raises(CheckpointError, match=message):
            load_model(path)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_model(tmp_path / "nowhere.npz")


def test_loading_never_unpickles(tmp_path, good, monkeypatch):
    calls = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    load_model(good)
    assert calls == [{"allow_pickle": False}]
    assert zipfile.is_zipfile(good)
