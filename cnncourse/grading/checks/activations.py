"""Checks of chapter 3: ReLU forward and backward, sigmoid, tanh, leaky ReLU and their
derivatives (same shape and dtype as the input, no overflow for large inputs)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F

from ..checking import (
    Case,
    _param_names,
    check_backward,
    check_function,
    first_output,
    learner_facing,
    name_of,
    passed,
)

__all__ = [
    "check_collapse_linear",
    "check_leaky_relu",
    "check_leaky_relu_grad",
    "check_relu_backward",
    "check_relu_forward",
    "check_sigmoid_forward",
    "check_sigmoid_grad",
    "check_tanh_forward",
    "check_tanh_grad",
]


def without_overflow(fn: Callable, hint: str) -> Callable:
    """``fn`` with NumPy's floating-point errors (raised under ``np.errstate(over="raise")``)
    turned into a failing check that names the call and says ``hint``."""

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FloatingPointError as exc:
            what = Case(args, kwargs).describe(name_of(fn), _param_names(fn))
            raise AssertionError(f"{what}: {exc}; {hint}") from None

    return guarded


def _activation_cases() -> list[Case]:
    rng = np.random.default_rng(2)
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
    hint = "for negative x use exp(x) / (1 + exp(x)), or exp(-|x|) in both branches"
    with np.errstate(over="raise"):
        check_function(
            without_overflow(fn, hint),
            F.sigmoid_forward,
            cases,
            name=name_of(fn),
            output=lambda r: first_output(r, name_of(fn)),
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
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4)) * 3
    x[0, 0] = 0.0
    cases = [(x,), (np.array([-30.0, -1.0, 0.0, 1.0, 30.0]),)]
    return cases, [*cases, ((x,), {"alpha": 0.2}), ((np.float32([-2.0, 0.0, 0.5]),), {"alpha": 0.1})]


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


def _collapse_reference(w1, b1, w2, b2):
    return w1 @ w2, b1 @ w2 + b2


@learner_facing
def check_collapse_linear(fn: Callable, part: str) -> None:
    """``fn(w1, b1, w2, b2)`` -> ``(w, b)`` with ``(x @ w1 + b1) @ w2 + b2 == x @ w + b``;
    checks ``part``, ``"w"`` or ``"b"``, on three sets of layer sizes."""
    index = {"w": 0, "b": 1}[part]
    name = name_of(fn)
    rng = np.random.default_rng(5)
    cases = [
        Case(
            (
                rng.standard_normal((d_in, d_h)),
                rng.standard_normal(d_h),
                rng.standard_normal((d_h, d_out)),
                rng.standard_normal(d_out),
            ),
            note=f"the {part} it returns",
        )
        for d_in, d_h, d_out in [(4, 6, 3), (2, 5, 1), (3, 3, 4)]
    ]

    def pick(result):
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise AssertionError(f"{name}: return the pair (w, b), got {type(result).__name__}")
        return result[index]

    check_function(fn, _collapse_reference, cases, name=name, output=pick)
