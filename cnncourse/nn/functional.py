"""Forward/backward pairs for every layer of a CNN, vectorised with NumPy.

Arrays are channels-last: images ``(N, H, W, C)``, conv weights ``(KH, KW, C_in, C_out)``,
dense weights ``(D_in, D_out)``, as in Keras. Each ``*_forward`` returns ``(out, cache)``
and each ``*_backward(dout, cache)`` returns the gradients with respect to its inputs, in
the order they were passed. The loss returns ``(loss, dlogits)``. The dtype of the input
wins: float32 in, float32 out.

Each cache is a named tuple defined just above its forward function (:class:`ConvCache`,
:class:`PoolCache`, :class:`DenseCache`...), whose docstring lists what every field holds
and its shape. The backward functions read the fields by name (``cache.w``); being
tuples, the caches also unpack by position (``x, w = dense_cache``).

The loop versions in :mod:`cnncourse.nn.naive` compute the same numbers and read like the
book's equations; the tests hold the two to 1e-10 in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import scratch
from .validation import (
    as_float_array,
    check_conv_inputs,
    check_dense_inputs,
    output_size,
    pair,
    resolve_padding,
)

# --------------------------------------------------------------------------- helpers

# Up to this many input channels conv2d_backward accumulates dx channels-first (measured
# faster for C_in <= 16 on 2 cores; channels-last wins from 32 on).
_FEW_CHANNELS = 16


def windows(x: np.ndarray, window_hw, stride_hw) -> np.ndarray:
    """Read-only view of every sliding window of ``x``.

    x: ``(N, H, W, C)``. Returns ``(N, OH, OW, KH, KW, C)`` sharing memory with ``x``
    (no padding here: pad first).
    """
    n, h, w, c = x.shape
    (kh, kw), (sh, sw) = window_hw, stride_hw
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s0, s1, s2, s3 = x.strides
    return as_strided(
        x,
        shape=(n, oh, ow, kh, kw, c),
        strides=(s0, s1 * sh, s2 * sw, s1, s2, s3),
        writeable=False,
    )


def _pad_hw(x: np.ndarray, pads) -> np.ndarray:
    """Zero-pad height and width by ``(top, bottom, left, right)``."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    n, h, w, c = x.shape
    xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    xp[:, top : top + h, left : left + w, :] = x
    return xp


def _scatter_windows(dwin, x_shape, window_hw, stride_hw, dtype):
    """Sum window gradients back onto the input grid (the adjoint of :func:`windows`).

    dwin: ``(N, OH, OW, KH, KW, C)``. One slice-add per window offset, so overlapping
    windows accumulate correctly without a per-element ``np.add.at``.
    """
    _, oh, ow, kh, kw, _ = dwin.shape
    sh, sw = stride_hw
    dx = np.zeros(x_shape, dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :] += dwin[:, :, :, i, j, :]
    return dx


def conv_output_shape(input_shape, kernel_shape, stride=1, padding=0):
    """Output shape ``(N, OH, OW, C_out)`` of :func:`conv2d_forward` for these shapes.

    ``OH = floor((H + pad_top + pad_bottom - KH) / stride) + 1``, likewise for ``OW``.
    """
    n, h, w, _ = input_shape
    kh, kw, _, c_out = kernel_shape
    sh, sw = pair(stride, "stride")
    top, bottom, left, right = resolve_padding(padding, (h, w), (kh, kw), (sh, sw))
    oh = output_size(h, kh, sh, top + bottom, "height")
    ow = output_size(w, kw, sw, left + right, "width")
    return n, oh, ow, c_out


# --------------------------------------------------------------------------- convolution


