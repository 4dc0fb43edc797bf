"""Instant checks for the exercises: call them in a notebook's test cells.

Each ``check_*`` runs the learner's function on small seeded inputs, compares it with
:mod:`cnncourse.nn`'s reference (shapes, dtypes, values, gradients) and raises an
``AssertionError`` whose message says what differs: expected vs got, the first wrong
index, and which case. On success it prints one line, and reminds the learner that the
hidden tests of a graded notebook may still check more cases.

The building blocks (:func:`assert_close`, :func:`check_function`,
:func:`check_backward`, :func:`check_gradient`, :class:`Case`) work for any exercise;
:func:`fraction_correct`, :func:`gradients_correct` (which of dx, dw, db are right) and
:func:`points` give partial credit: a test cell that gives partial credit ends with the
number of points earned, as nbgrader reads it::

    points(fraction_correct(conv2d_forward, F.conv2d_forward, cases), out_of=3)  # -> 2.25

They live in :mod:`.checking` and are re-exported here, so notebooks need only
``from cnncourse.grading import checks``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F
from cnncourse.nn.validation import output_size as _reference_output_size

from .checking import (
    HIDDEN_REMINDER,
    Case,
    assert_close,
    assert_dtype,
    assert_shape,
    check_backward,
    check_function,
    check_gradient,
    first_output,
    fraction_correct,
    gradients_correct,
    learner_facing,
    name_of,
    passed,
    points,
    run_parts,
)

__all__ = [
    "HIDDEN_REMINDER",
    "Case",
    "assert_close",
    "assert_dtype",
    "assert_shape",
    "check_avg_pool_forward",
    "check_backward",
    "check_box_blur_kernel",
    "check_conv2d_backward",
    "check_conv2d_forward",
    "check_convolve2d",
    "check_correlate2d",
    "check_cross_entropy_grad",
    "check_cross_entropy_loss",
    "check_dense_backward",
    "check_dense_forward",
    "check_edge_strength",
    "check_flatten",
    "check_function",
    "check_gradient",
    "check_leaky_relu",
    "check_leaky_relu_grad",
    "check_max_pool_forward",
    "check_one_hot",
    "check_output_size",
    "check_pool_backward",
    "check_relu_backward",
    "check_relu_forward",
    "check_sigmoid_forward",
    "check_sigmoid_grad",
    "check_sobel_kernels",
    "check_softmax",
    "check_softmax_cross_entropy",
    "check_sum_pool_forward",
    "check_tanh_forward",
    "check_tanh_grad",
    "first_output",
    "fraction_correct",
    "gradients_correct",
    "passed",
    "points",
    "run_parts",
    "score_conv2d_backward",
    "score_dense_backward",
]


# --------------------------------------------------------------------------- exercises


def _rng(seed):
    return np.random.default_rng(seed)


def _conv_cases() -> list[Case]:
    rng = _rng(0)
    specs = [  # x shape, w shape, stride, padding, dtype
        ((1, 4, 4, 1), (3, 3, 1, 1), 1, 0, np.float64),
        ((2, 5, 5, 3), (3, 3, 3, 2), 1, 1, np.float64),
        ((1, 7, 6, 2), (3, 2, 2, 3), 2, 1, np.float64),
        ((2, 5, 4, 2), (2, 3, 2, 2), 1, 1, np.float32),
    ]
    cases = []
    for xs, ws, stride, padding, dtype in specs:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[-1]).astype(dtype)
        cases.append(Case((x, w, b), {"stride": stride, "padding": padding}))
    return cases


def _conv_backward_cases(strided: bool) -> list[Case]:
    rng = _rng(6)
    cases = [c for c in _conv_cases() if c.kwargs["stride"] == 1 and c.args[0].dtype == np.float64]
    specs = [((1, 5, 6, 2), (3, 2, 2, 2), 1, 2)]  # x shape, w shape, stride, padding
    if strided:
        specs += [((1, 7, 6, 2), (3, 2, 2, 3), 2, 1), ((2, 6, 6, 1), (3, 3, 1, 2), 2, 1)]
    for xs, ws, stride, padding in specs:
        x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])
        cases.append(Case((x, w, b), {"stride": stride, "padding": padding}))
    return cases


def _close(got, expected) -> bool:
    got, expected = np.asarray(got), np.asarray(expected)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=1e-5, atol=1e-5))


def _conv_forward_diagnose(got, case: Case) -> str:
    """A hint when ``got`` is the output of a flipped or transposed kernel (computed)."""
    x, w, b = case.args
    variants = [
        (
            w[::-1, ::-1],
            "your output is the true convolution, with the kernel flipped on both axes "
            "(w[::-1, ::-1]); this layer computes a cross-correlation: multiply "
            "xp[n, i*s + di, j*s + dj, c] by w[di, dj, c, f] as it is, without flipping",
        ),
        (
            w[::-1, :],
            "your output is what the kernel gives with its rows reversed (w[::-1, :]); the "
            "kernel is not flipped (cross-correlation): window row di goes with w[di]",
        ),
        (
            w[:, ::-1],
            "your output is what the kernel gives with its columns reversed (w[:, ::-1]); "
            "the kernel is not flipped (cross-correlation): window column dj goes with w[:, dj]",
        ),
    ]
    if w.shape[0] == w.shape[1]:
        variants.append(
            (
                w.transpose(1, 0, 2, 3),
                "your output is what the kernel gives with its rows and columns swapped "
                "(w transposed): window row di and column dj go with w[di, dj]",
            )
        )
    for variant, hint in variants:
        if not np.array_equal(variant, w) and _close(got, F.conv2d_forward(x, variant, b, **case.kwargs)[0]):
            return hint
    return ""


@learner_facing
def check_output_size(fn: Callable) -> None:
    """``fn(n, k, stride, padding)``: output length of a window of size ``k`` sliding
    over ``n`` values padded by ``padding`` on each side: ``(n + 2p - k) // s + 1``."""
    cases = [(5, 3, 1, 0), (5, 3, 1, 1), (7, 3, 2, 1), (28, 5, 1, 2), (6, 2, 2, 0)]
    check_function(fn, lambda n, k, s, p: _reference_output_size(n, k, s, 2 * p), cases, name=name_of(fn))


