"""Numerical gradients by central differences, and the relative error used to compare.

The standard check of any backward pass: perturb each input entry by ``+-h``, see how
the output moves, and compare with the analytic gradient. Use float64; in float32 the
rounding error of the differences swamps the signal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout=None, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x`` by central differences.

    f: maps ``x`` (changed in place, then restored) to an array or a scalar.
    dout: upstream gradient shaped like ``f(x)``; None means ``f`` returns a scalar loss.
    Returns an array shaped like ``x``:
    ``grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h)``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float ndarray (changed in place); got {type(x).__name__}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        original = x[i]
        x[i] = original + h
        plus = np.array(f(x), dtype=x.dtype)  # a copy: f may return a view of x
        x[i] = original - h
        minus = np.array(f(x), dtype=x.dtype)
        x[i] = original
        diff = plus - minus
        grad[i] = np.sum(diff if dout is None else diff * dout) / (2 * h)
    return grad


def rel_error(a, b, eps: float = 1e-8) -> float:
    """Largest element-wise relative error ``|a - b| / max(eps, |a| + |b|)``.

    Below 1e-7 in float64 means a backward pass is right; around 1e-2 means a bug.
    """
    a, b = np.asarray(a, dtype=np.longdouble), np.asarray(b, dtype=np.longdouble)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))))


def check_gradients(
    forward: Callable,
    backward: Callable,
    inputs: dict[str, np.ndarray],
    seed: int = 0,
    h: float = 1e-5,
    reference_dtype=None,
) -> dict[str, float]:
    """Compare a forward/backward pair with numerical gradients for every input.

    forward: called as ``forward(**inputs)`` and returns ``(out, cache)``.
    backward: ``backward(dout, cache)`` returns one gradient per input, in the order of
    ``inputs``. A random upstream gradient (seeded) is used. Returns
    ``{name: rel_error}``.
    reference_dtype: evaluate the numerical reference in another precision, e.g.
    ``np.longdouble`` when some true gradient entries are tiny (batch norm's ``dx`` sums to
    zero per channel) and float64 differences cannot resolve them; the analytic backward
    still runs in the inputs' dtype.
    """
    out, cache = forward(**inputs)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(inputs):
        raise ValueError(f"backward returned {len(grads)} gradients for {len(inputs)} inputs")
    reference = inputs
    if reference_dtype is not None:
        reference = {k: np.asarray(v, dtype=reference_dtype) for k, v in inputs.items()}
    errors = {}
    for (name, value), grad in zip(reference.items(), grads, strict=True):

        def f(v, name=name):
            return forward(**{**reference, name: v})[0]

        errors[name] = rel_error(grad, numerical_gradient(f, value.copy(), dout, h))
    return errors