class ConvCache(NamedTuple):
    """What :func:`conv2d_forward` keeps for :func:`conv2d_backward`.

    - ``x_shape``: ``(N, H, W, C_in)``, the shape of the input (and of ``dx``).
    - ``x_padded``: ``(N, H + top + bottom, W + left + right, C_in)``, the input padded with
      zeros, in the dtype of the computation. Without padding it is the input array itself,
      not a copy: change ``x`` in place only after the backward pass.
    - ``pads``: ``(top, bottom, left, right)``, the rows and columns of zeros added.
    - ``stride``: ``(sh, sw)``.
    - ``w``: ``(KH, KW, C_in, C_out)``, the kernel in ``x``'s dtype; ``dx`` needs it.
    - ``cols``: ``(N*OH*OW, KH*KW*C_in)``, the im2col matrix, kept when it takes at most
      :data:`cnncourse.nn.scratch.KEEP_BYTES`; else None.

    For larger layers the backward pass rebuilds the im2col rows from ``x_padded`` block
    by block instead of keeping them: the whole matrix is ``KH * KW`` times the input's
    size. For small ones, keeping them is cheaper than rebuilding.
    """

    x_shape: tuple[int, int, int, int]
    x_padded: np.ndarray
    pads: tuple[int, int, int, int]
    stride: tuple[int, int]
    w: np.ndarray
    cols: np.ndarray | None


def _chunks(start, stop, out_rows, rows_per_chunk):
    """``(first image, stop image, first row, stop row)`` blocks of output rows covering
    images ``start:stop``: whole images together when they fit in a chunk, else one image
    cut into bands of ``rows_per_chunk`` output rows."""
    if rows_per_chunk >= out_rows:
        step = rows_per_chunk // out_rows
        for first in range(start, stop, step):
            yield first, min(first + step, stop), 0, out_rows
        return
    for image in range(start, stop):
        for row in range(0, out_rows, rows_per_chunk):
            yield image, image + 1, row, min(row + rows_per_chunk, out_rows)


