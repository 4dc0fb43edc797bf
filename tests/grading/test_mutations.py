"""Mutation tests: every rule an exercise states is caught by its public checks.

For chapters 2, 4 and 6, each mutant is a learner function that breaks one rule the
notebook's instructions state (a flipped kernel, float64 out for float32 in, an
off-by-one output size, ``=`` instead of ``+=``, ...). The test runs the solutions
notebook's setup and solution cells in-process, swaps the learner function for the
mutant and runs the public code of the cell that checks it (what the learner sees: the
test cell with its hidden blocks stripped, as released). The mutant must fail there with
an ``AssertionError``; the solution must pass.

``test_mutation_table`` prints ``mutant | notebook | caught | first line of message``
for every mutant (run with ``-s`` to see it).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from cnncourse.grading import checks as checks_module
from cnncourse.grading.notebook_format import SOLUTION, TEST, cell_kind, cell_source, grade_id, read_source
from cnncourse.grading.release import strip_hidden

from .grading_helpers import SOLUTIONS

CORRECT = "solution (correct)"


# --------------------------------------------------------------------------- mutants written out


def _every_tied_maximum() -> Callable:
    """max_pool_backward that sends the gradient to every tied maximum of a window."""

    def max_pool_backward(dout, cache):
        x, pool_size, stride = cache
        _, oh, ow, _ = dout.shape
        dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * stride, i * stride + pool_size)
                cols = slice(j * stride, j * stride + pool_size)
                window = x[:, rows, cols]
                winners = window == window.max(axis=(1, 2), keepdims=True)
                dx[:, rows, cols] += winners * dout[:, i : i + 1, j : j + 1, :]
        return dx

    return max_pool_backward


# --------------------------------------------------------------------------- the mutants


@dataclass(frozen=True)
class Mutant:
    """A learner function of a solutions notebook, changed to break one stated rule.

    ``edits`` are ``(old, new)`` replacements in the solution's own source of the function
    (every occurrence; each must occur); ``replacement`` builds the function instead.
    ``checked_by`` is the grade_id of the cell whose public code must catch it (default:
    the first test cell after the solution cell that defines the function); a solution
    cell there runs whole (its self-check is learner-visible code).
    """

    notebook: str
    function: str
    name: str
    edits: tuple[tuple[str, str], ...] = ()
    replacement: Callable[[], Callable] | None = None
    checked_by: str | None = None

    @property
    def breaks_rule(self) -> bool:
        return self.name != CORRECT

    @property
    def id(self) -> str:
        where = f"@{self.checked_by}" if self.checked_by else ""
        return f"{self.notebook[:2]}-{self.function}{where}-{self.name}".replace(" ", "_")


CONV, POOL, BACKPROP = "02_convolution", "04_pooling", "06_backpropagation"
FLOAT64_OUT = "float64 output for float32 input"
OFF_BY_ONE = "off-by-one output size"
ASSIGN = "= instead of +="
ALL_TIES = "gradient to every tied maximum"

MUTANTS = [
    # chapter 2
    Mutant(CONV, "correlate2d", "kernel flipped", (("* kernel)", "* kernel[::-1, ::-1])"),)),
    Mutant(
        CONV,
        "box_blur_kernel",
        "hard-coded 3x3",
        (("np.full((k, k), 1.0 / k**2)", "np.full((3, 3), 1.0 / 9)"),),
    ),
    Mutant(CONV, "output_size", OFF_BY_ONE, (("// stride + 1", "// stride"),)),
    Mutant(
        CONV,
        "conv2d_forward",
        "kernel flipped",
        (("np.tensordot(window, w,", "np.tensordot(window, w[::-1, ::-1],"),),
    ),
    Mutant(CONV, "conv2d_forward", FLOAT64_OUT, (("dtype=x.dtype", "dtype=np.float64"),)),
    Mutant(CONV, "conv2d_forward", OFF_BY_ONE, (("stride, padding)\n", "stride, padding) - 1\n"),)),
    Mutant(CONV, "conv_param_count", "bias flag ignored", (("(c_out if bias else 0)", "c_out"),)),
    # chapter 4
    Mutant(POOL, "pool_output_shape", OFF_BY_ONE, (("// stride + 1", "// stride"),)),
    Mutant(POOL, "max_pool_forward", FLOAT64_OUT, (("dtype=x.dtype", "dtype=np.float64"),)),
    Mutant(POOL, "avg_pool_forward", FLOAT64_OUT, (("dtype=x.dtype", "dtype=np.float64"),)),
    Mutant(POOL, "max_pool_backward", ALL_TIES, replacement=_every_tied_maximum),
    Mutant(
        POOL,
        "max_pool_backward",
        ASSIGN,
        (
            (
                "np.add.at(dx, (batch, rows, cols, channel), dout[:, i, j, :])",
                "dx[batch, rows, cols, channel] = dout[:, i, j, :]",
            ),
        ),
    ),
    # chapter 6
    Mutant(
        BACKPROP, "numerical_gradient", "f(x) not copied", (("np.array(f(x), dtype=np.float64)", "f(x)"),)
    ),
    Mutant(
        BACKPROP,
        "rel_error",
        "no guard against division by zero",
        (("np.maximum(1e-8, np.abs(a) + np.abs(b))", "(np.abs(a) + np.abs(b))"),),
    ),
    Mutant(
        BACKPROP,
        "rel_error",
        "1e-8 added instead of max(1e-8, ...)",
        (("np.maximum(1e-8, np.abs(a) + np.abs(b))", "(1e-8 + np.abs(a) + np.abs(b))"),),
    ),
    Mutant(BACKPROP, "max_pool_backward", ALL_TIES, replacement=_every_tied_maximum),
    Mutant(
        BACKPROP,
        "max_pool_backward",
        ASSIGN,
        (
            (
                "np.add.at(dx, (rows, i * stride + di, j * stride + dj, cols), dout[:, i, j])",
                "dx[rows, i * stride + di, j * stride + dj, cols] = dout[:, i, j]",
            ),
        ),
    ),
    Mutant(
        BACKPROP,
        "conv2d_backward",
        "uncropped dx",
        (("dx = dxp[:, p:p + x.shape[1], p:p + x.shape[2]]", "dx = dxp"),),
    ),
    Mutant(
        BACKPROP,
        "conv2d_backward",
        "uncropped dx",
        (("dx = dxp[:, p:p + x.shape[1], p:p + x.shape[2]]", "dx = dxp"),),
        checked_by="gradient-check",
    ),
]

# The solution itself, once per function and checking cell: it must pass.
CORRECT_ONES = list(
    {
        (m.notebook, m.function, m.checked_by): Mutant(
            m.notebook, m.function, CORRECT, checked_by=m.checked_by
        )
        for m in MUTANTS
    }.values()
)
ALL = [*MUTANTS, *CORRECT_ONES]


# --------------------------------------------------------------------------- running a notebook in-process


class _StrictChecks:
    """``checks`` as the notebook sees it, except that ``run_parts`` raises the first failing
    part (the real one prints ``✗ part: message`` and goes on unless every part fails), and
    so do the ``score_*`` checks that give partial credit per gradient (the real ones print
    ``✗ name: message`` and go on unless every gradient is wrong)."""

    def __getattr__(self, name):
        found = getattr(checks_module, name)
        return _raising_failures(found) if name.startswith("score_") else found

    @staticmethod
    def run_parts(parts: dict) -> dict[str, bool]:
        for part in parts.values():
            part()
        return dict.fromkeys(parts, True)


def _raising_failures(score: Callable) -> Callable:
    """``score`` that raises the first ``✗`` line it prints as an ``AssertionError``."""

    @functools.wraps(score)
    def strict(*args, **kwargs):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = score(*args, **kwargs)
        failures = [line for line in printed.getvalue().splitlines() if line.startswith("\u2717 ")]
        if failures:
            raise AssertionError(failures[0].split(": ", 1)[-1])
        return result

    return strict


@functools.cache
def _cells(notebook: str) -> tuple[tuple[str, str | None, str], ...]:
    nb = read_source(SOLUTIONS / f"{notebook}.ipynb")
    return tuple((cell_kind(c), grade_id(c), cell_source(c)) for c in nb.cells if c.cell_type == "code")


def _defines(source: str, function: str) -> ast.FunctionDef | None:
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return node
    return None


def _exec(code: str, namespace: dict, where: str) -> None:
    exec(compile(code, f"<{where}>", "exec"), namespace)
    if namespace.get("checks") is checks_module:
        namespace["checks"] = _StrictChecks()


def _install(mutant: Mutant, source: str, namespace: dict) -> None:
    if mutant.replacement is not None:
        namespace[mutant.function] = mutant.replacement()
        return
    code = ast.get_source_segment(source, _defines(source, mutant.function))
    for old, new in mutant.edits:
        assert old in code, f"{mutant.id}: {old!r} is not in the solution of {mutant.function}"
        code = code.replace(old, new)
    _exec(code, namespace, f"{mutant.notebook}:{mutant.id}")


def run_public_check(mutant: Mutant) -> None:
    """Run the notebook with ``mutant`` in place up to the cell that checks it, then that
    cell's public code; raises what that code raises."""
    namespace: dict = {"__name__": "__main__"}
    installed = False
    for kind, gid, source in _cells(mutant.notebook):
        where = f"{mutant.notebook}:{gid}"
        checking = installed and (gid == mutant.checked_by if mutant.checked_by else kind == TEST)
        if checking:
            _exec(strip_hidden(source) if kind == TEST else source, namespace, where)
            return
        if kind == TEST:
            continue
        _exec(source, namespace, where)
        if kind == SOLUTION and _defines(source, mutant.function):
            _install(mutant, source, namespace)
            installed = True
    raise LookupError(f"{mutant.id}: no cell checks {mutant.function}")


