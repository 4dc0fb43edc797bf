"""FeatureMapViewer and layer_outputs, for a cnncourse.nn model and a Keras model."""

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.widgets import FeatureMapViewer, layer_outputs


@pytest.fixture(scope="module")
def model():
    return nn.Sequential(
        [nn.Conv2D(4, 3, activation="relu"), nn.MaxPool2D(2), nn.Conv2D(6, 3), nn.Flatten(), nn.Dense(3)],
        input_shape=(12, 12, 1),
        seed=0,
    )


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).random((3, 12, 12, 1)).astype(np.float32)


def test_layer_outputs_are_the_image_shaped_activations(model, images):
    outs = layer_outputs(model, images)
    assert [o.shape for o in outs.values()] == [(3, 10, 10, 4), (3, 5, 5, 4), (3, 3, 3, 6)]
    conv = model.layers[0]
    a = conv.forward(images, training=False)
    np.testing.assert_allclose(next(iter(outs.values())), a, rtol=1e-6)


def test_viewer_switches_layer_and_image(model, images):
    viewer = FeatureMapViewer(model, images)
    names = list(viewer.outputs)
    assert viewer.layer.options == tuple(names) and viewer.maps.shape == (10, 10, 4)
    first = bytes(viewer.figure.value)
    viewer.layer.value = names[2]
    assert viewer.maps.shape == (3, 3, 6) and "(3, 3, 6)" in viewer.caption.value
    viewer.index.value = 2
    np.testing.assert_allclose(viewer.maps, viewer.outputs[names[2]][2])
    assert bytes(viewer.figure.value) != first


def test_one_image_and_max_channels(model, images):
    viewer = FeatureMapViewer(model, images[0], max_channels=2)
    assert viewer.images.shape == (1, 12, 12, 1) and viewer.index.layout.display == "none"
    assert "first 2 shown" in viewer.caption.value


def test_bad_inputs(model, images):
    with pytest.raises(ValueError, match="layer must be one of"):
        FeatureMapViewer(model, images, layer="nope")
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        FeatureMapViewer(model, images[0, :, :, 0])
    dense = nn.Sequential([nn.Flatten(), nn.Dense(2)], input_shape=(12, 12, 1), seed=0)
    with pytest.raises(ValueError, match="no layer"):
        FeatureMapViewer(dense, images)


@pytest.mark.slow
def test_keras_model(images):
    keras = pytest.importorskip("keras")
    import cnncourse.keras  # noqa: F401  (quiet TensorFlow import)

    m = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(5, 3, name="c1"),
            keras.layers.MaxPooling2D(2, name="p1"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    viewer = FeatureMapViewer(m, images, layer="p1")
    assert list(viewer.outputs) == ["c1", "p1"] and viewer.maps.shape == (5, 5, 5)
    c1 = np.asarray(m.layers[0](images))
    np.testing.assert_allclose(viewer.outputs["c1"], c1, rtol=1e-5, atol=1e-6)