@learner_facing
def check_conv2d_forward(fn: Callable) -> None:
    """``fn(x, w, b, stride, padding)`` -> ``out`` or ``(out, cache)``; x ``(N, H, W, C_in)``,
    w ``(KH, KW, C_in, C_out)``, b ``(C_out,)``, out ``(N, OH, OW, C_out)`` in x's dtype
    (a float32 case checks it). A flipped or transposed kernel gets a hint."""
    check_function(
        fn,
        F.conv2d_forward,
        _conv_cases(),
        name=name_of(fn),
        output=lambda r: first_output(r, name_of(fn)),
        diagnose=_conv_forward_diagnose,
    )


def _conv_backward_diagnose(grads, dout, inputs, kwargs) -> str:
    """A hint for an uncropped dx, a dx from the unflipped kernel or a flipped dw (computed)."""
    x, w, b = inputs["x"], inputs["w"], inputs["b"]
    p = kwargs.get("padding", 0)
    n, h, width, c = x.shape
    dx, dw = grads.get("dx"), grads.get("dw")
    if isinstance(p, int) and p > 0 and np.shape(dx) == (n, h + 2 * p, width + 2 * p, c):
        return (
            f"dx has the shape of the padded input {(n, h + 2 * p, width + 2 * p, c)}: crop the "
            f"padding, {p} from each side: dx = dx_padded[:, {p}:{p} + H, {p}:{p} + W, :]"
        )
    _, flipped_cache = F.conv2d_forward(x, w[::-1, ::-1].copy(), b, **kwargs)
    if _close(dx, F.conv2d_backward(dout, flipped_cache)[0]):
        return (
            "dx is the full correlation of dout with the kernel as it is; flip it on both "
            "spatial axes first (w[::-1, ::-1])"
        )
    _, dw_ref, _ = F.conv2d_backward(dout, F.conv2d_forward(x, w, b, **kwargs)[1])
    if _close(dw, dw_ref[::-1, ::-1]):
        return (
            "dw is the right dw flipped on both axes: dw is the correlation of the padded "
            "input with dout, dw[di, dj] = sum of xp[n, i*s + di, j*s + dj] * dout[n, i, j]"
        )
    return ""


