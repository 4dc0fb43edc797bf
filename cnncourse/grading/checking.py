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

import contextlib
import copy
import functools
import inspect
import io
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cnncourse.nn.gradcheck import numerical_gradient

HIDDEN_REMINDER = "Hidden tests may still check more cases when the notebook is graded."

__all__ = [
    "HIDDEN_REMINDER",
    "Case",
    "Points",
    "assert_close",
    "assert_dtype",
    "assert_shape",
    "check_backward",
    "check_function",
    "check_gradient",
    "first_output",
    "fraction_correct",
    "gradients_correct",
    "learner_facing",
    "name_of",
    "outputs_match",
    "passed",
    "points",
    "points_summary",
    "run_parts",
    "score_backward",
]


# --------------------------------------------------------------------------- learner-facing


def learner_facing(fn: Callable) -> Callable:
    """Decorate a check that notebooks call directly: when it raises, the exception (the
    same object: message, notes and chaining unchanged) propagates without the frames of
    the grading framework, cnncourse/grading, so the learner's traceback shows the cell's
    line, the frames of the learner's own code, and the message.

    The wrapper's own frame cannot leave the traceback (it re-raises); it is marked for
    IPython to hide. IPython never hides the innermost frame, so when no frame of the
    learner's is left below it, the caller's frame (the cell's line) is put below it
    again. Nested decorated calls are fine: each strips again, and a repeated frame next
    to itself is dropped. Signature, name and docstring are ``fn``'s.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # IPython leaves this frame out of a learner's traceback
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            tb = _without_library_frames(exc.__traceback__)
            if tb is None:
                caller = sys._getframe(1)
                tb = types.TracebackType(None, caller, caller.f_lasti, caller.f_lineno or 0)
            # The same object, re-raised without `from`: __cause__, __context__ and
            # __suppress_context__ stay as they were.
            raise exc.with_traceback(tb)  # noqa: B904

    return wrapper


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


@learner_facing
def assert_shape(got, expected: tuple, name: str = "output") -> None:
    """Raise unless ``got`` has shape ``expected``; hints at permuted (NCHW) axes."""
    arr = _as_array(got, name)
    expected = tuple(expected)
    if arr.shape != expected:
        hint = ""
        if sorted(arr.shape) == sorted(expected):
            hint = " (the same sizes in another order: arrays are channels-last, (N, H, W, C))"
        raise AssertionError(f"{name}: shape expected {expected}, got {arr.shape}{hint}")


@learner_facing
def assert_dtype(got, expected, name: str = "output") -> None:
    """Raise unless ``got`` has dtype ``expected`` (the input's dtype should win)."""
    arr = _as_array(got, name)
    if arr.dtype != np.dtype(expected):
        raise AssertionError(
            f"{name}: dtype expected {np.dtype(expected)}, got {arr.dtype}"
            " (create outputs with dtype=x.dtype)"
        )


@learner_facing
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
    __tracebackhide__ = True  # IPython leaves the framework's frames out of a learner's traceback
    plural = "s" if n_checks != 1 else ""
    detail = f" ({what})" if what else ""
    print(f"\u2713 {name}: {n_checks} public check{plural} passed{detail}. {HIDDEN_REMINDER}")


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One call: positional ``args``, keyword ``kwargs``, and for messages a ``label``
    (replaces the described arguments) or a ``note`` (said after them, e.g. ``"tied maxima"``).
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    note: str = ""

    def describe(self, fn_name: str, names: Sequence[str] = ()) -> str:
        """``fn(x (1, 5, 5, 2) float64, pool_size=3, stride=2) [note]``: every argument of
        the call, an array by its shape and dtype, positional ones by ``names`` if given."""
        if self.label:
            text = f"{fn_name}({self.label})"
        else:
            names = list(names)[: len(self.args)]
            names += [""] * (len(self.args) - len(names))
            parts = [_describe_arg(a, n) for a, n in zip(self.args, names, strict=True)]
            parts += [_describe_arg(v, k, keyword=True) for k, v in self.kwargs.items()]
            text = f"{fn_name}({', '.join(parts)})"
        note = getattr(self, "note", "")
        return f"{text} [{note}]" if note else text


def _describe_arg(value, name: str = "", keyword: bool = False) -> str:
    if isinstance(value, np.ndarray):
        return f"{name} {value.shape} {value.dtype}" if name else f"array {value.shape} {value.dtype}"
    return f"{name}={value!r}" if keyword else repr(value)


def _param_names(fn) -> tuple[str, ...]:
    """The names of ``fn``'s positional parameters (for messages), or ``()``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in params if p.kind in kinds)


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


@learner_facing
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


@learner_facing
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
    diagnose: Callable | None = None,
) -> None:
    """Compare ``fn`` with ``reference`` on every case.

    cases: :class:`Case` objects, argument tuples, or ``(args, kwargs)`` pairs (the
    inputs are copied, so in-place changes are caught and reported). A failure names the
    case with every argument (arrays by shape and dtype, positional ones by the
    reference's parameter names). output: applied to both results before comparing
    (e.g. take ``out`` from ``(out, cache)``). outputs: names of the elements when the
    results are tuples (``("dx", "dw", "db")``). check_dtype: the output's dtype must be
    the reference's (for float32 inputs: float32); float32 values are compared with at
    least ``rtol=atol=1e-5``. diagnose: ``diagnose(got, case) -> str``, called when a case
    fails (``got`` after ``output``); a non-empty result is added to the message as a
    ``Hint:`` line. It should return a hint only when it has computed that the mistake
    is the one it names (errors in it are ignored).
    """
    name = name or name_of(fn)
    names = _param_names(reference)
    cases = [_as_case(c) for c in cases]
    for case in cases:
        what = case.describe(name, names)
        got, args_after, _ = _call(fn, case, what)
        expected = reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        if output is not None:
            got, expected = output(got), output(expected)
        try:
            _compare(got, expected, what, outputs, rtol, atol, check_dtype, _dtype_hint(case))
        except AssertionError as exc:
            hint = _hint(diagnose, got, case)
            if not hint:
                raise
            raise AssertionError(f"{exc}\nHint: {hint}") from None
        for i, (before, after) in enumerate(zip(case.args, args_after, strict=True)):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
                raise AssertionError(
                    f"{what}: the function changed its input argument "
                    f"{i + 1} in place; work on a copy instead"
                )
    if not quiet:
        passed(name, len(cases), "shapes, dtypes and values" if check_dtype else "values")


def _hint(diagnose, *args) -> str:
    """What ``diagnose(*args)`` says, or "" (also when it fails: a hint is never a guess)."""
    if diagnose is None:
        return ""
    try:
        hint = diagnose(*args)
    except Exception:
        return ""
    return hint if isinstance(hint, str) else ""


def _dtype_hint(case: Case) -> str:
    """For a dtype message: the one float dtype of the case's input arrays, if any."""
    values = [*case.args, *case.kwargs.values()]
    dtypes = {v.dtype for v in values if isinstance(v, np.ndarray) and v.dtype.kind == "f"}
    return str(dtypes.pop()) if len(dtypes) == 1 else ""


_LOW_PRECISION = (np.dtype(np.float32), np.dtype(np.float16))


def _compare(got, expected, what, names, rtol, atol, check_dtype, input_dtype=""):
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            n = len(got) if isinstance(got, tuple | list) else "1"
            raise AssertionError(
                f"{what}: expected {len(expected)} results "
                f"{'(' + ', '.join(names) + ')' if names else ''}, got {n}"
            )
        labels = list(names) or [f"result {i}" for i in range(len(expected))]
        for label, g, e in zip(labels, got, expected, strict=True):
            _compare(g, e, f"{what} -> {label}", (), rtol, atol, check_dtype, input_dtype)
        return
    if isinstance(expected, int | np.integer) and not isinstance(expected, bool):
        if not isinstance(got, int | np.integer) or isinstance(got, bool):
            kind = type(got).__name__
            raise AssertionError(
                f"{what}: expected the int {expected}, got {kind} {_fmt(got)} (use // for integer division)"
            )
    if getattr(got, "dtype", None) in _LOW_PRECISION or getattr(expected, "dtype", None) in _LOW_PRECISION:
        rtol, atol = max(rtol, 1e-5), max(atol, 1e-5)
    assert_close(got, expected, what, rtol, atol)
    if check_dtype and isinstance(expected, np.ndarray):
        got_dtype = np.asarray(got).dtype
        if got_dtype != expected.dtype:
            if input_dtype == str(expected.dtype):
                raise AssertionError(
                    f"{what}: dtype expected {expected.dtype}, got {got_dtype}: {input_dtype} in, "
                    f"{input_dtype} out (create the output with dtype=x.dtype; np.zeros(shape) "
                    "alone gives float64)"
                )
            assert_dtype(got, expected.dtype, what)


@learner_facing
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


class Points(float):
    """The points a test cell earned, as the value the cell ends with.

    A float (its ``text/plain`` is the plain number, ``1.5``, which nbgrader and the grader
    read as the cell's points) that rich front ends (JupyterLab, VS Code) show through
    ``_repr_html_`` as the summary "1.5 of 2 points for this cell" instead of a bare
    number. ``out_of``: the cell's points.
    """

    def __new__(cls, earned, out_of):
        value = float.__new__(cls, earned)
        value.out_of = float(out_of)
        return value

    def _repr_html_(self) -> str:
        return f'<pre class="cnncourse-points">{points_summary(float(self), self.out_of)}</pre>'


@learner_facing
def points(fraction, out_of) -> Points:
    """The points earned for ``fraction`` of a test cell worth ``out_of`` points.

    End every test cell that gives partial credit with this call, ``out_of`` being the
    cell's points: ``checks.points(fraction_correct(...), out_of=3)``. Both graders read
    the value a test cell ends with as *points* (nbgrader: ``float()`` of its text), so
    this returns a float, rounded to 6 decimals. ``fraction`` is a number
    from 0 to 1 (a bool counts as 0 or 1); anything else raises ``ValueError``, which
    fails the test rather than giving wrong points. The value is a :class:`Points`, a
    float whose ``text/plain`` is exactly the number nbgrader parses and which JupyterLab
    shows as the summary line "1.5 of 2 points for this cell".
    """
    __tracebackhide__ = True
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
    return Points(round(value * float(out_of), 6), out_of)


@learner_facing
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
    note: str = "",
    diagnose: Callable | None = None,
) -> None:
    """Compare the gradients of a learner's forward/backward pair with the reference.

    inputs: ``{"x": x, "w": w, ...}`` passed to both forwards by position, and
    forward_kwargs (``{"padding": 1}``) by name; the backward must return one gradient
    per input, in that order (``dx, dw, ...``). The upstream gradient ``dout`` is random
    with ``seed``. Each gradient is compared on its own; a failure names the call with
    every argument (``note`` is said after them), the first wrong gradient and its first
    wrong value, and which other gradients are right::

        conv2d_backward(x (2, 5, 5, 3) float64, w (3, 3, 3, 2) float64, b (2,) float64,
        padding=1) -> dx: shape expected (2, 5, 5, 3), got (2, 7, 7, 3); dw and db are right

    diagnose: ``diagnose(grads, dout, inputs, forward_kwargs) -> str`` (grads:
    ``{"dx": ..., ...}`` as returned), called on a failure; a non-empty result is added
    as a ``Hint:`` line. To score the gradients one by one, use :func:`gradients_correct`.
    """
    run = _run_backward(
        forward, backward, ref_forward, ref_backward, inputs, name, forward_kwargs, seed, note
    )
    errors = _gradient_errors(run, rtol, atol)
    wrong = [label for label, error in errors.items() if error]
    if wrong:
        message = errors[wrong[0]] + _others(errors, wrong[0])
        hint = _hint(diagnose, run.grads, run.dout, dict(inputs), dict(forward_kwargs or {}))
        raise AssertionError(f"{message}\nHint: {hint}" if hint else message)
    if not quiet:
        passed(run.name, len(errors), "gradients " + ", ".join(errors))


@learner_facing
def gradients_correct(
    forward: Callable,
    backward: Callable,
    ref_forward: Callable,
    ref_backward: Callable,
    inputs: dict,
    *,
    forward_kwargs: dict | None = None,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> dict[str, bool]:
    """Which gradients of a forward/backward pair match the reference, one by one.

    Arguments as in :func:`check_backward`; returns ``{"dx": True, "dw": True, "db":
    False}`` (one entry per gradient the reference returns) and prints nothing. When the
    forward or backward pass raises, or returns the wrong number of values, every
    gradient counts as wrong. For partial credit per gradient::

        right = gradients_correct(conv2d_forward, conv2d_backward, F.conv2d_forward,
                                  F.conv2d_backward, {"x": x, "w": w, "b": b},
                                  forward_kwargs={"padding": 1})
        points(sum(right.values()) / len(right), out_of=3)
    """
    ref_out, ref_cache = ref_forward(*copy.deepcopy(tuple(inputs.values())), **dict(forward_kwargs or {}))
    dout = np.random.default_rng(seed).standard_normal(np.shape(ref_out))
    n_grads = len(_as_grads(ref_backward(dout.astype(np.asarray(ref_out).dtype), ref_cache), True))
    labels = tuple(f"d{k}" for k in inputs)[:n_grads]
    try:
        run = _run_backward(
            forward, backward, ref_forward, ref_backward, inputs, "", forward_kwargs, seed, ""
        )
        errors = _gradient_errors(run, rtol, atol)
    except Exception:
        return dict.fromkeys(labels, False)
    return {label: errors.get(label) is None for label in labels}


class _BackwardRun:
    """One run of a forward/backward pair and of the reference, for the checks above."""

    def __init__(self, name, what, labels, grads, expected, dout):
        self.name, self.what, self.labels = name, what, labels
        self.grads, self.expected, self.dout = grads, expected, dout


def _as_grads(result, single: bool) -> tuple:
    if single:
        return tuple(result) if isinstance(result, tuple) else (result,)
    return tuple(result) if isinstance(result, tuple | list) else (result,)


def _run_backward(forward, backward, ref_forward, ref_backward, inputs, name, forward_kwargs, seed, note):
    name = name or name_of(backward)
    kw = dict(forward_kwargs or {})
    case = Case(tuple(inputs.values()), kw, note=note)
    names = tuple(inputs)
    what = case.describe(name, names)
    result, _, _ = _call(forward, case, case.describe(name_of(forward), names))
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(
            f"{what}: the forward pass must return (out, cache) so the "
            f"backward pass gets its cache; got {type(result).__name__}"
        )
    out, cache = result
    ref_out, ref_cache = ref_forward(*copy.deepcopy(case.args), **copy.deepcopy(kw))
    assert_shape(out, ref_out.shape, f"{case.describe(name_of(forward), names)}: out")
    dout = np.random.default_rng(seed).standard_normal(ref_out.shape).astype(ref_out.dtype)
    try:
        got = backward(dout.copy(), cache)
    except Exception as exc:
        exc.add_note(f"(raised by {what})")
        raise
    expected = ref_backward(dout.copy(), ref_cache)
    single = not isinstance(expected, tuple)  # a single gradient, e.g. dx of an activation
    expected = _as_grads(expected, True)
    grads = _as_grads(got, single)
    labels = tuple(f"d{k}" for k in inputs)[: len(expected)]
    if len(grads) != len(expected):
        raise AssertionError(
            f"{what}: expected {len(expected)} gradients ({', '.join(labels)}), got {len(grads)}"
        )
    return _BackwardRun(name, what, labels, dict(zip(labels, grads, strict=True)), expected, dout)


def _gradient_errors(run: _BackwardRun, rtol, atol) -> dict[str, str | None]:
    """``{"dx": None, "dw": "<message>", ...}``: each gradient compared on its own."""
    errors: dict[str, str | None] = {}
    for label, expected in zip(run.labels, run.expected, strict=True):
        try:
            _compare(run.grads[label], expected, f"{run.what} -> {label}", (), rtol, atol, False)
        except AssertionError as exc:
            errors[label] = str(exc)
        else:
            errors[label] = None
    return errors


def _others(errors: dict, first: str) -> str:
    """``"; dw and db are right"`` / ``"; db is right, dw is wrong too"`` for a message."""
    right = [k for k, e in errors.items() if not e]
    wrong = [k for k, e in errors.items() if e and k != first]
    parts = []
    if right:
        parts.append(f"{_and(right)} {'is' if len(right) == 1 else 'are'} right")
    if wrong:
        parts.append(f"{_and(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong too")
    return "; " + ", ".join(parts) if parts else ""


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


@learner_facing
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
    float64) against ``backward(dout, cache)``. Every gradient is checked; fails when the
    relative error of one exceeds ``tol``, naming the call, the first wrong gradient and
    its first wrong index, and which other gradients are right.
    """
    name = name or name_of(backward)
    inputs = {k: np.array(v, dtype=np.float64) for k, v in inputs.items()}
    what = Case((), dict(inputs)).describe(name)
    out, cache = forward(**copy.deepcopy(inputs))
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout.copy(), cache)
    if not isinstance(grads, tuple | list):
        grads = (grads,)
    if len(grads) != len(inputs):
        raise AssertionError(
            f"{what}: expected {len(inputs)} gradients "
            f"({', '.join('d' + k for k in inputs)}), got {len(grads)}"
        )
    errors: dict[str, str | None] = {}
    for (key, value), grad in zip(inputs.items(), grads, strict=True):
        try:
            assert_shape(grad, value.shape, f"{what} -> d{key}")
        except AssertionError as exc:
            errors[f"d{key}"] = str(exc)
            continue

        def f(v, key=key):
            return forward(**{**inputs, key: v})[0]

        numeric = numerical_gradient(f, value.copy(), dout, h)
        g = np.asarray(grad, dtype=np.float64)
        rel = np.abs(g - numeric) / np.maximum(1e-8, np.abs(g) + np.abs(numeric))
        error = float(np.nan_to_num(rel, nan=np.inf).max()) if rel.size else 0.0
        errors[f"d{key}"] = None
        if error > tol:
            first = tuple(int(i) for i in np.argwhere(~(rel <= tol))[0])
            errors[f"d{key}"] = (
                f"{what}: gradient d{key} has relative error {error:.2e} (should be "
                f"below {tol:.0e}); first wrong index {first}: numerical "
                f"{_fmt(numeric[first])}, yours {_fmt(g[first])}"
            )
    wrong = [label for label, e in errors.items() if e]
    if wrong:
        raise AssertionError(errors[wrong[0]] + _others(errors, wrong[0]))
    if not quiet:
        passed(name, len(inputs), "numerical gradients")


def outputs_match(got, expected, rtol: float = 1e-5, atol: float = 1e-5) -> bool:
    """Whether ``got`` has ``expected``'s shape and close values (for computed hints)."""
    got, expected = np.asarray(got), np.asarray(expected)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol))


