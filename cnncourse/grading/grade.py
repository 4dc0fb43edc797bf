"""Grade one submission: merge it with the source, run it, score each test cell.

A test cell earns its points when it runs without an error. If its last line evaluates
to a number (or a bool), that is the fraction of its points earned: ``0.75`` of a
2-point cell gives 1.5 (nbgrader would read the number as points; use fractions here).
Reasons are written for the learner; a failure inside hidden tests names only the
exception type, never the code or its message.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .assemble import EXTRA, SETUP, Plan, build_plan
from .notebook_format import (
    SOLUTION,
    TEST,
    NotebookError,
    check_source,
    read_source,
    read_submission,
)
from .runner import DIED, ERROR, HUNG, NOT_RUN, TIMEOUT, Limits, Outcome, run_plan

GRADED, UNREADABLE, MISSING, GRADER_ERROR = "graded", "unreadable", "missing", "error"
PASSED, PARTIAL, FAILED = "passed", "partial", "failed"
_NUMBER = re.compile(r"^(?:(?:np\.)?\w+\()?\s*([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|inf))"
                     r"\s*\)?$")
MAX_COPY_BYTES = 200 * 2**20
MAX_COPY_FILES = 2000
_SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", ".venv", "node_modules"}


@dataclass
class TestResult:
    """Score of one test cell."""

    grade_id: str
    points: float
    max_points: float
    status: str  # passed, partial, failed or not_run
    message: str
    hidden: bool = False  # the cell has hidden tests


@dataclass
class SubmissionResult:
    """Everything the reports need about one graded submission."""

    student: str
    submission: str | None
    source: str
    status: str  # graded, unreadable, missing or error
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sandbox: str = "off"  # how the kernel was isolated: "bubblewrap" or "off"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        tests = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**{**data, "tests": tests})


# --------------------------------------------------------------------------- scoring


def parse_fraction(value: str | None) -> float | None:
    """The number a test cell's last line showed (``0.5``, ``np.float64(0.5)``, ``True``)."""
    if value is None:
        return None
    text = value.strip()
    if text in ("True", "np.True_", "False", "np.False_"):
        return float(text.endswith("True") or text.endswith("True_"))
    match = _NUMBER.match(text)
    return float(match.group(1)) if match else None


def _error_text(outcome: Outcome) -> str:
    evalue = outcome.evalue.strip()
    return f"{outcome.ename}: {evalue}" if evalue else outcome.ename


def _limit(outcome: Outcome, limits: Limits) -> str:
    if outcome.reason == "notebook":
        return f"the notebook's time limit of {limits.notebook_timeout:g} s"
    return f"the per-cell limit of {limits.cell_timeout:g} s"


def score_test(step, outcome: Outcome, limits: Limits) -> TestResult:
    hidden = step.has_hidden
    max_points = step.points

    def result(fraction: float, status: str, message: str) -> TestResult:
        return TestResult(step.grade_id, round(max_points * fraction, 4), max_points, status,
                          message, hidden)

    if outcome.status == NOT_RUN:
        return result(0, NOT_RUN, outcome.reason or "not run")
    if outcome.status == TIMEOUT:
        where = " in the hidden tests" if outcome.hidden else ""
        return result(0, FAILED, f"timed out{where} after {_limit(outcome, limits)} and was "
                                 "interrupted (an endless loop, or far too slow?)")
    if outcome.status == HUNG:
        return result(0, FAILED, f"ran past {_limit(outcome, limits)} and did not stop when "
                                 "interrupted; the kernel was restarted and the cells after "
                                 "it ran again without it")
    if outcome.status == DIED:
        return result(0, FAILED, "the kernel died while running this test (os._exit, a "
                                 "crash in compiled code, or out of memory); the cells after "
                                 "it ran in a new kernel")
    if outcome.status == ERROR:
        if outcome.hidden:
            return result(0, FAILED, f"the public checks passed but the hidden tests failed "
                                     f"({outcome.ename}); test more cases yourself: other "
                                     "shapes, strides, padding, dtypes and edge values")
        message = _error_text(outcome)
        if outcome.traceback:
            message += "\n\n" + outcome.traceback
        return result(0, FAILED, message)
    fraction = parse_fraction(outcome.value)
    warnings = "".join(f"\n({w})" for w in outcome.warnings)
    if fraction is None:
        return result(1, PASSED, "passed" + warnings)
    if math.isnan(fraction) or not 0 <= fraction <= 1:
        return result(0, FAILED, f"the test returned {outcome.value.strip()}, which is not a "
                                 "fraction between 0 and 1; scored 0" + warnings)
    if fraction == 1:
        return result(1, PASSED, "passed" + warnings)
    if fraction == 0:
        return result(0, FAILED, "none of the test's cases passed" + warnings)
    return result(fraction, PARTIAL, f"partial credit: {fraction:.0%} of the test's cases "
                                     "passed" + warnings)