def _blocks(images, out_rows, row_bytes):
    """The blocks of output rows a conv pass works through, as :func:`_chunks` yields them.

    row_bytes: the size of one output row's im2col rows. The whole batch is one block
    (whose im2col matrix the forward pass keeps for the backward pass) when its matrix
    takes at most :data:`~cnncourse.nn.scratch.KEEP_BYTES`; otherwise blocks of about
    :data:`~cnncourse.nn.scratch.CHUNK_BYTES` each.
    """
    if images * out_rows * row_bytes <= scratch.KEEP_BYTES:
        return [(0, images, 0, out_rows)]
    rows_per_chunk = max(1, scratch.CHUNK_BYTES // max(row_bytes, 1))
    return list(_chunks(0, images, out_rows, rows_per_chunk))


def _im2col(xp, kernel_hw, stride_hw, block, out_w, keep=False):
    """The im2col rows of one block of output rows, in this thread's scratch buffer (or,
    with ``keep``, in a new array of their own).

    xp: ``(N, Hp, Wp, C_in)``; block: ``(i0, i1, r0, r1)`` from :func:`_chunks`.
    Returns ``(images * rows * OW, KH * KW * C_in)``: one row per output pixel holding
    the window it reads; the scratch buffer is valid until this thread's next call.
    """
    i0, i1, r0, r1 = block
    view = windows(xp[i0:i1], kernel_hw, stride_hw)[:, r0:r1, :out_w]
    cols = np.empty(view.shape, xp.dtype) if keep else scratch.buffer("im2col", view.shape, xp.dtype)
    np.copyto(cols, view)
    return cols.reshape(-1, np.prod(view.shape[3:]))


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    ``out[n, i, j, f] = b[f] + sum_{di, dj, c} xp[n, i*s + di, j*s + dj, c] * w[di, dj, c, f]``
    where ``xp`` is ``x`` padded with zeros.

    x: ``(N, H, W, C_in)``; w: ``(KH, KW, C_in, C_out)``; b: ``(C_out,)`` or None.
    stride: int or ``(sh, sw)``; padding: int, ``"valid"`` or ``"same"`` (Keras' rule).
    Returns ``out (N, OH, OW, C_out)`` and a :class:`ConvCache` for :func:`conv2d_backward`.
    """
    x, w, b = check_conv_inputs(x, w, b)
    kh, kw, _, _ = w.shape
    stride_hw = pair(stride, "stride")
    _, oh, ow, _ = conv_output_shape(x.shape, w.shape, stride_hw, padding)
    pads = resolve_padding(padding, x.shape[1:3], (kh, kw), stride_hw)
    xp = _pad_hw(x, pads)
    out, cols = _correlate(xp, w, (oh, ow), stride_hw, b)
    return out, ConvCache(x.shape, xp, pads, stride_hw, w, cols)


def _correlate(xp, w, out_hw, stride_hw, b=None):
    """``out (N, OH, OW, C_out)``: the cross-correlation of the padded input ``xp``
    ``(N, Hp, Wp, C_in)`` with ``w`` ``(KH, KW, C_in, C_out)``, plus ``b``; and the whole
    im2col matrix when the batch is one block (else None).

    im2col, chunk by chunk: each block of output rows copies the windows it reads into a
    matrix in reused memory, one row per output pixel, and multiplies it by the kernel
    as a ``(KH * KW * C_in, C_out)`` matrix (see :mod:`cnncourse.nn.scratch`).
    """
    kh, kw, _, c_out = w.shape
    oh, ow = out_hw
    out = np.empty((xp.shape[0], oh, ow, c_out), dtype=xp.dtype)
    w_mat = w.reshape(-1, c_out)
    bias_row = None if b is None else np.tile(b, ow)  # one long row per image row: faster
    blocks = _blocks(xp.shape[0], oh, ow * w_mat.shape[0] * xp.itemsize)
    for block in blocks:
        i0, i1, r0, r1 = block
        cols = _im2col(xp, (kh, kw), stride_hw, block, ow, keep=len(blocks) == 1)
        np.matmul(cols, w_mat, out=out[i0:i1, r0:r1].reshape(-1, c_out))
        if bias_row is not None:
            out[i0:i1, r0:r1].reshape(-1, ow * c_out)[...] += bias_row
    return out, cols if len(blocks) == 1 else None


def conv2d_backward(dout, cache):
    """Gradients of :func:`conv2d_forward`.

    dout: ``(N, OH, OW, C_out)``. Returns ``dx (N, H, W, C_in)``, ``dw`` like w, ``db (C_out,)``.

    Block by block of output rows: ``dw += cols.T @ dout_block``, with the block's im2col
    rows rebuilt from the cached padded input (or kept, for a batch in one block), and
    each kernel offset ``(i, j)`` sends ``dout_block @ w[i, j].T`` back onto the input
    pixels it read (col2im), dropping what falls on the padding. (Computing ``dx`` as a
    convolution of the padded ``dout`` with the flipped kernel measured no faster for
    stride 1, and slower with few input channels.)
    """
    xp, w, pads, stride_hw = cache.x_padded, cache.w, cache.pads, cache.stride
    kh, kw, c_in, c_out = w.shape
    d = np.ascontiguousarray(dout, dtype=xp.dtype)
    n, oh, ow, _ = d.shape
    w_mat = w.reshape(-1, c_out)
    dx = np.zeros(cache.x_shape, dtype=xp.dtype)
    scatter = _col2im_channels_first if c_in <= _FEW_CHANNELS else _col2im_channels_last
    dw = np.zeros(w_mat.shape, dtype=xp.dtype)
    if cache.cols is not None:
        blocks = [(0, n, 0, oh)]  # the whole batch, its im2col kept by the forward pass
    else:
        blocks = _blocks(n, oh, ow * w_mat.shape[0] * xp.itemsize)
    for block in blocks:
        i0, i1, r0, r1 = block
        cols = cache.cols if cache.cols is not None else _im2col(xp, (kh, kw), stride_hw, block, ow)
        d2 = d[i0:i1, r0:r1].reshape(-1, c_out)
        dw += cols.T @ d2
        scatter(dx, d2, w, block, ow, pads, stride_hw)
    db = np.ones(n * oh * ow, dtype=d.dtype) @ d.reshape(-1, c_out)  # a matvec: faster than a column sum
    return dx, dw.reshape(w.shape), db


def _kept(offset, pad_before, size, stride, first, stop):
    """Output indices ``first:stop`` whose input index ``offset + stride * r - pad_before``
    falls inside the unpadded input ``[0, size)``: returns ``(lo, hi, input slice)``."""
    lo = max(first, -((offset - pad_before) // stride))
    hi = min(stop, (size - 1 + pad_before - offset) // stride + 1)
    begin = offset + stride * lo - pad_before
    return lo, hi, slice(begin, begin + stride * (hi - lo - 1) + 1, stride)


def _col2im_channels_last(dx, d2, w, block, out_w, pads, stride_hw):
    """Add one block's input gradients onto ``dx``, one kernel offset at a time.

    dx: ``(N, H, W, C_in)``, unpadded; d2: ``(images * rows * OW, C_out)``, the block's
    output gradients. Offset ``(i, j)`` sends ``d2 @ w[i, j].T`` back to the pixels it
    read; what falls on the zero padding is dropped. Each offset's gradients are one
    contiguous ``(images, rows, OW, C_in)`` block, so every add runs along whole rows.
    """
    kh, kw, c_in, c_out = w.shape
    i0, i1, r0, r1 = block
    grads = scratch.buffer("col2im", (kh * kw, len(d2), c_in), d2.dtype)
    np.matmul(d2, w.reshape(kh * kw, c_in, c_out).transpose(0, 2, 1), out=grads)
    grads = grads.reshape(kh, kw, i1 - i0, r1 - r0, out_w, c_in)
    for i, j, (rows, cols), (g_rows, g_cols) in _offsets(dx.shape, w.shape, block, out_w, pads, stride_hw):
        dx[i0:i1, rows, cols] += grads[i, j, :, g_rows, g_cols]


def _col2im_channels_first(dx, d2, w, block, out_w, pads, stride_hw):
    """The same sum for few input channels, accumulated channels-first.

    With few channels, channels-last slices are too narrow to add quickly. Here one
    product gives each ``(offset, channel)`` pair a contiguous ``(images, rows, OW)``
    plane, added along image rows into a channels-first buffer, which is added onto
    ``dx`` once at the end.
    """
    kh, kw, c_in, c_out = w.shape
    i0, i1, r0, r1 = block
    planes = scratch.buffer("col2im", (kh * kw * c_in, len(d2)), d2.dtype)
    np.matmul(w.reshape(-1, c_out), d2.T, out=planes)
    planes = planes.reshape(kh, kw, c_in, i1 - i0, r1 - r0, out_w)
    # The input rows this block touches, and their gradients channels-first.
    first_row = max(0, stride_hw[0] * r0 - pads[0])
    stop_row = min(dx.shape[1], stride_hw[0] * (r1 - 1) + kh - pads[0])
    band = scratch.buffer("band", (c_in, i1 - i0, stop_row - first_row, dx.shape[2]), d2.dtype)
    band[...] = 0
    for i, j, (rows, cols), (g_rows, g_cols) in _offsets(dx.shape, w.shape, block, out_w, pads, stride_hw):
        band_rows = slice(rows.start - first_row, rows.stop - first_row, rows.step)
        band[:, :, band_rows, cols] += planes[i, j, :, :, g_rows, g_cols]
    dx[i0:i1, first_row:stop_row] += band.transpose(1, 2, 3, 0)


def _offsets(x_shape, w_shape, block, out_w, pads, stride_hw):
    """For each kernel offset ``(i, j)`` that reads unpadded pixels in ``block``: the input
    ``(rows, cols)`` it reads, as slices of ``dx``, and the ``(rows, cols)`` of the block's
    output that read them, as slices relative to the block. Offsets that read only
    padding are skipped."""
    height, width = x_shape[1:3]
    kh, kw = w_shape[:2]
    top, _, left, _ = pads
    sh, sw = stride_hw
    _, _, r0, r1 = block
    for i in range(kh):
        lo, hi, rows = _kept(i, top, height, sh, r0, r1)
        if lo >= hi:
            continue
        for j in range(kw):
            c_lo, c_hi, cols = _kept(j, left, width, sw, 0, out_w)
            if c_lo < c_hi:
                yield i, j, (rows, cols), (slice(lo - r0, hi - r0), slice(c_lo, c_hi))


# --------------------------------------------------------------------------- pooling

_POOL_MODES = ("max", "avg", "sum")


class PoolCache(NamedTuple):
    """What :func:`pool_forward` keeps for :func:`pool_backward`.

    - ``x_shape``: ``(N, H, W, C)``, the shape of the input (and of ``dx``).
    - ``dtype``: the input's dtype, given to ``dout`` and ``dx``.
    - ``pool_size``: ``(PH, PW)``, the window.
    - ``stride``: ``(sh, sw)``.
    - ``mode``: ``"max"``, ``"avg"`` or ``"sum"``.
    - ``argmax``: ``(N, OH, OW, C)`` int array, for max pooling only (None otherwise): where
      each window's largest value was, as the flat index ``di * PW + dj`` in the window.
    """

    x_shape: tuple[int, int, int, int]
    dtype: np.dtype
    pool_size: tuple[int, int]
    stride: tuple[int, int]
    mode: str
    argmax: np.ndarray | None


def pool_forward(x, pool_size=2, stride=None, mode="max"):
    """Max, average or sum pooling over ``pool_size`` windows (no padding).

    x: ``(N, H, W, C)``; pool_size and stride: int or pair (stride defaults to
    pool_size; a stride smaller than the window gives overlapping windows).
    Returns ``out (N, OH, OW, C)`` and a :class:`PoolCache` for :func:`pool_backward`.
    """
    if mode not in _POOL_MODES:
        raise ValueError(f"mode must be one of {_POOL_MODES}; got {mode!r}")
    x = as_float_array(x, "x", 4, "(N, H, W, C)")
    window = pair(pool_size, "pool_size")
    stride_hw = pair(pool_size if stride is None else stride, "stride")
    output_size(x.shape[1], window[0], stride_hw[0], 0, "height")
    output_size(x.shape[2], window[1], stride_hw[1], 0, "width")
    win = windows(x, window, stride_hw)
    argmax = None
    if mode == "max":
        n, oh, ow, kh, kw, c = win.shape
        flat = win.reshape(n, oh, ow, kh * kw, c)
        argmax = flat.argmax(axis=3)
        out = np.take_along_axis(flat, argmax[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    elif mode == "avg":
        out = win.mean(axis=(3, 4))
    else:
        out = win.sum(axis=(3, 4))
    return out, PoolCache(x.shape, x.dtype, window, stride_hw, mode, argmax)


def pool_backward(dout, cache):
    """Gradient of :func:`pool_forward`: ``dx (N, H, W, C)``.

    Max pooling sends each output's gradient to the one input that won (the first, on a
    tie); average pooling spreads it evenly; sum pooling copies it to the whole window.
    """
    kh, kw = cache.pool_size
    dout = np.asarray(dout, dtype=cache.dtype)
    n, oh, ow, c = dout.shape
    if cache.mode == "max":
        positions = np.arange(kh * kw).reshape(kh, kw)[None, None, None, :, :, None]
        winners = cache.argmax[:, :, :, None, None, :] == positions
        dwin = winners * dout[:, :, :, None, None, :]
    else:
        scale = 1.0 / (kh * kw) if cache.mode == "avg" else 1.0
        dwin = np.broadcast_to((dout * scale)[:, :, :, None, None, :], (n, oh, ow, kh, kw, c))
    return _scatter_windows(dwin, cache.x_shape, (kh, kw), cache.stride, cache.dtype)


def max_pool_forward(x, pool_size=2, stride=None):
    """Max pooling: the largest value of each window. See :func:`pool_forward`."""
    return pool_forward(x, pool_size, stride, "max")


def avg_pool_forward(x, pool_size=2, stride=None):
    """Average pooling: the mean of each window. See :func:`pool_forward`."""
    return pool_forward(x, pool_size, stride, "avg")


def sum_pool_forward(x, pool_size=2, stride=None):
    """Sum pooling: the sum of each window. See :func:`pool_forward`."""
    return pool_forward(x, pool_size, stride, "sum")


max_pool_backward = avg_pool_backward = sum_pool_backward = pool_backward


class GlobalAvgPoolCache(NamedTuple):
    """What :func:`global_avg_pool_forward` keeps: ``x_shape``, the input's ``(N, H, W, C)``."""

    x_shape: tuple[int, int, int, int]


def global_avg_pool_forward(x):
    """Mean over height and width. x: ``(N, H, W, C)`` -> ``(N, C)`` and a
    :class:`GlobalAvgPoolCache`."""
    x = as_float_array(x, "x", 4, "(N, H, W, C)")
    return x.mean(axis=(1, 2)), GlobalAvgPoolCache(x.shape)


def global_avg_pool_backward(dout, cache):
    """dout: ``(N, C)`` -> dx ``(N, H, W, C)``, each pixel getting ``dout / (H*W)``."""
    n, h, w, c = cache.x_shape
    grad = np.asarray(dout) / (h * w)
    return np.ascontiguousarray(np.broadcast_to(grad[:, None, None, :], (n, h, w, c)))


# --------------------------------------------------------------------------- activations


class ReluCache(NamedTuple):
    """What :func:`relu_forward` keeps: ``x``, the input (any shape, float)."""

    x: np.ndarray


def relu_forward(x):
    """``max(0, x)`` element-wise; any shape. Returns ``out`` and a :class:`ReluCache`."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0), ReluCache(x)


def relu_backward(dout, cache):
    """Passes the gradient where the input was positive: ``dout * (x > 0)``."""
    return dout * (cache.x > 0)


class LeakyReluCache(NamedTuple):
    """What :func:`leaky_relu_forward` keeps.

    - ``x``: the input (any shape, float).
    - ``alpha``: the slope for negative inputs.
    """

    x: np.ndarray
    alpha: float


def leaky_relu_forward(x, alpha=0.01):
    """``x`` where positive, ``alpha * x`` elsewhere; any shape. Returns ``out`` and a
    :class:`LeakyReluCache`."""
    x = as_float_array(x, "x")
    return np.where(x > 0, x, alpha * x), LeakyReluCache(x, alpha)


def leaky_relu_backward(dout, cache):
    """``dout`` where the input was positive, ``alpha * dout`` elsewhere."""
    return np.where(cache.x > 0, dout, cache.alpha * dout)


class SigmoidCache(NamedTuple):
    """What :func:`sigmoid_forward` keeps: ``out``, its output ``s`` (shape and dtype of
    the input); the derivative ``s * (1 - s)`` needs nothing else."""

    out: np.ndarray


def sigmoid_forward(x):
    """``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``; any shape.
    Returns ``out`` and a :class:`SigmoidCache`."""
    x = as_float_array(x, "x")
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
    return out, SigmoidCache(out)


def sigmoid_backward(dout, cache):
    """``dout * s * (1 - s)`` where ``s`` is the forward output."""
    s = cache.out
    return dout * s * (1 - s)


class TanhCache(NamedTuple):
    """What :func:`tanh_forward` keeps: ``out``, its output ``tanh(x)`` (shape and dtype of
    the input); the derivative ``1 - tanh(x)**2`` needs nothing else."""

    out: np.ndarray


def tanh_forward(x):
    """Hyperbolic tangent; any shape. Returns ``out`` and a :class:`TanhCache`."""
    out = np.tanh(as_float_array(x, "x"))
    return out, TanhCache(out)


def tanh_backward(dout, cache):
    """``dout * (1 - tanh(x)**2)``."""
    return dout * (1 - cache.out**2)


def softmax(logits, axis=-1):
    """Probabilities from scores, stable for huge logits (the max is subtracted first)."""
    z = as_float_array(logits, "logits")
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


class SoftmaxCache(NamedTuple):
    """What :func:`softmax_forward` keeps: ``out``, the probabilities ``s`` (shape and
    dtype of the input, each row summing to 1)."""

    out: np.ndarray


def softmax_forward(x):
    """Softmax over the last axis as a layer: ``out`` and a :class:`SoftmaxCache`."""
    out = softmax(x)
    return out, SoftmaxCache(out)


def softmax_backward(dout, cache):
    """Vector-Jacobian product of softmax: ``s * (dout - sum(dout * s))`` per row."""
    s = cache.out
    return s * (dout - (dout * s).sum(axis=-1, keepdims=True))


# --------------------------------------------------------------------------- dense, flatten


class DenseCache(NamedTuple):
    """What :func:`dense_forward` keeps for :func:`dense_backward`.

    - ``x``: ``(N, D_in)``, the input; ``dw = x.T @ dout``.
    - ``w``: ``(D_in, D_out)``, the weights in ``x``'s dtype; ``dx = dout @ w.T``.
    """

    x: np.ndarray
    w: np.ndarray


def dense_forward(x, w, b=None):
    """Fully connected layer ``x @ w + b``. x: ``(N, D_in)``, w: ``(D_in, D_out)``,
    b: ``(D_out,)`` or None. Returns ``out (N, D_out)`` and a :class:`DenseCache`."""
    x, w, b = check_dense_inputs(x, w, b)
    out = x @ w
    if b is not None:
        out += b
    return out, DenseCache(x, w)


def dense_backward(dout, cache):
    """Returns ``dx = dout @ w.T``, ``dw = x.T @ dout``, ``db = sum(dout)``."""
    return dout @ cache.w.T, cache.x.T @ dout, dout.sum(axis=0)


class FlattenCache(NamedTuple):
    """What :func:`flatten_forward` keeps: ``x_shape``, the input's ``(N, d1, d2, ...)``."""

    x_shape: tuple[int, ...]


def flatten_forward(x):
    """``(N, d1, d2, ...)`` -> ``(N, d1*d2*...)``, in C order (the same as Keras' Flatten).
    Returns ``out`` and a :class:`FlattenCache`."""
    x = as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more; got shape {x.shape}")
    return x.reshape(x.shape[0], -1), FlattenCache(x.shape)


def flatten_backward(dout, cache):
    """Reshape the gradient back to the input's shape."""
    return dout.reshape(cache.x_shape)


# --------------------------------------------------------------------------- regularisation


class DropoutCache(NamedTuple):
    """What :func:`dropout_forward` keeps: ``mask``, an array of ``x``'s shape and dtype
    holding 0 for dropped values and ``1 / (1 - rate)`` for kept ones; None when nothing
    was dropped (evaluation mode, or ``rate == 0``)."""

    mask: np.ndarray | None


def dropout_forward(x, rate=0.5, training=True, rng=None):
    """Inverted dropout: zero each value with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)`` so the expected output equals the input; identity when not training.

    rng: a ``numpy.random.Generator`` or an int seed (the mask is reproducible).
    Returns ``out`` and a :class:`DropoutCache`.
    """
    x = as_float_array(x, "x")
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1); got {rate}")
    if not training or rate == 0:
        return x, DropoutCache(mask=None)
    rng = np.random.default_rng(rng)
    mask = (rng.random(x.shape) >= rate).astype(x.dtype) / x.dtype.type(1 - rate)
    return x * mask, DropoutCache(mask)