@learner_facing
def score_backward(
    forward: Callable,
    backward: Callable,
    ref_forward: Callable,
    ref_backward: Callable,
    cases: Sequence[Case],
    name: str,
    diagnose: Callable | None = None,
    input_names: Sequence[str] = ("x", "w", "b"),
) -> dict[str, float]:
    """Partial credit per gradient: each gradient's fraction of right ``cases``.

    Each case's ``args`` are the inputs the gradients are taken for, named by
    ``input_names`` in order (``x, w, b`` by default; as many as the forward takes), its
    ``kwargs`` the forward's other arguments (hyperparameters, running statistics). Returns
    ``{"dx": 0.0, "dw": 1.0, "db": 1.0}``-style scores; prints ``✓`` for the gradients
    right in every case and the ``✗`` message of the first failing case (which names the
    wrong gradient, with ``diagnose``'s hint), and raises that failure when no gradient is
    right in any case.
    """
    __tracebackhide__ = True
    scores: dict[str, float] = {}
    failure: BaseException | None = None
    for case in cases:
        inputs = dict(zip(input_names, case.args, strict=False))
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


# --------------------------------------------------------------------------- parts and summaries

PASSED_MARK, FAILED_MARK = "\u2713", "\u2717"


def points_summary(earned: float, out_of) -> str:
    """How a :class:`Points` shows: "1.5 of 2 points for this cell"."""
    plural = "" if float(out_of) == 1 else "s"
    return f"{earned:g} of {float(out_of):g} point{plural} for this cell"


