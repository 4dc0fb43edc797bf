"""The browser side of the live explorers: what travels to it and how controls reach it.
(tests/book/test_live_explorers.py checks what it computes, in Chromium.)"""

import base64

import numpy as np
import pytest

from cnncourse.widgets import ConvolutionExplorer, PoolingExplorer
from cnncourse.widgets.activations import ActivationFigure
from cnncourse.widgets.convolution import ConvolutionFigure
from cnncourse.widgets.feature_maps import FeatureMapFigure
from cnncourse.widgets.inputs import InputPicker
from cnncourse.widgets.live import JS_DIR, SHARED_JS, js_module
from cnncourse.widgets.pooling import PoolingFigure


def decode(entry) -> np.ndarray:
    """An entry of ``InputPicker.encoded_inputs()`` read the way js/arrays.js reads it."""
    raw = np.frombuffer(base64.b64decode(entry["data"]), dtype=np.dtype(entry["dtype"]).newbyteorder("<"))
    values = raw / 255 if entry["dtype"] == "uint8" else raw.astype(float)
    return values.reshape(entry["shape"])


def test_every_input_reaches_the_browser_with_the_values_python_uses():
    own = np.random.default_rng(0).random((9, 11, 3))
    picker = InputPicker(source="image", matrix=[[1, 2], [3, 4]], image=own)
    encoded = picker.encoded_inputs()
    assert len(encoded) == len(picker.source.options)
    for (label, source), entry in zip(picker.source.options, encoded, strict=True):
        picker.source.value = source
        if source == "matrix":
            assert entry is None, "the browser parses the typed matrix itself"
        else:
            np.testing.assert_array_equal(decode(entry), picker.value(), err_msg=label)


def test_controls_are_linked_to_the_figure_in_the_browser():
    ex = PoolingExplorer()
    linked = {(link.source[0], link.source[1]): link.target[1] for link in ex.links}
    assert linked == {
        (ex.picker.source, "index"): "source",
        (ex.picker.matrix, "value"): "matrix",
        (ex.mode, "index"): "mode",
        (ex.pool_size, "value"): "pool_size",
        (ex.stride, "value"): "stride",
    }
    assert all(link.target[0] is ex.view for link in ex.links)
    assert ex.view.matrix == ex.picker.matrix.value, "the figure starts from the controls' values"


def test_the_convolution_figure_gets_presets_sizes_and_paddings_by_index():
    ex = ConvolutionExplorer(kernel="box blur 5x5", stride=3, padding="same")
    view = ex.view
    assert view.presets[view.preset][0] == "box blur 5x5" and len(view.presets) == len(ex.preset.options) - 1
    assert view.sizes[view.size] == 5 and view.paddings[view.padding] == "same" and view.stride == 3
    np.testing.assert_allclose(view.kernel, np.full(25, 1 / 25))
    linked = {link.target[1] for link in ex.links}
    assert linked == {"source", "matrix", "preset", "size", "flip", "stride", "padding"}


FIGURES = [
    (PoolingFigure, "pooling"),
    (ActivationFigure, "activations"),
    (ConvolutionFigure, "convolution"),
    (FeatureMapFigure, "feature_maps"),
]


@pytest.mark.parametrize(("figure", "name"), FIGURES)
def test_one_module_with_the_shared_helpers(figure, name):
    esm = figure()._esm
    assert esm == js_module(name)
    assert esm.count("export default") == 1 and esm.rstrip().endswith("export default { render };")
    for helper in SHARED_JS:
        assert (JS_DIR / helper).read_text(encoding="utf-8") in esm
