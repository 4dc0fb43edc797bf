"""Instant checks for the exercises: call them in a notebook's test cells.

Each ``check_*`` runs the learner's function on small seeded inputs, compares it with
:mod:`cnncourse.nn`'s reference (shapes, dtypes, values, gradients) and raises an
``AssertionError`` whose message says what differs: expected vs got, the first wrong
index, and which case. On success it prints one line, and reminds the learner that the
hidden tests of a graded notebook may still check more cases.

The building blocks (:func:`assert_close`, :func:`check_function`,
:func:`check_backward`, :func:`check_gradient`, :class:`Case`) work for any exercise;
:func:`fraction_correct` and :func:`points` give partial credit: a test cell that gives
partial credit ends with the number of points earned, as nbgrader reads it::

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
    name_of,
    passed,
    points,
)

__all__ = [
    "HIDDEN_REMINDER",
    "Case",
    "assert_close",
    "assert_dtype",
    "assert_shape",
    "check_avg_pool_forward",
    "check_backward",
    "check_conv2d_backward",
    "check_conv2d_forward",
    "check_dense_backward",
    "check_dense_forward",
    "check_function",
    "check_gradient",
    "check_max_pool_forward",
    "check_output_size",
    "check_pool_backward",
    "check_relu_backward",
    "check_relu_forward",
    "check_sigmoid_forward",
    "check_softmax",
    "check_softmax_cross_entropy",
    "first_output",
    "fraction_correct",
    "passed",
    "points",
]


# --------------------------------------------------------------------------- exercises


def _rng(seed):
    return np.random.default_rng(seed)


def _conv_cases(dtype=np.float64) -> list[Case]:
    rng = _rng(0)
    specs = [  # x shape, w shape, stride, padding
        ((1, 4, 4, 1), (3, 3, 1, 1), 1, 0),
        ((2, 5, 5, 3), (3, 3, 3, 2), 1, 1),
        ((1, 7, 6, 2), (3, 2, 2, 3), 2, 1),
    ]
    cases = []
    for xs, ws, stride, padding in specs:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[-1]).astype(dtype)
        cases.append(
            Case(
                (x, w, b),
                {"stride": stride, "padding": padding},
                f"x {xs}, w {ws}, b, stride={stride}, padding={padding}",
            )
        )
    return cases


def check_output_size(fn: Callable) -> None:
    """``fn(n, k, stride, padding)``: output length of a window of size ``k`` sliding
    over ``n`` values padded by ``padding`` on each side: ``(n + 2p - k) // s + 1``."""
    cases = [(5, 3, 1, 0), (5, 3, 1, 1), (7, 3, 2, 1), (28, 5, 1, 2), (6, 2, 2, 0)]
    check_function(fn, lambda n, k, s, p: _reference_output_size(n, k, s, 2 * p), cases, name=name_of(fn))


def check_conv2d_forward(fn: Callable) -> None:
    """``fn(x, w, b, stride, padding)`` -> ``out`` or ``(out, cache)``; x ``(N, H, W, C_in)``,
    w ``(KH, KW, C_in, C_out)``, b ``(C_out,)``, out ``(N, OH, OW, C_out)``."""
    check_function(
        fn, F.conv2d_forward, _conv_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


def check_conv2d_backward(forward: Callable, backward: Callable) -> None:
    """``backward(dout, cache)`` -> ``(dx, dw, db)`` for the cache of ``forward``."""
    cases = _conv_cases()[:2]
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
        )
    passed(name_of(backward), len(cases), "dx, dw and db")


def _pool_cases() -> list[Case]:
    rng = _rng(1)
    return [
        Case((rng.standard_normal((1, 4, 4, 1)),), {"pool_size": 2}, "x (1, 4, 4, 1), pool_size=2"),
        Case((rng.standard_normal((2, 6, 6, 3)),), {"pool_size": 3}, "x (2, 6, 6, 3), pool_size=3"),
        Case(
            (rng.standard_normal((1, 5, 5, 2)),),
            {"pool_size": 3, "stride": 2},
            "x (1, 5, 5, 2), pool_size=3, stride=2 (overlapping windows)",
        ),
    ]


def check_max_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the maximum of each window, ``(N, OH, OW, C)``."""
    check_function(
        fn, F.max_pool_forward, _pool_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


def check_avg_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the mean of each window, ``(N, OH, OW, C)``."""
    check_function(
        fn, F.avg_pool_forward, _pool_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


def check_pool_backward(forward: Callable, backward: Callable, mode: str = "max") -> None:
    """``backward(dout, cache)`` -> ``dx`` for max or average pooling."""
    ref_forward = {"max": F.max_pool_forward, "avg": F.avg_pool_forward}[mode]
    cases = _pool_cases()
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


def check_relu_forward(fn: Callable) -> None:
    """``fn(x)`` -> ``max(0, x)`` (or ``(out, cache)``), same shape and dtype as ``x``."""
    check_function(
        fn,
        F.relu_forward,
        _activation_cases(),
        name=name_of(fn),
        output=lambda r: first_output(r, name_of(fn)),
    )


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


def check_sigmoid_forward(fn: Callable) -> None:
    """``fn(x)`` -> ``1 / (1 + exp(-x))``, without overflow warnings for large ``|x|``."""
    cases = [*_activation_cases(), Case((np.array([-1000.0, 0.0, 1000.0]),), label="x = [-1000, 0, 1000]")]
    with np.errstate(over="raise"):
        check_function(
            fn, F.sigmoid_forward, cases, name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
        )


def check_softmax(fn: Callable) -> None:
    """``fn(logits)`` -> probabilities over the last axis; stable for huge logits."""
    rng = _rng(3)
    cases = [
        Case((rng.standard_normal((3, 4)),), label="logits (3, 4)"),
        Case((np.array([[1000.0, 1000.0, -1000.0]]),), label="logits [[1000, 1000, -1000]]"),
    ]
    with np.errstate(over="raise", invalid="raise"):
        check_function(fn, F.softmax, cases, name=name_of(fn))


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


def check_dense_forward(fn: Callable) -> None:
    """``fn(x, w, b)`` -> ``x @ w + b`` (or ``(out, cache)``); x ``(N, D_in)``."""
    check_function(
        fn, F.dense_forward, _dense_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


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