def _failure_line(name: str, exc: BaseException) -> str:
    """``✗ name: message`` on one line (the type is named unless it is an AssertionError)."""
    text = str(exc).strip()
    if not isinstance(exc, AssertionError) or not text:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    notes = [str(n).strip() for n in getattr(exc, "__notes__", None) or () if str(n).strip()]
    return " ".join([f"{FAILED_MARK} {name}: {text}", *notes]).replace("\n", " ")


def _without_library_frames(tb):
    """``tb`` without the frames of the grading framework, in cnncourse/grading and its
    subfolders (the learner's frames stay), nor an entry repeating the one above it (see
    :func:`learner_facing`)."""
    library = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(library) and not (
            frames and frames[-1].tb_frame is tb.tb_frame and frames[-1].tb_lasti == tb.tb_lasti
        ):
            frames.append(tb)
        tb = tb.tb_next
    kept = None
    for entry in reversed(frames):
        kept = types.TracebackType(kept, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return kept


def run_parts(parts: dict) -> dict[str, bool]:
    """Run each part of a multi-part test; print one line per part; ``{name: passed}``.

    parts: ``{"part name": callable}`` (each callable runs that part's checks and raises
    when it fails). A part that passed shows the line its check printed ("✓ name: 3 public
    checks passed ..."), or ``✓ name`` when it printed none; a part that failed shows
    ``✗ name: message``. When every part fails, the first failure is raised (without the
    framework's frames), so the cell fails as a whole; otherwise the cell goes on, usually
    to ``points(sum(passed.values()) / len(passed), out_of=P)``.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of a learner's traceback
    if not parts:
        raise ValueError("run_parts needs at least one part")
    results: dict[str, bool] = {}
    first: BaseException | None = None
    for name, part in parts.items():
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                part()
        except Exception as exc:
            sys.stdout.write(printed.getvalue())
            print(_failure_line(str(name), exc))
            results[name] = False
            first = exc if first is None else first
        else:
            text = printed.getvalue()
            sys.stdout.write(text)
            if not any(line.lstrip().startswith(PASSED_MARK) for line in text.splitlines()):
                print(f"{PASSED_MARK} {name}")
            results[name] = True
    if first is not None and not any(results.values()):
        raise first.with_traceback(_without_library_frames(first.__traceback__))
    return results
