"""Input checks shared by the naive and fast layers: clear errors for bad arrays.

Every message says what was expected and what was given, so a learner who passes
``(28, 28)`` where ``(N, H, W, C)`` was needed sees exactly that.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..common import positive_int

__all__ = ["positive_int"]  # re-exported: the layers and the model check counts with it


def as_float_array(x, name: str, ndim: int | None = None, layout: str = "") -> np.ndarray:
    """Return ``x`` as a floating-point ndarray, checking its number of dimensions.

    Float arrays keep their dtype (float32 stays float32); integer and bool arrays
    become float64. ``layout`` names the axes for the error message, e.g. ``"(N, H, W, C)"``.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers; got {type(x).__name__}") from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        expected = f"a {ndim}-D array {layout}".rstrip()
        raise ValueError(f"{name} must be {expected}; got shape {arr.shape} ({arr.ndim}-D)")
    return arr


def pair(value, name: str) -> tuple[int, int]:
    """Turn ``3`` or ``(3, 2)`` into a pair of positive ints, or raise."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        raise TypeError(f"{name} must be an int or a pair of ints; got {value!r}")
    a, b = int(value[0]), int(value[1])
    if a <= 0 or b <= 0:
        raise ValueError(f"{name} must be positive; got {value!r}")
    return a, b


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Keras' "same" padding along one axis: output ``ceil(size / stride)``.

    Returns ``(before, after)``; when the total is odd the extra row goes after,
    as in TensorFlow.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, size_hw, kernel_hw, stride_hw) -> tuple[int, int, int, int]:
    """``padding`` as ``(top, bottom, left, right)``; accepts an int, "valid" or "same"."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0, 0, 0
        if mode == "same":
            top, bottom = same_padding(size_hw[0], kernel_hw[0], stride_hw[0])
            left, right = same_padding(size_hw[1], kernel_hw[1], stride_hw[1])
            return top, bottom, left, right
        raise ValueError(f'padding must be an int, "valid" or "same"; got {padding!r}')
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        if padding < 0:
            raise ValueError(f"padding must be >= 0; got {padding}")
        p = int(padding)
        return p, p, p, p
    raise TypeError(f'padding must be an int, "valid" or "same"; got {padding!r}')


def output_size(size: int, kernel: int, stride: int, pad_total: int, axis: str = "") -> int:
    """Output length of a sliding window: ``floor((size + pad_total - kernel) / stride) + 1``."""
    padded = size + pad_total
    if kernel > padded:
        where = f" along {axis}" if axis else ""
        raise ValueError(
            f"the window ({kernel}) is larger than the padded input ({padded} = {size} + "
            f"padding {pad_total}){where}; use a smaller kernel or more padding"
        )
    return (padded - kernel) // stride + 1


def check_conv_inputs(x, w, b):
    """Validate conv2d inputs; returns x, w, b as arrays of x's float dtype (b zeros if None)."""
    x = as_float_array(x, "x", 4, "(N, H, W, C)")
    w = as_float_array(w, "w", 4, "(KH, KW, C_in, C_out)").astype(x.dtype, copy=False)
    if w.shape[2] != x.shape[3]:
        raise ValueError(
            f"channel mismatch: x has {x.shape[3]} channels (shape {x.shape}) but w expects "
            f"C_in={w.shape[2]} (shape {w.shape}, layout (KH, KW, C_in, C_out))"
        )
    if b is None:
        b = np.zeros(w.shape[3], dtype=x.dtype)
    b = as_float_array(b, "b", 1, "(C_out,)").astype(x.dtype, copy=False)
    if b.shape[0] != w.shape[3]:
        raise ValueError(f"b must have shape ({w.shape[3]},) to match w's C_out; got {b.shape}")
    return x, w, b


def check_dense_inputs(x, w, b):
    """Validate dense inputs; returns x, w, b as arrays of x's float dtype (b may be None)."""
    x = as_float_array(x, "x")
    if x.ndim != 2:
        hint = "; flatten images first" if x.ndim > 2 else ""
        raise ValueError(f"x must be a 2-D array (N, D_in); got shape {x.shape} ({x.ndim}-D){hint}")
    w = as_float_array(w, "w", 2, "(D_in, D_out)").astype(x.dtype, copy=False)
    if w.shape[0] != x.shape[1]:
        raise ValueError(
            f"feature mismatch: x has {x.shape[1]} features (shape {x.shape}) but w expects "
            f"D_in={w.shape[0]} (shape {w.shape}, layout (D_in, D_out)); flatten images first"
        )
    if b is None:
        return x, w, None
    b = as_float_array(b, "b", 1, "(D_out,)").astype(x.dtype, copy=False)
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"b must have shape ({w.shape[1]},) to match w's D_out; got {b.shape}")
    return x, w, b
