"""The vectorised layers give the loop versions' numbers to 1e-10 in float64."""

import numpy as np
import pytest

from cnncourse.nn import functional as F
from cnncourse.nn import naive as N
from cnncourse.nn import scratch

CONV_CASES = [
    # x shape, w shape, stride, padding
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, 0),
    ((2, 7, 6, 3), (3, 3, 3, 4), 2, "same"),
    ((1, 8, 8, 3), (3, 2, 3, 4), 1, "same"),  # non-square kernel
    ((2, 9, 7, 2), (2, 3, 2, 5), 2, 1),
    ((1, 6, 6, 1), (5, 5, 1, 1), 1, "valid"),
    ((2, 7, 9, 3), (3, 3, 3, 2), (2, 1), "same"),
    ((1, 5, 5, 4), (1, 1, 4, 3), 1, 0),
    ((2, 6, 6, 20), (3, 3, 20, 2), 2, "same"),  # many input channels: the other dx path
    ((1, 7, 7, 17), (2, 2, 17, 3), 1, 1),
    ((2, 5, 5, 2), (2, 2, 2, 3), 1, 2),  # padding wider than the kernel: rows of pure zeros
    ((2, 6, 5, 18), (3, 2, 18, 3), (2, 3), 3),
]

POOL_CASES = [
    ((2, 6, 6, 3), 2, None),
    ((2, 7, 7, 2), 3, 2),
    ((1, 6, 5, 3), 2, 1),
    ((2, 6, 8, 1), (2, 3), (1, 2)),
]


@pytest.mark.parametrize("block", ["batch", "image", "row"])
@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), CONV_CASES)
def test_conv2d_matches_loops(x_shape, w_shape, stride, padding, block, monkeypatch):
    # The fast conv works through the batch in blocks of output rows (whole batches here
    # unless told otherwise): check blocks of one image each and of one output row each.
    _, oh, ow, _ = F.conv_output_shape(x_shape, w_shape, stride, padding)
    row_bytes = ow * np.prod(w_shape[:3]) * 8  # one output row's im2col rows, float64
    monkeypatch.setattr(scratch, "KEEP_BYTES", {"batch": 1 << 30, "image": 0, "row": 0}[block])
    monkeypatch.setattr(scratch, "CHUNK_BYTES", {"batch": 1 << 30, "image": row_bytes * oh, "row": 1}[block])
    n_blocks = len(F._blocks(x_shape[0], oh, row_bytes))
    assert n_blocks == {"batch": 1, "image": x_shape[0], "row": x_shape[0] * oh}[block]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[-1])
    fast, fast_cache = F.conv2d_forward(x, w, b, stride, padding)
    assert (fast_cache.cols is not None) == (n_blocks == 1)  # im2col kept only then
    slow, slow_cache = N.conv2d_forward(x, w, b, stride, padding)
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)
    dout = rng.standard_normal(fast.shape)
    for g_fast, g_slow in zip(
        F.conv2d_backward(dout, fast_cache), N.conv2d_backward(dout, slow_cache), strict=True
    ):
        assert g_fast.shape == g_slow.shape
        np.testing.assert_allclose(g_fast, g_slow, rtol=0, atol=1e-10)


@pytest.mark.parametrize("mode", ["max", "avg", "sum"])
@pytest.mark.parametrize(("x_shape", "pool_size", "stride"), POOL_CASES)
def test_pooling_matches_loops(mode, x_shape, pool_size, stride):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    fast, fast_cache = F.pool_forward(x, pool_size, stride, mode)
    slow, slow_cache = N.pool_forward(x, pool_size, stride, mode)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)
    dout = rng.standard_normal(fast.shape)
    np.testing.assert_allclose(
        F.pool_backward(dout, fast_cache), N.pool_backward(dout, slow_cache), rtol=0, atol=1e-10
    )


def test_float32_in_float32_out():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 2))  # float64 weights follow the input's dtype
    out, cache = F.conv2d_forward(x, w)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.conv2d_backward(np.ones_like(out), cache))
    assert F.max_pool_forward(x)[0].dtype == np.float32
    assert F.relu_forward(x)[0].dtype == np.float32
    assert F.sigmoid_forward(x)[0].dtype == np.float32