@learner_facing
def check_conv2d_backward(forward: Callable, backward: Callable, *, strided: bool = False) -> None:
    """``backward(dout, cache)`` -> ``(dx, dw, db)`` for the cache of ``forward``.

    Cases with padding 0, 1 and 2 and stride 1; ``strided=True`` adds stride-2 cases (for
    a forward that takes a stride: chapter 6's takes stride 1 only). Each gradient is
    checked on its own; an uncropped dx, a dx from the unflipped kernel and a flipped dw
    get a hint."""
    cases = _conv_backward_cases(strided)
    for case in cases:
        x, w, b = case.args
        check_backward(
            forward,
            backward,
            F.conv2d_forward,
            F.conv2d_backward,
            {"x": x, "w": w, "b": b},
            forward_kwargs=case.kwargs,
            name=name_of(backward),
            quiet=True,
            note=case.note,
            diagnose=_conv_backward_diagnose,
        )
    passed(name_of(backward), len(cases), "dx, dw and db")


def _pool_cases() -> list[Case]:
    rng = _rng(1)
    return [
        Case((rng.standard_normal((1, 4, 4, 1)),), {"pool_size": 2}),
        Case((rng.standard_normal((2, 6, 6, 3)),), {"pool_size": 3}),
        Case((rng.standard_normal((1, 5, 5, 2)),), {"pool_size": 3, "stride": 2}, note="overlapping windows"),
        Case((rng.standard_normal((2, 4, 6, 3)).astype(np.float32),), {"pool_size": 2, "stride": 2}),
    ]


# Each channel has windows whose maximum appears two or three times, not first in the window.
_TIES = np.array([[1.0, 2.0, 0.0, 0.0], [2.0, 0.0, 1.0, 1.0], [3.0, 3.0, 2.0, 0.0], [3.0, 1.0, 2.0, 2.0]])


def _pool_backward_cases() -> list[Case]:
    rng = _rng(7)
    ties = np.stack([_TIES, _TIES.T[::-1]], axis=-1)[None]
    return [
        *(c for c in _pool_cases() if c.args[0].dtype == np.float64),
        Case((rng.standard_normal((1, 4, 4, 2)),), {"pool_size": 2, "stride": 1}, note="overlapping windows"),
        Case((ties,), {"pool_size": 2}, note="tied maxima: the gradient goes to the first of them"),
    ]


_OVERWRITE_HINT = (
    "your dx is what assigning gives: where windows overlap (stride < pool_size) a position "
    "can get gradient from several windows, and each window's gradient must be added "
    "(dx[...] += ..., or np.add.at), not assigned with ="
)
_ALL_TIES_HINT = (
    "your dx sends the gradient to every tied maximum of a window; send it to the first "
    "of them only (row-major order, the one np.argmax of the flattened window picks)"
)
_LAST_TIE_HINT = (
    "your dx sends the gradient to the last tied maximum of a window; send it to the first "
    "of them (row-major order, the one np.argmax of the flattened window picks)"
)


def _pool_backward_variants(x, k, s, dout, mode) -> list[tuple[np.ndarray, str]]:
    """dx as the classic mistakes compute it: ``=`` instead of ``+=``; every / the last tie."""
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    over_point, over_window, all_ties, last_tie = (np.zeros(x.shape) for _ in range(4))
    positions = np.arange(k * k)[None, :, None]
    for i in range(oh):
        for j in range(ow):
            region = (slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k), slice(None))
            win = x[region]
            g = dout[:, i, j, :][:, None, None, :]
            if mode == "max":
                flat = win.reshape(n, k * k, c)
                first = (positions == flat.argmax(axis=1)[:, None, :]).reshape(win.shape)
                last = (positions == k * k - 1 - flat[:, ::-1].argmax(axis=1)[:, None, :]).reshape(win.shape)
                local = first * g
                over_point[region] = np.where(first, g, over_point[region])
                all_ties[region] += (win == win.max(axis=(1, 2), keepdims=True)) * g
                last_tie[region] += last * g
            else:
                local = np.broadcast_to(g / (k * k), win.shape)
            over_window[region] = local
    variants = []
    if s < k:
        variants += [(over_point, _OVERWRITE_HINT)] if mode == "max" else []
        variants += [(over_window, _OVERWRITE_HINT)]
    if mode == "max":
        variants += [(all_ties, _ALL_TIES_HINT), (last_tie, _LAST_TIE_HINT)]
    return variants