def dropout_backward(dout, cache):
    """The same mask applied to the gradient (identity in evaluation mode)."""
    return dout if cache.mask is None else dout * cache.mask


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_forward` keeps for :func:`batchnorm_backward`.

    - ``x_hat``: the normalised input ``(x - mean) * inv_std``, shape and dtype of ``x``.
    - ``gamma``: ``(C,)``, the scale; ``dx`` flows through it.
    - ``inv_std``: ``(C,)``, ``1 / sqrt(var + eps)`` of the statistics used (the batch's
      when training, the running ones otherwise).
    - ``training``: whether the batch's statistics were used: then the mean and variance
      depend on ``x`` and ``dx`` has two extra terms.
    """

    x_hat: np.ndarray
    gamma: np.ndarray
    inv_std: np.ndarray
    training: bool


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.99, eps=1e-3):
    """Batch normalisation over every axis but the last (dense ``(N, D)`` or conv NHWC).

    Training: normalise with the batch's mean and variance, then update
    ``running_mean`` and ``running_var`` **in place** as
    ``running = momentum * running + (1 - momentum) * batch`` (Keras' convention).
    Evaluation: normalise with the running statistics.
    gamma, beta, running_mean, running_var: ``(C,)``. Returns ``out`` and a
    :class:`BatchNormCache`.
    """
    x = as_float_array(x, "x")
    c = x.shape[-1]
    for name, arr in (
        ("gamma", gamma),
        ("beta", beta),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        if np.shape(arr) != (c,):
            raise ValueError(f"{name} must have shape ({c},) for x of shape {x.shape}; got {np.shape(arr)}")
    axes = tuple(range(x.ndim - 1))
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = ((x - mean) * inv_std).astype(x.dtype, copy=False)
    out = gamma * x_hat + beta
    return out.astype(x.dtype, copy=False), BatchNormCache(x_hat, gamma, inv_std, training)


def batchnorm_backward(dout, cache):
    """Returns ``dx, dgamma, dbeta``.

    In training mode the mean and variance depend on every example, which gives
    ``dx = inv_std / m * (m * g - sum(g) - x_hat * sum(g * x_hat))`` with
    ``g = dout * gamma`` and ``m`` values per channel.
    """
    x_hat, inv_std = cache.x_hat, cache.inv_std
    axes = tuple(range(dout.ndim - 1))
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    g = dout * cache.gamma
    if not cache.training:
        return g * inv_std, dgamma, dbeta
    m = dout.size // dout.shape[-1]
    dx = inv_std / m * (m * g - g.sum(axis=axes) - x_hat * (g * x_hat).sum(axis=axes))
    return dx.astype(dout.dtype, copy=False), dgamma, dbeta


def l2_penalty(w, lam):
    """Weight decay ``lam * sum(w**2)`` (Keras' L2); returns ``(penalty, dw)``."""
    w = np.asarray(w)
    return lam * float(np.sum(w * w)), 2 * lam * w


def l1_penalty(w, lam):
    """``lam * sum(|w|)`` (Keras' L1), pushing weights to exactly zero; ``(penalty, dw)``."""
    w = np.asarray(w)
    return lam * float(np.sum(np.abs(w))), lam * np.sign(w)


# --------------------------------------------------------------------------- loss


def _labels_as_indices(y, n, k):
    y = np.asarray(y)
    if y.ndim == 2:  # one-hot or soft targets
        if y.shape != (n, k):
            raise ValueError(f"one-hot labels must have shape ({n}, {k}); got {y.shape}")
        return None, y
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) or ({n}, {k}); got {y.shape}")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"labels must be integer class indices; got dtype {y.dtype}")
    bad = (y < 0) | (y >= k)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"labels must be in [0, {k - 1}] for {k} classes; got {y[i]} at index {i}")
    return y, None


def softmax_cross_entropy(logits, y, label_smoothing=0.0):
    """Mean categorical cross-entropy of ``softmax(logits)``, and its gradient.

    logits: ``(N, K)`` raw scores; y: ``(N,)`` integer labels or ``(N, K)`` one-hot (or
    soft) targets. ``loss = -mean(log softmax(logits)[n, y_n])``;
    ``dlogits = (softmax(logits) - onehot) / N``.
    label_smoothing: ``s`` in [0, 1); the targets become ``(1 - s) * onehot + s / K``, as
    in Keras' ``CategoricalCrossentropy(label_smoothing=s)``: the loss then stops
    rewarding an ever larger gap between the right logit and the others, which keeps the
    model from growing over-confident.
    Uses log-sum-exp, so logits of 1000 or -1000 are fine; NaN or inf raises ValueError.
    """
    if not 0 <= label_smoothing < 1:  # also False for NaN
        raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}")
    z = as_float_array(logits, "logits", 2, "(N, K)")
    if not np.all(np.isfinite(z)):
        bad = np.argwhere(~np.isfinite(z))[0]
        raise ValueError(
            f"logits contain {z[tuple(bad)]} at index {tuple(int(i) for i in bad)}; training has "
            "diverged (try a smaller learning rate) or the input holds NaN"
        )
    n, k = z.shape
    idx, onehot = _labels_as_indices(y, n, k)
    if label_smoothing:
        if idx is not None:
            onehot, idx = np.eye(k, dtype=z.dtype)[idx], None
        onehot = (1 - label_smoothing) * onehot + label_smoothing / k
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    if idx is not None:
        loss = -log_probs[np.arange(n), idx].mean()
        dlogits = probs
        dlogits[np.arange(n), idx] -= 1
    else:
        onehot = onehot.astype(z.dtype, copy=False)
        loss = -(onehot * log_probs).sum(axis=1).mean()
        dlogits = probs - onehot
    return float(loss), dlogits / n


def accuracy(scores, y) -> float:
    """Fraction of rows whose argmax equals the label. scores: ``(N, K)``; y: ``(N,)`` or one-hot."""
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    return float(np.mean(np.argmax(scores, axis=1) == y))
