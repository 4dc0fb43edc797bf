"""ConvolutionExplorer: inputs, kernel presets and custom values, stride, padding, flip."""

import numpy as np
import pytest

from cnncourse.widgets import KERNELS, ConvolutionExplorer
from cnncourse.widgets.convolution import EDGE_MATRIX, fit_kernel
from cnncourse.widgets.inputs import format_matrix, parse_matrix


def correlate(x, k, stride=1):
    """Cross-correlation by loops: the book's formula."""
    kh, kw = k.shape
    oh, ow = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    return np.array(
        [
            [np.sum(x[i * stride : i * stride + kh, j * stride : j * stride + kw] * k) for j in range(ow)]
            for i in range(oh)
        ]
    )


def test_default_is_sobel_on_the_edge_matrix():
    ex = ConvolutionExplorer()
    np.testing.assert_array_equal(ex.input, EDGE_MATRIX)
    np.testing.assert_array_equal(ex.kernel, KERNELS["sobel x (vertical edges)"])
    np.testing.assert_allclose(ex.result, correlate(EDGE_MATRIX, ex.kernel))
    np.testing.assert_allclose(ex.result[0], [0, 36, 36, 0])
    np.testing.assert_array_equal(ex.view.kernel, KERNELS["sobel x (vertical edges)"].ravel())
    assert ex.error == ""


@pytest.mark.parametrize(
    ("stride", "padding", "shape", "pads"),
    [
        (1, "valid", (4, 4), (0, 0, 0, 0)),
        (2, "valid", (2, 2), (0, 0, 0, 0)),
        (1, "same", (6, 6), (1, 1, 1, 1)),
        (1, 2, (8, 8), (2, 2, 2, 2)),
        (3, 1, (2, 2), (1, 1, 1, 1)),
    ],
)
def test_stride_and_padding(stride, padding, shape, pads):
    ex = ConvolutionExplorer()
    ex.stride.value = stride
    ex.padding.value = padding
    assert ex.result.shape == shape and ex.pads == pads
    t, b, l, r = pads
    np.testing.assert_allclose(ex.result, correlate(np.pad(EDGE_MATRIX, ((t, b), (l, r))), ex.kernel, stride))


def test_preset_fills_the_weights_and_a_5x5_preset_grows_the_kernel():
    ex = ConvolutionExplorer()
    ex.preset.value = "box blur"
    np.testing.assert_allclose(ex.kernel_values(), np.full((3, 3), 1 / 9), atol=1e-4)
    np.testing.assert_allclose(ex.result, correlate(EDGE_MATRIX, ex.kernel_values()))
    ex.preset.value = "gaussian blur 5x5"
    assert ex.size.value == 5 and len(ex.view.kernel) == 25 and ex.result.shape == (2, 2)
    np.testing.assert_array_equal(ex.view.kernel, KERNELS["gaussian blur 5x5"].ravel())
    ex.size.value = 3  # crop to the centre
    assert len(ex.view.kernel) == 9 and ex.result.shape == (4, 4)
    np.testing.assert_allclose(ex.kernel, fit_kernel(KERNELS["gaussian blur 5x5"], 3), atol=1e-4)


def test_weights_typed_in_the_browser_are_used_when_custom():
    ex = ConvolutionExplorer(kernel="identity")
    np.testing.assert_allclose(ex.result, EDGE_MATRIX[1:-1, 1:-1])
    ex.preset.value = "custom"  # what the browser sends when a box is typed in
    ex.view.kernel = [0, 0, 0, 0, 2, 0, 0, 0, 0]
    np.testing.assert_allclose(ex.result, 2 * EDGE_MATRIX[1:-1, 1:-1])
    ex.size.value = 5  # the typed weights are kept, centred in zeros
    np.testing.assert_array_equal(ex.kernel_values(), np.pad([[0, 0, 0], [0, 2, 0], [0, 0, 0]], 1))


def test_set_kernel_and_5x5_own_values():
    ex = ConvolutionExplorer()
    k = np.arange(25, dtype=float).reshape(5, 5)
    ex.set_kernel(k)
    assert ex.preset.value == "custom" and ex.size.value == 5
    np.testing.assert_allclose(ex.result, correlate(EDGE_MATRIX, k))
    with pytest.raises(ValueError, match="3x3 or 5x5"):
        ex.set_kernel(np.ones((4, 4)))


def test_flip_gives_true_convolution():
    ex = ConvolutionExplorer(kernel="emboss")
    before = ex.result.copy()
    ex.flip.value = True
    np.testing.assert_array_equal(ex.kernel, KERNELS["emboss"][::-1, ::-1])
    np.testing.assert_allclose(ex.result, correlate(EDGE_MATRIX, KERNELS["emboss"][::-1, ::-1]))
    assert not np.allclose(before, ex.result)


def test_typed_matrix_and_a_bad_one():
    ex = ConvolutionExplorer(kernel="identity")
    ex.picker.matrix.value = "1 2 3\n4 5 6\n7 8 9"
    np.testing.assert_allclose(ex.result, [[5]])
    ex.picker.matrix.value = "1 2\n3"
    assert "same number of values" in ex.error
    assert "image/png" not in ex.fallback(), "no figure for a bad matrix"
    ex.picker.matrix.value = "1 x"
    assert "numbers only" in ex.error
    ex.picker.matrix.value = "1,2,3\n4,5,6\n7,8,9"
    assert ex.error == ""
    np.testing.assert_allclose(parse_matrix(format_matrix(EDGE_MATRIX)), EDGE_MATRIX)


def test_real_photo_and_own_image():
    ex = ConvolutionExplorer(source="cat", kernel="sobel y (horizontal edges)")
    assert ex.picker.matrix.layout.display != "none", "shown: the static book could not show it again"
    h, w = ex.input.shape
    assert min(h, w) == 128 and ex.result.shape == (h - 2, w - 2)
    np.testing.assert_allclose(ex.result[:3, :3], correlate(ex.input[:5, :5], ex.kernel), atol=1e-5)
    img = np.random.default_rng(0).random((10, 12, 3))
    own = ConvolutionExplorer(image=img, kernel="box blur")
    assert own.picker.source.value == "image"
    np.testing.assert_allclose(own.result, correlate(img.mean(-1), KERNELS["box blur"]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="kernel must be one of"):
        ConvolutionExplorer(kernel="nope")
    with pytest.raises(ValueError, match="padding"):
        ConvolutionExplorer(padding=7)
    with pytest.raises(ValueError, match="source"):
        ConvolutionExplorer(source="dog")


def test_static_fallback_is_the_current_figure_with_its_alt_text():
    import base64

    ex = ConvolutionExplorer(source="coins", kernel="sobel y (horizontal edges)")
    bundle, metadata = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    h, w = ex.input.shape
    oh, ow = ex.result.shape
    assert metadata["image/png"]["alt"] == (
        f"Input {h}×{w} (photo: coins), the sobel y (horizontal edges) kernel 3×3 and the output {oh}×{ow}, "
        f"values from {ex.result.min():.3g} to {ex.result.max():.3g}."
    )
    ex.flip.value = True
    assert base64.b64decode(ex._repr_mimebundle_()[0]["image/png"]) != png, "it follows the controls"
    assert "ConvolutionExplorer" in bundle["text/plain"]