def _pool_backward_diagnose(mode: str) -> Callable:
    def diagnose(grads, dout, inputs, kwargs) -> str:
        k = kwargs["pool_size"]
        s = kwargs.get("stride") or k
        for variant, hint in _pool_backward_variants(inputs["x"], k, s, dout, mode):
            if _close(grads["dx"], variant):
                return hint
        return ""

    return diagnose


@learner_facing
def check_max_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the maximum of each window, ``(N, OH, OW, C)``
    in x's dtype (a float32 case checks it)."""
    check_function(
        fn, F.max_pool_forward, _pool_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


@learner_facing
def check_avg_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the mean of each window, ``(N, OH, OW, C)``
    in x's dtype (a float32 case checks it)."""
    check_function(
        fn, F.avg_pool_forward, _pool_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


@learner_facing
def check_pool_backward(forward: Callable, backward: Callable, mode: str = "max") -> None:
    """``backward(dout, cache)`` -> ``dx`` for max or average pooling.

    Cases include overlapping windows (stride < pool_size: gradients add up) and, for max
    pooling, tied maxima (the gradient goes to the first, as ``np.argmax`` picks it);
    ``=`` instead of ``+=`` and a gradient sent to every (or the last) tie get a hint."""
    ref_forward = {"max": F.max_pool_forward, "avg": F.avg_pool_forward}[mode]
    cases = _pool_backward_cases()
    for case in cases:
        check_backward(
            forward,
            backward,
            ref_forward,
            F.pool_backward,
            {"x": case.args[0]},
            forward_kwargs=case.kwargs,
            name=name_of(backward),
            quiet=True,
            note=case.note,
            diagnose=_pool_backward_diagnose(mode),
        )
    passed(name_of(backward), len(cases), f"dx of {mode} pooling")


def _activation_cases() -> list[Case]:
    rng = _rng(2)
    x = rng.standard_normal((2, 3, 3, 2))
    x[0, 0, 0, 0] = 0.0
    return [
        Case((x,), label="x (2, 3, 3, 2)"),
        Case((rng.standard_normal((4, 5)) * 10,), label="x (4, 5), large values"),
        Case((rng.standard_normal(7).astype(np.float32),), label="x float32 (7,)"),
    ]


@learner_facing
def check_relu_forward(fn: Callable) -> None:
    """``fn(x)`` -> ``max(0, x)`` (or ``(out, cache)``), same shape and dtype as ``x``."""
    check_function(
        fn,
        F.relu_forward,
        _activation_cases(),
        name=name_of(fn),
        output=lambda r: first_output(r, name_of(fn)),
    )


@learner_facing
def check_relu_backward(forward: Callable, backward: Callable) -> None:
    """``backward(dout, cache)`` -> ``dx = dout * (x > 0)``."""
    cases = _activation_cases()[:2]
    for case in cases:
        check_backward(
            forward,
            backward,
            F.relu_forward,
            F.relu_backward,
            {"x": case.args[0]},
            name=name_of(backward),
            quiet=True,
        )
    passed(name_of(backward), len(cases), "dx")


@learner_facing
def check_sigmoid_forward(fn: Callable) -> None:
    """``fn(x)`` -> ``1 / (1 + exp(-x))``, without overflow warnings for large ``|x|``."""
    cases = [*_activation_cases(), Case((np.array([-1000.0, 0.0, 1000.0]),), label="x = [-1000, 0, 1000]")]
    with np.errstate(over="raise"):
        check_function(
            fn, F.sigmoid_forward, cases, name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
        )


@learner_facing
def check_softmax(fn: Callable) -> None:
    """``fn(logits)`` -> probabilities over the last axis; stable for huge logits."""
    rng = _rng(3)
    cases = [
        Case((rng.standard_normal((3, 4)),), label="logits (3, 4)"),
        Case((np.array([[1000.0, 1000.0, -1000.0]]),), label="logits [[1000, 1000, -1000]]"),
    ]
    with np.errstate(over="raise", invalid="raise"):
        check_function(fn, F.softmax, cases, name=name_of(fn))


@learner_facing
def check_softmax_cross_entropy(fn: Callable) -> None:
    """``fn(logits, y)`` -> ``(loss, dlogits)``: mean cross-entropy and its gradient."""
    rng = _rng(4)
    cases = [
        Case((rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])), label="logits (5, 3), y (5,)"),
        Case(
            (np.array([[500.0, -500.0], [0.0, 0.0]]), np.array([1, 0])),
            label="logits [[500, -500], [0, 0]], y [1, 0]",
        ),
    ]
    check_function(
        fn, F.softmax_cross_entropy, cases, name=name_of(fn), outputs=("loss", "dlogits"), check_dtype=False
    )


