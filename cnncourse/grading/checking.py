"""The checking framework: assertions, cases and generic checks for any exercise.

:func:`assert_close`, :func:`assert_shape` and :func:`assert_dtype` raise an
``AssertionError`` whose message says what differs: expected vs got, the first wrong
index, and which case. :func:`check_function` compares a learner's function with a
reference on :class:`Case` objects, :func:`check_backward` compares gradients with a
reference pair, :func:`check_gradient` with numerical gradients. On success a check
prints one line (:func:`passed`), reminding the learner that the hidden tests of a
graded notebook may still check more cases. :func:`fraction_correct` and :func:`points`
give partial credit: a test cell that gives partial credit ends with the number of points
earned, as nbgrader reads it::

    points(fraction_correct(conv2d_forward, F.conv2d_forward, cases), out_of=3)  # -> 2.25

Notebooks reach all of it through :mod:`.checks`, which re-exports every public name here
next to the checks of the course's exercises. The grader's guard reloads both modules
from disk before each test cell (see :mod:`.kernel_side`); the classes here (:class:`Case`)
are kept across that reload, so a ``Case`` a notebook built earlier is still a ``Case``.
Keep them plain classes (no ``super()``, no ``__slots__``) so that keeping them works.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cnncourse.nn.gradcheck import numerical_gradient

HIDDEN_REMINDER = "Hidden tests may still check more cases when the notebook is graded."

__all__ = [
    "HIDDEN_REMINDER",
    "Case",
    "assert_close",
    "assert_dtype",
    "assert_shape",
    "check_backward",
    "check_function",
    "check_gradient",
    "first_output",
    "fraction_correct",
    "name_of",
    "passed",
    "points",
]


# --------------------------------------------------------------------------- assertions


def _fmt(value) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return repr(value.item() if isinstance(value, np.generic) else value)


def _as_array(got, name: str) -> np.ndarray:
    if got is None:
        raise AssertionError(f"{name}: got None; did the function forget to `return`?")
    try:
        arr = np.asarray(got)
    except ValueError as exc:
        raise AssertionError(f"{name}: got {type(got).__name__} that is not an array ({exc})") from None
    if arr.dtype == object:
        raise AssertionError(f"{name}: got {type(got).__name__} that is not an array of numbers")
    return arr


def assert_shape(got, expected: tuple, name: str = "output") -> None:
    """Raise unless ``got`` has shape ``expected``; hints at permuted (NCHW) axes."""
    arr = _as_array(got, name)
    expected = tuple(expected)
    if arr.shape != expected:
        hint = ""
        if sorted(arr.shape) == sorted(expected):
            hint = " (the same sizes in another order: arrays are channels-last, (N, H, W, C))"
        raise AssertionError(f"{name}: shape expected {expected}, got {arr.shape}{hint}")


def assert_dtype(got, expected, name: str = "output") -> None:
    """Raise unless ``got`` has dtype ``expected`` (the input's dtype should win)."""
    arr = _as_array(got, name)
    if arr.dtype != np.dtype(expected):
        raise AssertionError(
            f"{name}: dtype expected {np.dtype(expected)}, got {arr.dtype}"
            " (create outputs with dtype=x.dtype)"
        )


def assert_close(got, expected, name: str = "output", rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Raise unless ``got`` matches ``expected`` value by value.

    The message gives the shape difference, or how many values differ, the first wrong
    index with both values, and the largest absolute difference.
    """
    exp = np.asarray(expected)
    arr = _as_array(got, name)
    if arr.shape != exp.shape:
        assert_shape(arr, exp.shape, name)
    if arr.dtype.kind not in "biuf" or exp.dtype.kind not in "biuf":
        if not np.array_equal(arr, exp):
            raise AssertionError(f"{name}: expected {_fmt(expected)}, got {_fmt(got)}")
        return
    a, e = arr.astype(np.float64), exp.astype(np.float64)
    bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return
    if a.ndim == 0:
        raise AssertionError(f"{name}: expected {_fmt(e.item())}, got {_fmt(a.item())}")
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    finite = np.isfinite(a) & np.isfinite(e)
    diff = float(np.max(np.abs(a - e)[finite])) if finite.any() else float("nan")
    raise AssertionError(
        f"{name}: {int(bad.sum())} of {bad.size} values differ; first wrong index {first}: "
        f"expected {_fmt(e[first])}, got {_fmt(a[first])} (largest difference {diff:.3g})"
    )


def passed(name: str, n_checks: int, what: str = "") -> None:
    """Print the success line every check ends with."""
    plural = "s" if n_checks != 1 else ""
    detail = f" ({what})" if what else ""
    print(f"\u2713 {name}: {n_checks} public check{plural} passed{detail}. {HIDDEN_REMINDER}")


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One call: positional ``args``, keyword ``kwargs`` and a label for messages."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def describe(self, fn_name: str) -> str:
        if self.label:
            return f"{fn_name}({self.label})"
        parts = [_describe_arg(a) for a in self.args]
        parts += [f"{k}={_describe_arg(v)}" for k, v in self.kwargs.items()]
        return f"{fn_name}({', '.join(parts)})"


def _describe_arg(value) -> str:
    if isinstance(value, np.ndarray):
        return f"<{value.dtype} array {value.shape}>"
    return repr(value)


def _as_case(case) -> Case:
    if isinstance(case, Case):
        return case
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[1], dict):
        return Case(tuple(case[0]), dict(case[1]))
    return Case(tuple(case) if isinstance(case, tuple | list) else (case,))


def _call(fn, case: Case, what: str):
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    try:
        return fn(*args, **kwargs), args, kwargs
    except Exception as exc:
        exc.add_note(f"(raised by {what})")
        raise


def first_output(result, name: str = "forward"):
    """``out`` from a forward pass that returns ``(out, cache)`` (or just ``out``)."""
    if isinstance(result, tuple):
        if len(result) != 2:
            raise AssertionError(f"{name}: expected (out, cache) or out, got a tuple of {len(result)} values")
        return result[0]
    return result


def name_of(fn) -> str:
    """The name to show for a callable: its ``__name__``, else its type's."""
    return getattr(fn, "__name__", type(fn).__name__)


# --------------------------------------------------------------------------- generic checks


def check_function(
    fn: Callable,
    reference: Callable,
    cases: Sequence,
    *,
    name: str = "",
    output: Callable | None = None,
    outputs: Sequence[str] = (),
    rtol: float = 1e-6,
    atol: float = 1e-8,
    check_dtype: bool = True,
    quiet: bool = False,
) -> None:
    """Compare ``fn`` with ``reference`` on every case.

    cases: :class:`Case` objects, argument tuples, or ``(args, kwargs)`` pairs (the
    inputs are copied, so in-place changes are caught and reported). output: applied to
    both results before comparing (e.g. take ``out`` from ``(out, cache)``). outputs:
    names of the elements when the results are tuples (``("dx", "dw", "db")``).
    """
    name = name or name_of(fn)
    cases = [_as_case(c) for c in cases]
    for case in cases:
        what = case.describe(name)
        got, args_after, _ = _call(fn, case, what)
        expected = reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        if output is not None:
            got, expected = output(got), output(expected)
        _compare(got, expected, what, outputs, rtol, atol, check_dtype)
        for i, (before, after) in enumerate(zip(case.args, args_after, strict=True)):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
                raise AssertionError(
                    f"{what}: the function changed its input argument "
                    f"{i + 1} in place; work on a copy instead"
                )
    if not quiet:
        passed(name, len(cases), "shapes, dtypes and values" if check_dtype else "values")


def _compare(got, expected, what, names, rtol, atol, check_dtype):
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            n = len(got) if isinstance(got, tuple | list) else "1"
            raise AssertionError(
                f"{what}: expected {len(expected)} results "
                f"{'(' + ', '.join(names) + ')' if names else ''}, got {n}"
            )
        labels = list(names) or [f"result {i}" for i in range(len(expected))]
        for label, g, e in zip(labels, got, expected, strict=True):
            _compare(g, e, f"{what} -> {label}", (), rtol, atol, check_dtype)
        return
    if isinstance(expected, int | np.integer) and not isinstance(expected, bool):
        if not isinstance(got, int | np.integer) or isinstance(got, bool):
            kind = type(got).__name__
            raise AssertionError(
                f"{what}: expected the int {expected}, got {kind} {_fmt(got)} (use // for integer division)"
            )
    assert_close(got, expected, what, rtol, atol)
    if check_dtype and isinstance(expected, np.ndarray):
        assert_dtype(got, expected.dtype, what)


def fraction_correct(fn: Callable, reference: Callable, cases: Sequence, **kwargs) -> float:
    """Share of ``cases`` on which ``fn`` matches ``reference`` (an error counts as wrong).

    For partial credit, end a test cell with ``points(fraction_correct(...), out_of=P)``
    (P: the cell's points). Prints nothing. Keyword arguments as in :func:`check_function`.
    """
    cases = list(cases)
    if not cases:
        raise ValueError("fraction_correct needs at least one case")
    right = 0
    for case in cases:
        try:
            check_function(fn, reference, [case], quiet=True, **kwargs)
        except Exception:
            continue
        right += 1
    return right / len(cases)


def points(fraction, out_of) -> float:
    """The points earned for ``fraction`` of a test cell worth ``out_of`` points.

    End every test cell that gives partial credit with this call, ``out_of`` being the
    cell's points: ``checks.points(fraction_correct(...), out_of=3)``. Both graders read
    the value a test cell ends with as *points* (nbgrader: ``float()`` of its text), so
    this returns a plain Python float, rounded to 6 decimals. ``fraction`` is a number
    from 0 to 1 (a bool counts as 0 or 1); anything else raises ``ValueError``, which
    fails the test rather than giving wrong points.
    """
    if isinstance(out_of, bool) or not isinstance(out_of, int | float | np.integer | np.floating):
        raise ValueError(f"points: out_of must be the cell's points, a number; got {out_of!r}")
    if not 0 < float(out_of) < float("inf"):
        raise ValueError(f"points: out_of must be a positive number; got {out_of!r}")
    if not isinstance(fraction, bool | int | float | np.bool_ | np.integer | np.floating):
        raise ValueError(
            f"points: the fraction must be a number from 0 to 1; got {type(fraction).__name__} {fraction!r}"
        )
    value = float(fraction)
    if -1e-9 <= value < 0.0 or 1.0 < value <= 1.0 + 1e-9:  # rounding, e.g. a sum of thirds
        value = min(max(value, 0.0), 1.0)
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise ValueError(f"points: the fraction must be from 0 to 1; got {value!r}")
    return float(round(value * float(out_of), 6))


def check_backward(
    forward: Callable,
    backward: Callable,
    ref_forward: Callable,
    ref_backward: Callable,
    inputs: dict,
    *,
    name: str = "",
    forward_kwargs: dict | None = None,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    quiet: bool = False,
) -> None:
    """Compare the gradients of a learner's forward/backward pair with the reference.

    inputs: ``{"x": x, "w": w, ...}`` passed to both forwards by position; the backward
    must return one gradient per input, in that order (``dx, dw, ...``). The upstream
    gradient ``dout`` is random with ``seed``.
    """
    name = name or name_of(backward)
    kw = forward_kwargs or {}
    args = tuple(inputs.values())
    result = forward(*copy.deepcopy(args), **kw)
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(
            f"{name}: the forward pass must return (out, cache) so the "
            f"backward pass gets its cache; got {type(result).__name__}"
        )
    out, cache = result
    ref_out, ref_cache = ref_forward(*copy.deepcopy(args), **kw)
    assert_shape(out, ref_out.shape, f"{name_of(forward)} output")
    dout = np.random.default_rng(seed).standard_normal(ref_out.shape).astype(ref_out.dtype)
    grads = backward(dout.copy(), cache)
    expected = ref_backward(dout.copy(), ref_cache)
    if not isinstance(expected, tuple):  # a single gradient, e.g. dx of an activation
        expected = (expected,)
        grads = grads if isinstance(grads, tuple) else (grads,)
    labels = tuple(f"d{k}" for k in inputs)[: len(expected)]
    _compare(
        tuple(grads) if isinstance(grads, list) else grads,
        expected,
        f"{name} with {', '.join(f'{k} {np.shape(v)}' for k, v in inputs.items())}",
        labels,
        rtol,
        atol,
        check_dtype=False,
    )
    if not quiet:
        passed(name, len(expected), "gradients " + ", ".join(labels))


def check_gradient(
    forward: Callable,
    backward: Callable,
    inputs: dict,
    *,
    name: str = "",
    seed: int = 0,
    h: float = 1e-5,
    tol: float = 1e-6,
    quiet: bool = False,
) -> None:
    """Numerical gradient check of a forward/backward pair (no reference needed).

    Central differences of ``sum(forward(**inputs)[0] * dout)`` for every input (in
    float64) against ``backward(dout, cache)``. Fails when the relative error of an input
    exceeds ``tol``, naming the input and the first wrong index.
    """
    name = name or name_of(backward)
    inputs = {k: np.array(v, dtype=np.float64) for k, v in inputs.items()}
    out, cache = forward(**copy.deepcopy(inputs))
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout.copy(), cache)
    if not isinstance(grads, tuple | list):
        grads = (grads,)
    if len(grads) != len(inputs):
        raise AssertionError(
            f"{name}: expected {len(inputs)} gradients "
            f"({', '.join('d' + k for k in inputs)}), got {len(grads)}"
        )
    for (key, value), grad in zip(inputs.items(), grads, strict=True):
        assert_shape(grad, value.shape, f"{name}: d{key}")

        def f(v, key=key):
            return forward(**{**inputs, key: v})[0]

        numeric = numerical_gradient(f, value.copy(), dout, h)
        g = np.asarray(grad, dtype=np.float64)
        rel = np.abs(g - numeric) / np.maximum(1e-8, np.abs(g) + np.abs(numeric))
        error = float(rel.max()) if rel.size else 0.0
        if error > tol:
            first = tuple(int(i) for i in np.argwhere(rel > tol)[0])
            raise AssertionError(
                f"{name}: gradient d{key} has relative error {error:.2e} (should be "
                f"below {tol:.0e}); first wrong index {first}: numerical "
                f"{_fmt(numeric[first])}, yours {_fmt(g[first])}"
            )
    if not quiet:
        passed(name, len(inputs), "numerical gradients")
