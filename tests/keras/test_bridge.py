"""Keras <-> cnncourse.nn: same weights give the same outputs and the same gradients."""

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse import nn
from cnncourse.keras import bridge, lenet5, seed_cnn
from cnncourse.keras._tf import keras

BUILDERS = {"seed_cnn": seed_cnn, "lenet5": lenet5}


def _inputs(seed, n=16):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1)).astype(np.float32), np.arange(n) % 10


def _relu_margin(net, x):
    """Smallest |pre-activation| of a ReLU layer: near 0, float32 rounding may flip the
    ReLU's derivative and the two gradients legitimately differ (a kink, not a bug)."""
    net.forward(x, training=True)
    margins = [
        np.abs(layer.logits).min() for layer in net.layers if getattr(layer, "activation", None) == "relu"
    ]
    return min(margins, default=np.inf)


@pytest.fixture(scope="module", params=list(BUILDERS))
def pair(request):
    keras.utils.set_random_seed(0)
    model = BUILDERS[request.param]()
    return model, bridge.to_numpy(model)


def test_outputs_agree_float32(pair):
    model, net = pair
    assert net.dtype == np.float32
    assert sum(layer.count_params() for layer in net.layers) == model.count_params()
    x, _ = _inputs(1)
    assert bridge.compare_outputs(model, net, x) < 1e-5
    # and the outputs are not trivially equal (e.g. all uniform)
    assert np.ptp(np.asarray(model(x))) > 1e-3


def test_one_training_step_gradients_agree(pair):
    model, net = pair
    x, y = _inputs(2)
    assert _relu_margin(net, x) > 5e-7  # these inputs sit away from ReLU kinks
    errors = bridge.compare_gradients(model, net, x, y)
    assert len(errors) == len(model.trainable_weights) == 10
    assert max(errors.values()) < 1e-4, errors
    _, theirs, _ = bridge.gradients(model, net, x, y)
    assert all(np.abs(g).max() > 0 for g in theirs)


def test_to_keras_round_trip(pair):
    model, net = pair
    back = bridge.to_keras(net)
    x, _ = _inputs(3, n=4)
    assert back.count_params() == model.count_params()
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(model(x)), atol=1e-6)


def test_copy_weights_numpy_to_keras_after_numpy_training():
    keras.utils.set_random_seed(0)
    model = seed_cnn()
    net = bridge.to_numpy(model)
    x, y = _inputs(4, n=32)
    opt = nn.SGD(0.1)
    for _ in range(2):
        net.train_step(x, y, opt)
    assert bridge.compare_outputs(model, net, x) > 1e-4  # they diverged
    bridge.copy_weights(net, model)
    assert bridge.compare_outputs(model, net, x) < 1e-5


def test_batch_norm_and_padding_convert():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            keras.layers.ZeroPadding2D(1),
            keras.layers.Conv2D(4, 3, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    bn = model.layers[2]
    bn.set_weights([np.full(4, 1.5), np.full(4, 0.1), np.full(4, 0.2), np.full(4, 2.0)])
    net = bridge.to_numpy(model)
    assert isinstance(net.layers[0], nn.Conv2D) and net.layers[0].padding == 1
    assert [type(layer).__name__ for layer in net.layers] == [
        "Conv2D",
        "BatchNorm",
        "Activation",
        "GlobalAvgPool2D",
        "Dropout",
        "Dense",
    ]
    x = np.random.default_rng(5).normal(size=(4, 12, 12, 3)).astype(np.float32)
    assert bridge.compare_outputs(model, net, x) < 1e-5


def test_copy_weights_shape_mismatch():
    keras.utils.set_random_seed(0)
    net = bridge.to_numpy(seed_cnn())
    with pytest.raises(
        ValueError,
        match=r"conv1 has weights of shapes \[\(3, 3, 1, 32\), "
        r"\(32,\)\], but c1 expects \[\(5, 5, 1, 6\)",
    ):
        bridge.copy_weights(net, lenet5())


def test_unsupported_layers_are_named():
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"), keras.layers.UpSampling2D(name="up")]
    )
    with pytest.raises(TypeError, match="'up' \\(UpSampling2D\\) has no NumPy equivalent"):
        bridge.to_numpy(model)
    with pytest.raises(TypeError, match=r"expected a keras\.Model; got str"):
        bridge.to_numpy("seed_cnn")
    with pytest.raises(TypeError, match=r"expects a cnncourse\.nn\.Sequential; got Sequential"):
        bridge.to_keras(model)
