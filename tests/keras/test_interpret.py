"""Saliency, Grad-CAM and occlusion maps: hand-built models whose answers are known,
finite differences, the NumPy twin, the pretrained shapes CNN and bad input."""

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse import nn
from cnncourse.data import make_shapes
from cnncourse.keras import interpret
from cnncourse.keras._tf import keras
from cnncourse.keras.bridge import to_numpy
from cnncourse.keras.pretrained import load_pretrained

layers = keras.layers


def region_model(activation=None):
    """8x8x1 -> 2 classes: class 0's score is 2 * (sum of rows 1-2, cols 5-6), class 1's
    is -1 * (sum of rows 5-6, cols 0-1); no bias."""
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(2, use_bias=False, activation=activation)]
    )
    w = np.zeros((8, 8, 2), np.float32)
    w[1:3, 5:7, 0] = 2.0
    w[5:7, 0:2, 1] = -1.0
    model.set_weights([w.reshape(64, 2)])
    return model, w


def identity_cam_model():
    """8x8x1 -> a 1x1 conv that copies the image (the Grad-CAM layer) -> GAP -> Dense with
    weights [1, -1]: class 0 scores the image's mean, class 1 minus it."""
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(1, 1, use_bias=False, name="copy"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, use_bias=False, activation="softmax"),
        ]
    )
    model.set_weights([np.ones((1, 1, 1, 1), np.float32), np.array([[1.0, -1.0]], np.float32)])
    return model


def bright_square_images():
    x = np.zeros((2, 8, 8, 1), np.float32)
    x[0, 1:4, 4:7] = 1.0  # top right
    x[1, 5:8, 0:2] = 0.5  # bottom left
    return x


@pytest.fixture(scope="module")
def tiny_conv():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            layers.Conv2D(3, 3, padding="same", activation="tanh", name="c1"),
            layers.Conv2D(4, 3, activation="tanh", name="c2"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax"),
        ]
    )


# --------------------------------------------------------------------------- saliency


@pytest.mark.parametrize("activation", [None, "softmax"])
def test_saliency_of_a_linear_model_is_its_weights(activation):
    model, w = region_model(activation)
    x = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    sal = interpret.saliency_map(model, x, class_index=[0, 1, 0])
    assert sal.shape == (3, 8, 8) and sal.dtype == np.float32
    # the class score is the logit even behind a softmax: exactly |weights|, zero elsewhere
    np.testing.assert_allclose(sal[0], np.abs(w[..., 0]))
    np.testing.assert_allclose(sal[1], np.abs(w[..., 1]))
    assert np.count_nonzero(sal[0]) == 4 and sal[0, 1:3, 5:7].min() == 2.0
    assert getattr(model.layers[-1].activation, "__name__", None) == (activation or "linear")


def test_saliency_explains_the_predicted_class_by_default():
    model, w = region_model()
    x = np.zeros((2, 8, 8, 1), np.float32)
    x[0, 1, 5] = 1.0  # class 0 scores 2, class 1 scores 0 -> predicted 0
    x[1, 5, 0] = -1.0  # class 0 scores 0, class 1 scores 1 -> predicted 1
    sal = interpret.saliency_map(model, x)
    np.testing.assert_allclose(sal[0], np.abs(w[..., 0]))
    np.testing.assert_allclose(sal[1], np.abs(w[..., 1]))


def test_saliency_matches_finite_differences(tiny_conv):
    x = np.random.default_rng(1).normal(size=(1, 6, 6, 2)).astype(np.float32)
    logits_model = keras.Sequential([keras.Input((6, 6, 2)), *tiny_conv.layers[:-1], layers.Dense(3)])
    logits_model.layers[-1].set_weights(tiny_conv.layers[-1].get_weights())
    c = 2
    eps = 1e-2
    shifted = np.repeat(x, 2 * x.size, axis=0).reshape(x.size, 2, *x.shape[1:])
    for k in range(x.size):
        shifted[k, 0].reshape(-1)[k] += eps
        shifted[k, 1].reshape(-1)[k] -= eps
    z = logits_model.predict(shifted.reshape(-1, 6, 6, 2).astype(np.float64), verbose=0)[:, c]
    numeric = (z[0::2] - z[1::2]) / (2 * eps)
    expected = np.abs(numeric.reshape(6, 6, 2)).max(axis=-1)
    sal = interpret.saliency_map(tiny_conv, x, class_index=c)[0]
    np.testing.assert_allclose(sal, expected, rtol=2e-2, atol=2e-4)


def test_numpy_twin_agrees_with_keras(tiny_conv):
    net = to_numpy(tiny_conv)
    x = np.random.default_rng(2).normal(size=(4, 6, 6, 2)).astype(np.float32)
    for c in (None, 1):
        np.testing.assert_allclose(
            interpret.saliency_map(net, x, c), interpret.saliency_map(tiny_conv, x, c), rtol=1e-4, atol=1e-6
        )


