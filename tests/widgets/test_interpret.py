"""SaliencyExplorer: switches image, method and class; the map it shows is the one the
interpret functions compute; a NumPy model gets saliency only."""

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse import nn
from cnncourse.data import SHAPE_NAMES, make_shapes
from cnncourse.keras import interpret
from cnncourse.keras.pretrained import load_pretrained
from cnncourse.widgets.interpret import SaliencyExplorer


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture(scope="module")
def data():
    return make_shapes(4, seed=5)


def test_explorer_switches_image_method_and_class(model, data):
    ex = SaliencyExplorer(model, data.x, SHAPE_NAMES, labels=data.y)
    assert ex.heat.shape == (32, 32) and ex.error == ""
    predicted = int(np.argmax(model.predict(data.x[:1], verbose=0)))
    assert ex.explained == predicted
    np.testing.assert_allclose(ex.heat, interpret.saliency_map(model, data.x[:1])[0], rtol=1e-5)
    assert f"predicted <b>{SHAPE_NAMES[predicted]}</b>" in ex.caption.value
    assert f"true class: {SHAPE_NAMES[data.y[0]]}" in ex.caption.value
    first = bytes(ex.figure.value)

    assert ex.layer.options == ("conv1", "pool1", "conv2", "pool2", "conv3", "pool3", "conv4")
    assert ex.layer.disabled
    ex.method.value = "grad-cam"
    assert ex.layer.value == "conv4" and "conv4" in ex.caption.value and not ex.layer.disabled
    assert ex.heat.max() == pytest.approx(1.0) and ex.heat.min() >= 0
    assert bytes(ex.figure.value) != first

    other = (predicted + 1) % len(SHAPE_NAMES)
    ex.target.value = other
    assert ex.explained == other
    np.testing.assert_allclose(
        ex.heat, interpret.grad_cam(model, data.x[:1], class_index=other)[0], atol=1e-6
    )

    ex.layer.value = "conv3"
    np.testing.assert_allclose(ex.heat, interpret.grad_cam(model, data.x[:1], "conv3", other)[0], atol=1e-6)
    assert "conv3" in ex.caption.value

    ex.index.value = 3
    ex.method.value = "occlusion"
    assert ex.heat.shape == (32, 32) and "8×8 patch" in ex.caption.value
    np.testing.assert_allclose(ex.probs, model.predict(data.x[3:4], verbose=0)[0], rtol=1e-5)


def test_numpy_model_offers_saliency_only():
    net = nn.Sequential(
        [nn.Conv2D(2, 3, activation="relu"), nn.Flatten(), nn.Dense(3, activation="softmax")],
        input_shape=(6, 6, 1),
        seed=0,
    )
    x = np.random.default_rng(0).random((2, 6, 6, 1)).astype(np.float32)
    ex = SaliencyExplorer(net, x[0])
    assert [v for _, v in ex.method.options] == ["saliency"]
    assert ex.index.layout.display == "none" and "class " in ex.caption.value
    np.testing.assert_allclose(ex.heat, interpret.saliency_map(net, x[:1])[0])


def test_bad_inputs(model, data):
    with pytest.raises(ValueError, match="class_names must have 6 names"):
        SaliencyExplorer(model, data.x, ["a", "b"])
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        SaliencyExplorer(model, data.x, labels=[0, 1])
    with pytest.raises(ValueError, match="method must be one of"):
        SaliencyExplorer(model, data.x, method="lime")
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        SaliencyExplorer(model, data.x[0, :, :, 0])
    with pytest.raises(ValueError, match="layer_name must be one of"):
        SaliencyExplorer(model, data.x, layer_name="features")
    with pytest.raises(ValueError, match="expects images of shape"):
        SaliencyExplorer(model, np.zeros((1, 28, 28, 1)))
