"""Loop versions of convolution and pooling that read like the book's equations.

They are slow (pure Python loops over output pixels) and exist to be read, to be
re-implemented in the exercises, and to check :mod:`cnncourse.nn.functional`, whose
vectorised versions share these signatures and give the same numbers.

The loops keep the inputs themselves in their caches (:class:`NaiveConvCache`,
:class:`NaivePoolCache`) where the fast versions keep shapes and precomputed matrices;
fields that mean the same thing have the same names (``stride``, ``pads``, ``pool_size``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .functional import conv_output_shape
from .validation import as_float_array, check_conv_inputs, output_size, pair, resolve_padding


class NaiveConvCache(NamedTuple):
    """What the loop :func:`conv2d_forward` keeps for :func:`conv2d_backward`.

    - ``x``: ``(N, H, W, C_in)``, the input.
    - ``x_padded``: ``(N, H + top + bottom, W + left + right, C_in)``, the input with its
      zero padding (``xp`` in the equations); ``dw`` correlates it with ``dout``.
    - ``w``: ``(KH, KW, C_in, C_out)``, the kernel in ``x``'s dtype.
    - ``stride``: ``(sh, sw)``.
    - ``pads``: ``(top, bottom, left, right)``, the rows and columns of zeros added.
    """

    x: np.ndarray
    x_padded: np.ndarray
    w: np.ndarray
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """``out[n, i, j, f] = b[f] + sum_{di, dj, c} xp[n, i*sh + di, j*sw + dj, c] * w[di, dj, c, f]``.

    x: ``(N, H, W, C_in)``; w: ``(KH, KW, C_in, C_out)``; b: ``(C_out,)`` or None.
    Returns ``out (N, OH, OW, C_out)`` and a :class:`NaiveConvCache` for
    :func:`conv2d_backward`.
    """
    x, w, b = check_conv_inputs(x, w, b)
    kh, kw, _, c_out = w.shape
    sh, sw = pair(stride, "stride")
    n, oh, ow, _ = conv_output_shape(x.shape, w.shape, (sh, sw), padding)
    pads = resolve_padding(padding, x.shape[1:3], (kh, kw), (sh, sw))
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))

    out = np.zeros((n, oh, ow, c_out), dtype=x.dtype)
    for i_n in range(n):
        for i in range(oh):
            for j in range(ow):
                window = xp[i_n, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for f in range(c_out):
                    out[i_n, i, j, f] = np.sum(window * w[:, :, :, f]) + b[f]
    return out, NaiveConvCache(x, xp, w, (sh, sw), pads)


def conv2d_backward(dout, cache):
    """Each output pixel sent ``dout[n, i, j, f]`` back along the weights it used:

    ``dxp[n, i*sh + di, j*sw + dj, c] += dout[n, i, j, f] * w[di, dj, c, f]`` and
    ``dw[di, dj, c, f] += dout[n, i, j, f] * xp[n, i*sh + di, j*sw + dj, c]``.
    Returns ``dx, dw, db``.
    """
    x, xp, w = cache.x, cache.x_padded, cache.w
    sh, sw = cache.stride
    kh, kw, _, c_out = w.shape
    n, oh, ow, _ = dout.shape
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(c_out, dtype=w.dtype)
    for i_n in range(n):
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * sh, i * sh + kh)
                cols = slice(j * sw, j * sw + kw)
                for f in range(c_out):
                    g = dout[i_n, i, j, f]
                    dxp[i_n, rows, cols, :] += g * w[:, :, :, f]
                    dw[:, :, :, f] += g * xp[i_n, rows, cols, :]
                    db[f] += g
    top, _, left, _ = cache.pads
    dx = dxp[:, top : top + x.shape[1], left : left + x.shape[2], :]
    return dx, dw, db


class NaivePoolCache(NamedTuple):
    """What the loop :func:`pool_forward` keeps for :func:`pool_backward`.

    - ``x``: ``(N, H, W, C)``, the input (max pooling looks for each window's winner again).
    - ``pool_size``: ``(PH, PW)``, the window.
    - ``stride``: ``(sh, sw)``.
    - ``mode``: ``"max"``, ``"avg"`` or ``"sum"``.
    """

    x: np.ndarray
    pool_size: tuple[int, int]
    stride: tuple[int, int]
    mode: str


def pool_forward(x, pool_size=2, stride=None, mode="max"):
    """``out[n, i, j, c] = reduce(x[n, i*sh : i*sh + PH, j*sw : j*sw + PW, c])`` where
    reduce is max, mean or sum. Returns ``out (N, OH, OW, C)`` and a :class:`NaivePoolCache`."""
    if mode not in ("max", "avg", "sum"):
        raise ValueError(f"mode must be 'max', 'avg' or 'sum'; got {mode!r}")
    x = as_float_array(x, "x", 4, "(N, H, W, C)")
    ph, pw = pair(pool_size, "pool_size")
    sh, sw = pair(pool_size if stride is None else stride, "stride")
    n, h, w, c = x.shape
    oh = output_size(h, ph, sh, 0, "height")
    ow = output_size(w, pw, sw, 0, "width")
    reduce = {"max": np.max, "avg": np.mean, "sum": np.sum}[mode]

    out = np.zeros((n, oh, ow, c), dtype=x.dtype)
    for i_n in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    out[i_n, i, j, ch] = reduce(x[i_n, i * sh : i * sh + ph, j * sw : j * sw + pw, ch])
    return out, NaivePoolCache(x, (ph, pw), (sh, sw), mode)


def pool_backward(dout, cache):
    """Max: the gradient goes to the window's largest input (the first, on a tie).
    Average: each input gets ``dout / (PH * PW)``. Sum: each input gets ``dout``."""
    x, mode = cache.x, cache.mode
    (ph, pw), (sh, sw) = cache.pool_size, cache.stride
    n, oh, ow, c = dout.shape
    dx = np.zeros_like(x)
    for i_n in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    rows = slice(i * sh, i * sh + ph)
                    cols = slice(j * sw, j * sw + pw)
                    g = dout[i_n, i, j, ch]
                    if mode == "max":
                        window = x[i_n, rows, cols, ch]
                        di, dj = np.unravel_index(np.argmax(window), window.shape)
                        dx[i_n, i * sh + di, j * sw + dj, ch] += g
                    elif mode == "avg":
                        dx[i_n, rows, cols, ch] += g / (ph * pw)
                    else:
                        dx[i_n, rows, cols, ch] += g
    return dx


def max_pool_forward(x, pool_size=2, stride=None):
    """Loop max pooling; see :func:`pool_forward`."""
    return pool_forward(x, pool_size, stride, "max")


def avg_pool_forward(x, pool_size=2, stride=None):
    """Loop average pooling; see :func:`pool_forward`."""
    return pool_forward(x, pool_size, stride, "avg")


def sum_pool_forward(x, pool_size=2, stride=None):
    """Loop sum pooling; see :func:`pool_forward`."""
    return pool_forward(x, pool_size, stride, "sum")


max_pool_backward = avg_pool_backward = sum_pool_backward = pool_backward
