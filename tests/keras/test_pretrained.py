"""The shipped shapes CNN: small, accurate on its task, and a better start than random
weights for a new task with 50 labelled examples."""

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse.data import EXTRA_SHAPES, SHAPE_NAMES, make_shapes
from cnncourse.keras import models, pretrained
from cnncourse.keras._tf import keras


def test_asset_is_small_and_described():
    assert pretrained.ASSET.stat().st_size < 2 * 1024 * 1024
    info = pretrained.pretrained_info()
    assert info["classes"] == list(SHAPE_NAMES)
    assert info["input_shape"] == [32, 32, 3]
    assert info["made_by"] == "scripts/train_pretrained.py"


def test_pretrained_classifies_fresh_shapes():
    model = pretrained.load_pretrained()
    assert model.count_params() == 448 + 4640 + 18496 + 36928 + 64 * 6 + 6
    test = make_shapes(300, seed=7)  # the training images used seed 0
    accuracy = np.mean(np.argmax(model.predict(test.x, verbose=0), axis=1) == test.y)
    assert accuracy > 0.95


def _as_first_shipped(num_classes=6):
    """The architecture the asset was trained with, spelt out: plain Keras layers, no
    output dtype (the float32 policy's own)."""
    layers = keras.layers
    convs = []
    for i, f in enumerate((16, 32, 64, 64)):
        convs.append(layers.Conv2D(f, 3, padding="same", activation="relu"))
        if i < 3:
            convs.append(layers.MaxPooling2D(2))
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            *convs,
            layers.GlobalAveragePooling2D(),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )


def test_architecture_lives_in_models_and_predicts_as_shipped():
    assert pretrained.shapes_cnn is models.shapes_cnn
    model = pretrained.load_pretrained()
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "GlobalAveragePooling2D",
        "Dense",
    ]
    reference = _as_first_shipped()
    reference.set_weights(model.get_weights())
    x = make_shapes(64, seed=5).x
    np.testing.assert_array_equal(
        np.asarray(model(x, training=False)), np.asarray(reference(x, training=False))
    )
    with pytest.raises(ValueError, match="num_classes must be an int >= 2; got 1"):
        models.shapes_cnn(num_classes=1)


def test_mixed_precision_keeps_the_output_in_float32():
    x = make_shapes(64, seed=5).x
    expected = np.asarray(pretrained.load_pretrained()(x, training=False))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = pretrained.load_pretrained()
        head = pretrained.load_pretrained(num_classes=4).layers[-1]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.layers[0].compute_dtype == "float16"
    assert model.layers[-1].compute_dtype == "float32" and head.compute_dtype == "float32"
    probs = np.asarray(model(x, training=False))
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, expected, atol=2e-2)
    assert np.mean(probs.argmax(1) == expected.argmax(1)) >= 0.95


def test_new_head_and_freezing():
    model = pretrained.load_pretrained(num_classes=5, freeze=True)
    assert model.output_shape == (None, 5)
    assert [w.path.split("/")[-2] for w in model.trainable_weights] == ["new_predictions"] * 2
    # the body keeps the pretrained weights
    base = pretrained.load_pretrained()
    np.testing.assert_array_equal(
        model.get_layer("conv1").get_weights()[0], base.get_layer("conv1").get_weights()[0]
    )
    with pytest.raises(ValueError, match="num_classes must be an int >= 2 or None; got 1"):
        pretrained.load_pretrained(num_classes=1)


def test_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"scripts/train_pretrained\.py"):
        pretrained.load_pretrained(path=tmp_path / "none.npz")


def _fine_tune(model, train, test, lr, seed):
    keras.utils.set_random_seed(seed)
    model.compile(keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train.x, train.y, epochs=30, batch_size=10, verbose=0)
    return model.evaluate(test.x, test.y, verbose=0)[1]


@pytest.mark.slow
def test_fine_tuning_on_50_examples_beats_random_weights():
    train = make_shapes(50, seed=101, classes=EXTRA_SHAPES)  # 10 of each new shape
    test = make_shapes(300, seed=202, classes=EXTRA_SHAPES)
    assert np.bincount(train.y).tolist() == [10] * 5
    keras.utils.set_random_seed(0)
    scratch = _fine_tune(pretrained.shapes_cnn(num_classes=5), train, test, 1e-3, 0)
    tuned = _fine_tune(pretrained.load_pretrained(num_classes=5, seed=0), train, test, 1e-3, 0)
    frozen = _fine_tune(pretrained.load_pretrained(num_classes=5, freeze=True, seed=0), train, test, 1e-2, 0)
    # chance is 0.2; measured 0.38 (all layers tuned), 0.47 (frozen body), 0.18 (scratch)
    assert tuned > scratch + 0.08, (tuned, scratch)
    assert frozen > scratch + 0.15, (frozen, scratch)


def test_imagenet_offline_message(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/x.h5: None -- "
            "[Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(
        pretrained.PretrainedUnavailableError, match=r"ImageNet weights of MobileNetV2 .*load_pretrained\(\)"
    ):
        pretrained.imagenet_model("MobileNetV2", input_shape=(96, 96, 3), include_top=False)
    with pytest.raises(ValueError, match=r"unknown keras\.applications model 'LeNet'"):
        pretrained.imagenet_model("LeNet")


def test_imagenet_offline_through_the_real_download_path(monkeypatch):
    """No network at all: Keras' own get_file fails, and the error says so clearly."""
    import socket

    from cnncourse.data import default_cache_dir

    cached = list((default_cache_dir() / "models").glob("mobilenet_v2_weights_*0.35_96_no_top*"))
    if cached:
        pytest.skip(f"the weights are cached ({cached[0]}), so nothing would be downloaded")

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    with pytest.raises(pretrained.PretrainedUnavailableError) as err:
        pretrained.imagenet_model("MobileNetV2", input_shape=(96, 96, 3), alpha=0.35, include_top=False)
    message = str(err.value)
    assert "https://" in message and "network disabled in tests" in message
    assert str(default_cache_dir() / "models") in message
    assert "cnncourse.keras.load_pretrained()" in message