@dataclass(frozen=True)
class Outcome:
    caught: bool
    error: str = ""  # the exception's type
    message: str = ""  # the first line of its message


@functools.cache
def outcome(mutant: Mutant) -> Outcome:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            run_public_check(mutant)
    except LookupError:
        raise
    except Exception as exc:  # the public checks caught it (or crashed on it)
        lines = str(exc).strip().splitlines()
        return Outcome(True, type(exc).__name__, lines[0] if lines else "")
    return Outcome(False)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_public_checks_catch_the_mutant(mutant):
    result = outcome(mutant)
    assert result.caught, f"{mutant.id}: the public checks pass a {mutant.name!r} {mutant.function}"
    assert result.error == "AssertionError", f"{mutant.id}: {result.error}: {result.message}"
    assert mutant.function in result.message, (
        f"{mutant.id}: the message should name {mutant.function}: {result.message}"
    )


@pytest.mark.parametrize("mutant", CORRECT_ONES, ids=lambda m: m.id)
def test_public_checks_pass_the_solution(mutant):
    result = outcome(mutant)
    assert not result.caught, (
        f"{mutant.id}: the solution fails its public checks: {result.error}: {result.message}"
    )


def test_mutation_table():
    rows = [("mutant", "notebook", "caught by public checks", "first line of message")]
    for mutant in ALL:
        result = outcome(mutant)
        name = f"{mutant.function}: {mutant.name}" + (
            f" [{mutant.checked_by} self-check]" if mutant.checked_by else ""
        )
        rows.append((name, mutant.notebook, "yes" if result.caught else "no", result.message))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print()
    for row in rows:
        print(
            " | ".join(
                [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]
            ).rstrip()
        )
    assert all(outcome(m).caught == m.breaks_rule for m in ALL)