def _dense_cases() -> list[Case]:
    rng = _rng(5)
    return [
        Case(
            (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)),
            label="x (4, 3), w (3, 2), b (2,)",
        ),
        Case(
            (rng.standard_normal((1, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)),
            label="x (1, 5), w (5, 4), b (4,)",
        ),
    ]


@learner_facing
def check_dense_forward(fn: Callable) -> None:
    """``fn(x, w, b)`` -> ``x @ w + b`` (or ``(out, cache)``); x ``(N, D_in)``."""
    check_function(
        fn, F.dense_forward, _dense_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


@learner_facing
def check_dense_backward(forward: Callable, backward: Callable) -> None:
    """``backward(dout, cache)`` -> ``(dx, dw, db)``."""
    cases = _dense_cases()
    for case in cases:
        x, w, b = case.args
        check_backward(
            forward,
            backward,
            F.dense_forward,
            F.dense_backward,
            {"x": x, "w": w, "b": b},
            name=name_of(backward),
            quiet=True,
        )
    passed(name_of(backward), len(cases), "dx, dw and db")


# --------------------------------------------------------------------------- chapter checks
# (the references of chapters 2 to 5, kept out of the learner's test cells)


def _correlate2d_reference(image, kernel):
    return F.conv2d_forward(image[None, :, :, None], kernel[:, :, None, None])[0][0, :, :, 0]


def _convolve2d_reference(image, kernel):
    return _correlate2d_reference(image, kernel[::-1, ::-1])


def _correlate_cases() -> list:
    rng = _rng(0)
    return [
        (rng.standard_normal((4, 4)), rng.standard_normal((3, 3))),
        (rng.standard_normal((6, 5)), rng.standard_normal((2, 3))),
    ]


@learner_facing
def check_correlate2d(fn: Callable) -> None:
    """``fn(image, kernel)`` -> the valid 2D cross-correlation (kernel not flipped)."""
    check_function(fn, _correlate2d_reference, _correlate_cases(), name=name_of(fn), check_dtype=False)


@learner_facing
def check_convolve2d(fn: Callable) -> None:
    """``fn(image, kernel)`` -> the valid 2D convolution (kernel flipped on both axes)."""
    check_function(fn, _convolve2d_reference, _correlate_cases(), name=name_of(fn), check_dtype=False)


@learner_facing
def check_box_blur_kernel(fn: Callable) -> None:
    """``fn(k)`` -> a ``(k, k)`` kernel whose weights average the window."""
    name = name_of(fn)
    for k in (3, 4):
        blur = fn(k)
        assert_shape(blur, (k, k), f"{name}({k})")
        assert_close(blur, np.full((k, k), 1 / k**2), f"{name}({k}): every weight 1/{k**2}")
    passed(name, 2)


@learner_facing
def check_sobel_kernels(fn: Callable) -> None:
    """``fn()`` -> ``(kx, ky)``: Sobel kernels for left-to-right and top-to-bottom change."""
    name = name_of(fn)
    result = fn()
    assert isinstance(result, tuple) and len(result) == 2, f"{name}() should return (kx, ky)"
    kx, ky = (np.asarray(k) for k in result)
    assert_shape(kx, (3, 3), f"{name}: kx")
    assert_shape(ky, (3, 3), f"{name}: ky")
    ramp = np.tile(np.arange(6.0), (6, 1))[None, :, :, None]  # brightness grows from left to right
    assert_close(
        F.conv2d_forward(ramp, kx[:, :, None, None])[0],
        np.full((1, 4, 4, 1), 8.0),
        f"{name}: kx on a left-to-right ramp (should be 8 everywhere: is kx flipped?)",
    )
    assert_close(
        F.conv2d_forward(ramp, ky[:, :, None, None])[0],
        np.zeros((1, 4, 4, 1)),
        f"{name}: ky on a left-to-right ramp (a top-to-bottom detector sees nothing)",
    )
    assert_close(ky, kx.T, f"{name}: ky (should be kx transposed)")
    passed(name, 5)


def _edges_reference(gray):
    kx = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    gx = _correlate2d_reference(gray, kx)
    gy = _correlate2d_reference(gray, kx.T)
    return np.sqrt(gx**2 + gy**2)


@learner_facing
def check_edge_strength(fn: Callable, image) -> None:
    """``fn(gray)`` -> the Sobel gradient magnitude ``sqrt(gx**2 + gy**2)`` of ``image``."""
    check_function(
        fn, _edges_reference, [(image,)], name=name_of(fn), check_dtype=False, rtol=1e-5, atol=1e-6
    )


@learner_facing
def check_tanh_forward(fn: Callable) -> None:
    """``fn(x)`` -> ``tanh(x)``, same shape and dtype as ``x``."""
    cases = [(np.linspace(-5, 5, 11),), (np.float32([-20.0, 0.5, 20.0]),)]
    check_function(fn, lambda x: F.tanh_forward(x)[0], cases, name=name_of(fn))


def _grad_reference(forward: Callable, backward: Callable) -> Callable:
    def grad(x, **kwargs):
        out, cache = forward(x, **kwargs)
        return backward(np.ones_like(out), cache)

    return grad


def _derivative_cases() -> tuple[list, list]:
    rng = _rng(4)
    x = rng.standard_normal((3, 4)) * 3
    x[0, 0] = 0.0
    cases = [(x,), (np.array([-30.0, -1.0, 0.0, 1.0, 30.0]),)]
    return cases, [*cases, ((x,), {"alpha": 0.2})]


@learner_facing
def check_sigmoid_grad(fn: Callable) -> None:
    """``fn(x)`` -> the derivative of the sigmoid at ``x``."""
    ref = _grad_reference(F.sigmoid_forward, F.sigmoid_backward)
    check_function(fn, ref, _derivative_cases()[0], name=name_of(fn), check_dtype=False)


@learner_facing
def check_tanh_grad(fn: Callable) -> None:
    """``fn(x)`` -> the derivative of tanh at ``x``."""
    ref = _grad_reference(F.tanh_forward, F.tanh_backward)
    check_function(fn, ref, _derivative_cases()[0], name=name_of(fn), check_dtype=False)


@learner_facing
def check_leaky_relu(fn: Callable) -> None:
    """``fn(x, alpha=0.01)`` -> ``x`` where positive, ``alpha * x`` elsewhere."""
    check_function(
        fn, lambda x, alpha=0.01: F.leaky_relu_forward(x, alpha)[0], _derivative_cases()[1], name=name_of(fn)
    )


@learner_facing
def check_leaky_relu_grad(fn: Callable) -> None:
    """``fn(x, alpha=0.01)`` -> the derivative of the leaky ReLU at ``x``."""
    ref = _grad_reference(F.leaky_relu_forward, F.leaky_relu_backward)
    check_function(fn, ref, _derivative_cases()[1], name=name_of(fn), check_dtype=False)


@learner_facing
def check_sum_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the sum of each window (or ``(out, cache)``)."""
    rng = _rng(8)
    cases = [
        ((rng.standard_normal((1, 4, 4, 2)),), {"pool_size": 2}),
        ((rng.standard_normal((2, 5, 5, 1)),), {"pool_size": 3, "stride": 2}),
    ]
    check_function(fn, F.sum_pool_forward, cases, name=name_of(fn), output=first_output)


@learner_facing
def check_flatten(fn: Callable) -> None:
    """``fn(x)`` -> ``x`` reshaped to ``(N, everything else)``."""
    rng = _rng(50)
    cases = [(rng.standard_normal((2, 3, 3, 4)),), (rng.standard_normal((1, 5, 2, 1)),)]
    check_function(fn, lambda x: F.flatten_forward(x)[0], cases, name=name_of(fn))


@learner_facing
def check_one_hot(fn: Callable) -> None:
    """``fn(y, k)`` -> ``(N, k)`` rows with a 1 in column ``y[n]`` and 0 elsewhere."""
    cases = [(np.array([0, 2, 1]), 3), (np.array([4]), 5)]
    check_function(fn, lambda y, k: np.eye(k)[y], cases, name=name_of(fn))


def _cross_entropy_cases() -> list:
    rng = _rng(52)
    return [
        (rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])),
        (np.array([[500.0, -500.0], [0.0, 0.0]]), np.array([1, 0])),
    ]


@learner_facing
def check_cross_entropy_loss(fn: Callable) -> None:
    """``fn(logits, y)`` -> ``(loss, dlogits)``; checks the loss (the mean over the batch)."""
    name = name_of(fn)
    cases = _cross_entropy_cases()
    for z, y in cases:
        result = fn(z, y)
        assert isinstance(result, tuple) and len(result) == 2, f"{name}: return (loss, dlogits)"
        assert_close(result[0], F.softmax_cross_entropy(z, y)[0], f"{name}: loss for logits {z.shape}")
    passed(name, len(cases), "loss")


@learner_facing
def check_cross_entropy_grad(fn: Callable) -> None:
    """``fn(logits, y)`` -> ``(loss, dlogits)``; checks dlogits, ``(softmax - one_hot) / N``."""
    name = name_of(fn)
    cases = _cross_entropy_cases()
    for z, y in cases:
        assert_close(
            fn(z, y)[1],
            F.softmax_cross_entropy(z, y)[1],
            f"{name}: dlogits for logits {z.shape} (did you divide by N?)",
        )
    passed(name, len(cases), "dlogits")


# --------------------------------------------------------------------------- partial credit per gradient


def _score_backward(
    forward, backward, ref_forward, ref_backward, cases, name, diagnose=None
) -> dict[str, float]:
    """Each gradient's fraction of right cases; prints ``✓`` for the right ones and the
    ``✗`` message of the first failing case; raises it when no gradient is right anywhere."""
    __tracebackhide__ = True
    from .checking import _and, _failure_line

    scores: dict[str, float] = {}
    failure: BaseException | None = None
    for case in cases:
        inputs = dict(zip(("x", "w", "b"), case.args, strict=False))
        right = gradients_correct(
            forward, backward, ref_forward, ref_backward, inputs, forward_kwargs=case.kwargs
        )
        for grad, ok in right.items():
            scores[grad] = scores.get(grad, 0.0) + ok / len(cases)
        if failure is None and not all(right.values()):
            try:
                check_backward(
                    forward,
                    backward,
                    ref_forward,
                    ref_backward,
                    inputs,
                    forward_kwargs=case.kwargs,
                    name=name,
                    quiet=True,
                    note=case.note,
                    diagnose=diagnose,
                )
            except Exception as exc:  # the message names the wrong gradient
                failure = exc
            else:
                failure = AssertionError(f"{_and([g for g, ok in right.items() if not ok])} wrong")
    scores = {grad: round(score, 6) for grad, score in scores.items()}
    if failure is not None and not any(scores.values()):
        raise failure
    right_everywhere = [grad for grad, score in scores.items() if score == 1]
    if right_everywhere:
        passed(name, len(cases), f"{_and(right_everywhere)} right in every case")
    if failure is not None:
        print(_failure_line(name, failure))
    return scores


@learner_facing
def score_conv2d_backward(
    forward: Callable, backward: Callable, *, strided: bool = False
) -> dict[str, float]:
    """Like :func:`check_conv2d_backward`, with partial credit per gradient: returns each
    gradient's fraction of right cases, ``{"dx": 0.0, "dw": 1.0, "db": 1.0}``, prints the
    right ones and the first failure (which names the wrong gradient), and raises only
    when no gradient is right in any case. End the cell with
    ``points(sum(right.values()) / len(right), out_of=P)``."""
    __tracebackhide__ = True
    return _score_backward(
        forward,
        backward,
        F.conv2d_forward,
        F.conv2d_backward,
        _conv_backward_cases(strided),
        name_of(backward),
        _conv_backward_diagnose,
    )


@learner_facing
def score_dense_backward(
    forward: Callable, backward: Callable, inputs: dict | None = None
) -> dict[str, float]:
    """Like :func:`check_dense_backward`, with partial credit per gradient (see
    :func:`score_conv2d_backward`); ``inputs`` (``{"x": x, "w": w, "b": b}``) replaces
    the default cases."""
    __tracebackhide__ = True
    cases = _dense_cases() if inputs is None else [Case((inputs["x"], inputs["w"], inputs["b"]))]
    return _score_backward(forward, backward, F.dense_forward, F.dense_backward, cases, name_of(backward))