def step_notes(plan: Plan, outcomes: list[Outcome], limits: Limits) -> list[str]:
    """Notes about the learner's own cells and setup cells that did not run cleanly."""
    notes = []
    for step, outcome in zip(plan.steps, outcomes, strict=True):
        if step.kind not in (SOLUTION, EXTRA, SETUP) or outcome.status in ("ok", NOT_RUN):
            continue
        who = step.label[0].upper() + step.label[1:]
        if outcome.status == ERROR:
            notes.append(f"{who} raised {_error_text(outcome)[:500]}")
        elif outcome.status == TIMEOUT:
            notes.append(f"{who} ran past {_limit(outcome, limits)} and was interrupted")
        elif outcome.status == HUNG:
            notes.append(f"{who} ran past {_limit(outcome, limits)} and did not stop when "
                         "interrupted; the notebook ran again without it")
        elif outcome.status == DIED:
            notes.append(f"{who} killed the kernel (os._exit, a crash in compiled code, or "
                         "out of memory); the notebook ran again without it")
    return notes


# --------------------------------------------------------------------------- one submission


def load_source(path) -> tuple[object, float]:
    """Read and validate an instructor notebook; returns ``(nb, max_score)``."""
    nb = read_source(path)
    check_source(nb, str(path))
    plan = build_plan(nb, None)
    return nb, sum(step.points for step in plan.tests)


def source_from_notebook(path) -> object:
    """A learner's own notebook as the source for ``cnncourse check``.

    Keeps the cells with nbgrader metadata (and markdown), without outputs, so the
    learner's added cells and stored outputs do not make it an invalid source; they are
    matched back as the learner's own cells when the notebook is run.
    """
    import nbformat

    try:
        data = read_submission(path)
        nb = nbformat.from_dict(data)
        nb = nbformat.v4.upgrade(nb) if nb.get("nbformat_minor", 0) < 5 else nb
    except NotebookError:
        raise
    except Exception as exc:
        raise NotebookError(f"cannot read {Path(path).name} as a notebook: {exc}") from exc
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and not cell.get("metadata", {}).get("nbgrader"):
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    nb.cells = cells
    check_source(nb, str(path))
    return nb


def copy_folder(folder: Path, notebook: Path, target: Path) -> list[str]:
    """Copy the submission's folder (without other notebooks) to ``target``.

    Returns notes: files that could not be read are left out, and when the folder is too
    big only the notebook is copied.
    """
    notes: list[str] = []
    files, total = [], 0
    try:
        for path in folder.rglob("*"):
            rel = path.relative_to(folder)
            if any(part in _SKIP_DIRS for part in rel.parts) or path.is_symlink():
                continue
            if path.is_file() and not (path.suffix == ".ipynb" and path != notebook):
                files.append(rel)
                total += path.stat().st_size
            if len(files) > MAX_COPY_FILES or total > MAX_COPY_BYTES:
                notes.append(f"the folder {folder.name}/ holds more than {MAX_COPY_FILES} "
                             f"files or {MAX_COPY_BYTES // 2**20} MiB; only the notebook was "
                             "copied")
                files = [notebook.relative_to(folder)]
                break
    except OSError as exc:
        notes.append(f"the folder {folder.name}/ could not be read completely ({exc})")
    target.mkdir(parents=True, exist_ok=True)
    for rel in files:
        dest = target / rel
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, dest)
        except OSError as exc:
            notes.append(f"{rel} was not copied ({exc.strerror or exc})")
    return notes


def failed_result(source_path, student, submission, status, reason, max_score, plan=None
                  ) -> SubmissionResult:
    tests = [TestResult(s.grade_id, 0.0, s.points, NOT_RUN, f"not run: {reason}", s.has_hidden)
             for s in (plan.tests if plan else [])]
    return SubmissionResult(student, submission, str(source_path), status, 0.0, max_score,
                            tests, [reason])


def grade_notebook(source_path, submission_path, student: str, limits: Limits | None = None,
                   source=None, on_kernel: Callable[[int], None] | None = None
                   ) -> SubmissionResult:
    """Grade one submission (``None``: nothing was submitted) against the source.

    Runs in a temporary copy of the submission's folder; the submission itself is only
    read. ``source`` may pass an already validated source notebook.
    """
    started = time.monotonic()
    limits = limits or Limits()
    nb = source if source is not None else load_source(source_path)[0]
    template = build_plan(nb, None)
    max_score = sum(step.points for step in template.tests)
    sub = str(submission_path) if submission_path else None
    if submission_path is None:
        return failed_result(source_path, student, None, MISSING, "no submission found",
                             max_score, template)
    submission_path = Path(submission_path)
    try:
        data = read_submission(submission_path)
    except NotebookError as exc:
        return failed_result(source_path, student, sub, UNREADABLE, str(exc), max_score,
                             template)
    plan = build_plan(nb, data)
    workdir = Path(tempfile.mkdtemp(prefix="cnncourse-grade-"))
    try:
        # One level down, so that "../" from the kernel's folder is still ours.
        cwd = workdir / "work" / (submission_path.parent.name or "submission")
        notes = copy_folder(submission_path.parent, submission_path, cwd)
        outcomes, run_notes = run_plan(plan, cwd, limits, on_kernel)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    tests = [score_test(step, outcome, limits)
             for step, outcome in zip(plan.steps, outcomes, strict=True) if step.kind == TEST]
    notes = notes + plan.notes + step_notes(plan, outcomes, limits) + run_notes
    score = round(sum(t.points for t in tests), 4)
    return SubmissionResult(student, sub, str(source_path), GRADED, score, max_score, tests,
                            notes, round(time.monotonic() - started, 2))