def test_numpy_saliency_of_a_linear_net():
    net = nn.Sequential([nn.Flatten(), nn.Dense(2, activation="softmax")], input_shape=(8, 8, 1))
    _, w = region_model()
    net.set_weights([w.reshape(64, 2), np.zeros(2, np.float32)])
    sal = interpret.numpy_saliency_map(net, np.ones((1, 8, 8, 1)), class_index=1)
    np.testing.assert_allclose(sal[0], np.abs(w[..., 1]))


# --------------------------------------------------------------------------- Grad-CAM


def test_grad_cam_of_an_identity_map_is_the_normalised_image():
    model = identity_cam_model()
    x = bright_square_images()
    cam = interpret.grad_cam(model, x, class_index=0)
    assert interpret.last_conv_layer(model) == "copy"
    # weights 1/64 > 0, so ReLU(A / 64) divided by its maximum is the image divided by its max
    np.testing.assert_allclose(cam[0], x[0, ..., 0], atol=1e-6)
    np.testing.assert_allclose(cam[1], x[1, ..., 0] / 0.5, atol=1e-6)
    # class 1 scores minus the mean: every weight is negative and nothing survives the ReLU
    np.testing.assert_array_equal(interpret.grad_cam(model, x, "copy", class_index=1), 0.0)


def test_grad_cam_upsamples_a_coarse_map_to_the_input():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.AveragePooling2D(4),
            layers.Conv2D(1, 1, use_bias=False, name="copy"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1, use_bias=False),
        ]
    )
    model.set_weights([np.ones((1, 1, 1, 1), np.float32), np.ones((1, 1), np.float32)])
    x = np.zeros((1, 8, 8, 1), np.float32)
    x[0, :4, 4:] = 1.0  # only the top-right 4x4 block of the 2x2 map is on
    cam = interpret.grad_cam(model, x)[0]
    assert cam.shape == (8, 8) and cam.max() == pytest.approx(1.0)
    assert cam[0, 7] == pytest.approx(1.0) and cam[7, 0] == pytest.approx(0.0)
    assert cam[:4, 4:].mean() > 3 * cam[4:, :4].mean()


def test_grad_cam_on_shape_range_and_layers(tiny_conv):
    x = np.random.default_rng(3).normal(size=(5, 6, 6, 2)).astype(np.float32)
    for name in (None, "c1", "c2"):
        cam = interpret.grad_cam(tiny_conv, x, name)
        assert cam.shape == (5, 6, 6) and cam.dtype == np.float32
        assert cam.min() >= 0.0 and cam.max() <= 1.0
        for m in cam:
            assert m.max() == pytest.approx(1.0) or m.max() == 0.0


def test_grad_cam_works_on_a_functional_model():
    inp = keras.Input((8, 8, 1))
    a = layers.Conv2D(1, 1, use_bias=False, name="copy")(inp)
    out = layers.Dense(2, use_bias=False, activation="softmax")(layers.GlobalAveragePooling2D()(a))
    model = keras.Model(inp, out)
    model.set_weights(identity_cam_model().get_weights())
    x = bright_square_images()
    np.testing.assert_allclose(interpret.grad_cam(model, x, class_index=0)[0], x[0, ..., 0], atol=1e-6)


# --------------------------------------------------------------------------- logits


def _softmax_models():
    """The model types the explainers meet, each ending in a layer with a built-in softmax,
    and each one's logits twin: the same layers and weights, that last layer linear."""
    keras.utils.set_random_seed(1)
    out = {}
    for kind in ("sequential", "functional", "einsum"):
        conv = layers.Conv2D(4, 3, activation="tanh", name="c1")
        if kind == "einsum":  # not a Dense: its logits come from a linear twin of the layer
            last = layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c", activation="softmax")
        else:
            last = layers.Dense(3, activation="softmax")
        if kind == "sequential":
            model = keras.Sequential([keras.Input((6, 6, 2)), conv, layers.GlobalAveragePooling2D(), last])
        else:
            inp = keras.Input((6, 6, 2))
            model = keras.Model(inp, last(layers.GlobalAveragePooling2D()(conv(inp))))
        twin = keras.Sequential(
            [
                keras.Input((6, 6, 2)),
                *(
                    type(layer).from_config(layer.get_config())
                    for layer in model.layers[:-1]
                    if not isinstance(layer, layers.InputLayer)
                ),
                type(last).from_config({**last.get_config(), "activation": "linear"}),
            ]
        )
        twin.set_weights(model.get_weights())
        out[kind] = (model, twin)
    return out


