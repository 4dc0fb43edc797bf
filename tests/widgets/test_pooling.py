"""PoolingExplorer: max / average / sum, window and stride, against loops."""

import numpy as np
import pytest

from cnncourse.widgets import PoolingExplorer
from cnncourse.widgets.pooling import POOL_MATRIX

REDUCE = {"max": np.max, "avg": np.mean, "sum": np.sum}


def pool(x, k, s, mode):
    oh, ow = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    return np.array(
        [[REDUCE[mode](x[i * s : i * s + k, j * s : j * s + k]) for j in range(ow)] for i in range(oh)]
    )


def test_the_books_example():
    ex = PoolingExplorer()
    np.testing.assert_array_equal(ex.result, [[4, 2], [5, 6]])  # [[1, 3], [2, 4]] -> 4
    assert ex.view.modes == ["max", "avg", "sum"] and ex.view.mode == 0
    assert (ex.view.pool_size, ex.view.stride) == (2, 2)


@pytest.mark.parametrize("mode", ["max", "avg", "sum"])
@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 1), (2, 1), (4, 4)])
def test_modes_windows_strides(mode, size, stride):
    ex = PoolingExplorer()
    ex.mode.value = mode
    ex.pool_size.value = size
    ex.stride.value = stride
    np.testing.assert_allclose(ex.result, pool(POOL_MATRIX, size, stride, mode))


def test_photo_input_halves_each_side():
    ex = PoolingExplorer(source="coins", mode="avg")
    h, w = ex.input.shape
    assert ex.result.shape == (h // 2, w // 2)
    np.testing.assert_allclose(ex.result[:2, :2], pool(ex.input[:4, :4], 2, 2, "avg"), atol=1e-6)


def test_static_figure_changes_with_the_mode():
    ex = PoolingExplorer()
    first = ex.fallback()["image/png"]
    ex.mode.value = "sum"
    assert ex.fallback()["image/png"] != first and ex.result[0, 0] == 10


def test_window_larger_than_the_input_is_an_error_without_a_figure():
    ex = PoolingExplorer(matrix=[[1, 2], [3, 4]])
    ex.pool_size.value = 3
    assert "larger than the padded input" in ex.error
    assert "image/png" not in ex.fallback()
