"""FeatureMapViewer and layer_outputs, for a cnncourse.nn model and a Keras model."""

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.widgets import FeatureMapViewer, layer_outputs
from cnncourse.widgets.feature_maps import dequantise_maps, quantise_maps


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
    first = viewer.fallback()["image/png"]
    viewer.layer.value = names[2]
    assert viewer.maps.shape == (3, 3, 6) and "(3, 3, 6)" in viewer.describe()
    viewer.index.value = 2
    np.testing.assert_allclose(viewer.maps, viewer.outputs[names[2]][2])
    assert viewer.fallback()["image/png"] != first


def test_the_browser_gets_every_layers_maps_to_within_half_a_level(model, images):
    viewer = FeatureMapViewer(model, images, max_channels=5)
    sent = viewer.view.layers
    assert [(layer["name"], layer["shape"]) for layer in sent] == [
        (name, list(out.shape[1:])) for name, out in viewer.outputs.items()
    ]
    for layer in sent:
        real = viewer.outputs[layer["name"]][..., :5]  # the last layer has 6 channels
        decoded = dequantise_maps(layer["maps"])
        assert decoded.shape == real.shape
        span = real.max(axis=(1, 2)) - real.min(axis=(1, 2))  # (N, K): each map's range
        np.testing.assert_array_less(np.abs(decoded - real).max(axis=(1, 2)), span / 510 + 1e-6)
        np.testing.assert_allclose(layer["maps"]["lo"], real.min(axis=(1, 2)), rtol=1e-6)
        np.testing.assert_allclose(layer["maps"]["hi"], real.max(axis=(1, 2)), rtol=1e-6)


def test_quantise_maps_keeps_a_constant_map_exact():
    maps = np.zeros((1, 2, 3, 2))
    maps[..., 0] = -1.5  # constant: no range to spread the levels over
    maps[0, 1, 2, 1] = 4.0
    decoded = dequantise_maps(quantise_maps(maps))
    np.testing.assert_array_equal(decoded, maps)


def test_controls_are_linked_to_the_figure_by_index(model, images):
    viewer = FeatureMapViewer(model, images, layer="max_pool2d")
    links = {(link.source[1], link.target[1]) for link in viewer.links}
    assert links == {("index", "layer"), ("value", "image")}
    assert viewer.view.layer == 1 and viewer.view.image == 0
    assert viewer.view.images["shape"] == [3, 12, 12, 1]


def test_one_image_and_max_channels(model, images):
    viewer = FeatureMapViewer(model, images[0], max_channels=2)
    assert viewer.images.shape == (1, 12, 12, 1) and viewer.index.layout.display == "none"
    assert "first 2 shown" in viewer.describe()
    sent = [layer["maps"]["shape"] for layer in viewer.view.layers]
    assert sent == [[1, 2, 10, 10], [1, 2, 5, 5], [1, 2, 3, 3]]  # (N, K, H, W)


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
