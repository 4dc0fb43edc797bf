"""Checks of chapter 5 (and the backward pass of chapter 6): flatten, dense forward and
backward (scored per gradient), a stable softmax, one-hot labels and the softmax
cross-entropy loss with its gradient."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F

from ..checking import (
    Case,
    assert_close,
    check_backward,
    check_function,
    first_output,
    learner_facing,
    name_of,
    passed,
    score_backward,
)
from .activations import without_overflow

__all__ = [
    "check_cross_entropy_grad",
    "check_cross_entropy_loss",
    "check_dense_backward",
    "check_dense_forward",
    "check_flatten",
    "check_one_hot",
    "check_softmax",
    "check_softmax_cross_entropy",
    "score_dense_backward",
]


def _dense_cases() -> list[Case]:
    rng = np.random.default_rng(5)
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
def check_flatten(fn: Callable) -> None:
    """``fn(x)`` -> ``x`` reshaped to ``(N, everything else)``."""
    rng = np.random.default_rng(50)
    cases = [
        (rng.standard_normal((2, 3, 3, 4)),),
        (rng.standard_normal((1, 5, 2, 1)),),
        (rng.standard_normal((3, 2, 4)).astype(np.float32),),
    ]
    check_function(fn, lambda x: F.flatten_forward(x)[0], cases, name=name_of(fn))


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


@learner_facing
def score_dense_backward(
    forward: Callable, backward: Callable, inputs: dict | None = None
) -> dict[str, float]:
    """Like :func:`check_dense_backward`, with partial credit per gradient (see
    :func:`score_conv2d_backward`); ``inputs`` (``{"x": x, "w": w, "b": b}``) replaces
    the default cases."""
    __tracebackhide__ = True
    cases = _dense_cases() if inputs is None else [Case((inputs["x"], inputs["w"], inputs["b"]))]
    return score_backward(forward, backward, F.dense_forward, F.dense_backward, cases, name_of(backward))


@learner_facing
def check_softmax(fn: Callable) -> None:
    """``fn(logits)`` -> probabilities over the last axis; stable for huge logits (each
    row shifted by its own maximum), for ``(N, K)`` logits or more leading axes."""
    rng = np.random.default_rng(3)
    cases = [
        Case((rng.standard_normal((3, 4)),), label="logits (3, 4) float64"),
        Case((np.array([[1000.0, 1000.0, -1000.0]]),), label="logits [[1000, 1000, -1000]]"),
        Case(
            (np.array([[1000.0, 999.0], [-1000.0, -1001.0]]),), label="logits [[1000, 999], [-1000, -1001]]"
        ),
        Case((rng.standard_normal((2, 3, 4)),), label="logits (2, 3, 4) float64"),
    ]
    hint = "subtract each row's maximum (over the last axis, keepdims=True) before np.exp"
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        check_function(without_overflow(fn, hint), F.softmax, cases, name=name_of(fn))


@learner_facing
def check_one_hot(fn: Callable) -> None:
    """``fn(y, k)`` -> ``(N, k)`` rows with a 1 in column ``y[n]`` and 0 elsewhere."""
    cases = [(np.array([0, 2, 1]), 3), (np.array([4]), 5), (np.array([1, 0]), 4)]
    check_function(fn, lambda y, k: np.eye(k)[y], cases, name=name_of(fn))


@learner_facing
def check_softmax_cross_entropy(fn: Callable) -> None:
    """``fn(logits, y)`` -> ``(loss, dlogits)``: mean cross-entropy and its gradient."""
    rng = np.random.default_rng(4)
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


def _cross_entropy_cases() -> list:
    rng = np.random.default_rng(52)
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
        what = Case((z, y)).describe(name, ("logits", "y"))
        result = fn(z, y)
        assert isinstance(result, tuple) and len(result) == 2, f"{what}: return (loss, dlogits)"
        assert_close(result[0], F.softmax_cross_entropy(z, y)[0], f"{what} -> loss (the mean over the batch)")
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
            f"{Case((z, y)).describe(name, ('logits', 'y'))} -> dlogits (did you divide by N?)",
        )
    passed(name, len(cases), "dlogits")