@pytest.mark.parametrize("kind", ["sequential", "functional", "einsum"])
def test_logits_without_touching_the_model(kind, monkeypatch):
    """The scores are the logits, as from a model without the softmax, and the model is
    not changed, not even for a moment: switching the last layer's activation raises."""
    model, twin = _softmax_models()[kind]
    last = model.layers[-1]
    cls = type(last)

    def watched(self, name, value):
        if self is last and name == "activation":
            raise AssertionError("the explainer switched a live layer's activation")
        super(cls, self).__setattr__(name, value)

    monkeypatch.setattr(cls, "__setattr__", watched)
    config, weights = last.get_config(), [w.copy() for w in last.get_weights()]
    activation = last.activation
    x = np.random.default_rng(4).normal(size=(3, 6, 6, 2)).astype(np.float32)
    for c in (None, 2):
        np.testing.assert_allclose(
            interpret.saliency_map(model, x, c), interpret.saliency_map(twin, x, c), rtol=1e-6, atol=1e-7
        )
        np.testing.assert_allclose(
            interpret.grad_cam(model, x, "c1", c), interpret.grad_cam(twin, x, "c1", c), rtol=1e-6, atol=1e-7
        )
    assert last.activation is activation and last.get_config() == config
    for before, after in zip(weights, last.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_allclose(np.asarray(model(x)).sum(axis=1), 1.0, rtol=1e-5)  # still softmax


# --------------------------------------------------------------------------- occlusion


def test_occlusion_only_hurts_where_the_evidence_is():
    model, _ = region_model("softmax")
    x = np.zeros((8, 8, 1), np.float32)
    x[1:3, 5:7] = 1.0  # class 0 logit 8, class 1 logit 0
    occ = interpret.occlusion_map(model, x, patch=2, stride=2, fill=0.0)
    assert occ.shape == (8, 8)
    assert occ[1:3, 5:7].min() > 0.0  # hiding part of the square lowers p(class 0)
    np.testing.assert_array_equal(occ[4:, :], 0.0)  # patches away from it change nothing
    np.testing.assert_array_equal(occ[:, :4], 0.0)


def test_starts_cover_the_axis():
    assert interpret._starts(8, 3, 2) == [0, 2, 4, 5]
    assert interpret._starts(8, 4, 4) == [0, 4]


# --------------------------------------------------------------------------- pretrained


def test_pretrained_shapes_cnn_looks_at_the_shape():
    model = load_pretrained()
    data = make_shapes(24, seed=11, masks=True)
    inside = data.masks > 0
    # the shape plus a one-pixel ring: its outline is part of the evidence
    near = (
        inside
        | np.roll(inside, 1, 1)
        | np.roll(inside, -1, 1)
        | np.roll(inside, 1, 2)
        | np.roll(inside, -1, 2)
    )
    sal = interpret.saliency_map(model, data.x)
    cam = interpret.grad_cam(model, data.x, "conv3")
    for heat in (sal, cam):
        ratio = heat[near].mean() / heat[~near].mean()
        assert ratio > 1.5, ratio


# --------------------------------------------------------------------------- bad input


def test_bad_inputs(tiny_conv):
    x = np.zeros((2, 6, 6, 2), np.float32)
    with pytest.raises(TypeError, match=r"keras\.Model"):
        interpret.grad_cam("model", x)
    with pytest.raises(TypeError, match="array of shape"):
        interpret.saliency_map(tiny_conv, "images")
    with pytest.raises(ValueError, match=r"\(N, H, W, C\); got shape \(6, 6, 2\)"):
        interpret.saliency_map(tiny_conv, x[0])
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 6, 6, 2\); got \(2, 7, 7, 2\)"):
        interpret.grad_cam(tiny_conv, np.zeros((2, 7, 7, 2)))
    with pytest.raises(ValueError, match=r"class_index must be in \[0, 2\]"):
        interpret.saliency_map(tiny_conv, x, class_index=3)
    with pytest.raises(ValueError, match="2 images"):
        interpret.grad_cam(tiny_conv, x, class_index=[0, 1, 2])
    with pytest.raises(TypeError, match="class_index must be None"):
        interpret.saliency_map(tiny_conv, x, class_index=1.5)
    with pytest.raises(ValueError, match="layer_name must be one of"):
        interpret.grad_cam(tiny_conv, x, layer_name="nope")
    with pytest.raises(ValueError, match="needs \\(N, h, w, k\\) feature maps"):
        interpret.grad_cam(tiny_conv, x, layer_name=tiny_conv.layers[2].name)
    with pytest.raises(ValueError, match="no Conv2D layer"):
        interpret.grad_cam(region_model()[0], np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="no defined inputs and outputs"):
        interpret.saliency_map(keras.Sequential([layers.Dense(2)]), x)
    with pytest.raises(ValueError, match="patch must fit"):
        interpret.occlusion_map(tiny_conv, x[0], patch=7)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        interpret.occlusion_map(tiny_conv, x[0], patch=2, stride=0)
    with pytest.raises(ValueError, match="one image of shape"):
        interpret.occlusion_map(tiny_conv, x)
