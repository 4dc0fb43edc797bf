"""Grade one submission: merge it with the source, run it, score each test cell.

Test cells are scored exactly as nbgrader scores them: 0 for an error or for anything
written to stderr; otherwise the number the last line shows is the points earned
(``checks.points(0.75, out_of=2)`` shows 1.5), and a cell that shows no number earns all
its points.
Reasons are written for the learner; a failure inside hidden tests names only the
exception type, never the code or its message.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import own_work
from .assemble import EXTRA, SETUP, Plan, build_plan
from .notebook_format import (
    SOLUTION,
    TEST,
    NotebookError,
    check_source,
    read_source,
    read_submission,
)
from .runner import Limits, Outcome, run_plan
from .sandbox import resolve_mode
from .status import Status

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STDERR_CHARS = 500  # of a test's stderr shown in its message
FAILED_MARK = "\u2717"  # how the checks start a line about a part that failed
PASSED_MARK = "\u2713"  # ... and about a part (or a check) that passed
MAX_PARTS, MAX_PART_CHARS = 20, 300
MAX_COPY_BYTES = 200 * 2**20
MAX_COPY_FILES = 2000
_SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", ".venv", "node_modules"}


@dataclass
class TestResult:
    """Score of one test cell."""

    grade_id: str
    points: float
    max_points: float
    status: Status  # passed, partial, failed or not_run
    message: str  # for the learner: what was expected, what came back
    hidden: bool = False  # the cell has hidden tests
    details: str = ""  # the short traceback of a public failure, shown folded below it
    parts: list[str] = field(default_factory=list)  # the public part's "\u2713"/"\u2717" lines, in order


@dataclass
class SubmissionResult:
    """Everything the reports need about one graded submission."""

    student: str
    submission: str | None
    source: str
    status: Status  # graded, unreadable, missing or error (GRADER_ERROR)
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
        tests = [TestResult(**{**t, "status": Status(t["status"])}) for t in data.get("tests", [])]
        return cls(**{**data, "status": Status(data["status"]), "tests": tests})


# --------------------------------------------------------------------------- scoring


def parse_points(value: str | None, max_points: float) -> tuple[float, str]:
    """The points of a test cell that ran without an error or stderr and showed ``value``.

    ``value`` is the ``text/plain`` of the value its last line showed (None: it showed
    none). It is read exactly as nbgrader 0.9 reads it (``nbgrader.utils.
    get_partial_grade``): no value, text that ``float()`` cannot read (``'done'``,
    ``True``, ``np.float64(0.5)``), a negative number or nan give all ``max_points``; a
    number from 0 to ``max_points`` gives that many points. Returns ``(points, note)``,
    the note saying why an odd value counted as all the points. A number above
    ``max_points`` or an empty text raise ``ValueError`` (nbgrader's autograde then fails
    for the whole submission): the test, not the answer, is broken.
    """
    if value is None:
        return max_points, ""
    if not value:
        raise ValueError("the test's last line showed an empty text instead of its points")
    try:
        points = float(value)
    except ValueError:
        shown = value.strip()
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return max_points, (
            f"its last line showed {shown!r}, not a number of points, which "
            "counts as all the points, as in nbgrader"
        )
    if points >= 0.0:
        if points > max_points:
            raise ValueError(
                f"the test's last line showed {points:g} points, more than the "
                f"{max_points:g} the cell is worth"
            )
        return points, ""
    return max_points, (
        f"its last line showed {value.strip()[:40]}, which is not a number of "
        "points from 0 up and counts as all the points, as in nbgrader"
    )


def _stderr_message(outcome: Outcome) -> str:
    """Why a test that wrote to stderr scores 0; only the public part's text is shown."""
    rule = "and a test that writes to stderr scores 0, as in nbgrader"
    if not outcome.stderr:
        return (
            f"the hidden tests wrote to stderr (a warning, or an error message printed "
            f"by the code they ran), {rule}"
        )
    text = _ANSI.sub("", outcome.stderr).strip() or repr(outcome.stderr)
    if len(text) > STDERR_CHARS:
        text = text[:STDERR_CHARS] + " ..."
    also = "; the hidden tests wrote to stderr too" if outcome.hidden_stderr else ""
    return (
        f"this test wrote to stderr (usually a warning from the code it ran, such as a "
        f"NumPy RuntimeWarning), {rule}{also}:\n{text}"
    )


def _error_text(outcome: Outcome) -> str:
    evalue = outcome.evalue.strip()
    return f"{outcome.ename}: {evalue}" if evalue else outcome.ename


def _with_failed_parts(message: str, outcome: Outcome) -> str:
    """``message`` and then the lines the checks printed for the parts that failed.

    They start with "\u2717" and come from the public part only (the runner keeps no
    output of hidden blocks); a line the message already holds is not repeated.
    """
    lines = [line.strip() for line in outcome.stdout.splitlines() if line.lstrip().startswith(FAILED_MARK)]
    lines = [
        line[:MAX_PART_CHARS]
        for line in dict.fromkeys(lines)
        if line[1:].strip() and line[1:].strip() not in message
    ]
    if len(lines) > MAX_PARTS:
        lines = [*lines[:MAX_PARTS], f"... and {len(lines) - MAX_PARTS} more"]
    return "\n".join([message, *lines])


def part_lines(stdout: str) -> list[str]:
    """The lines a test cell printed about its parts and checks, in order: those starting
    with "\u2713" or "\u2717" (``checks.run_parts`` prints one per part), without repeats."""
    lines = [line.strip() for line in stdout.splitlines()]
    lines = [line[:MAX_PART_CHARS] for line in dict.fromkeys(lines) if line[:1] in (PASSED_MARK, FAILED_MARK)]
    if len(lines) > MAX_PARTS:
        lines = [*lines[:MAX_PARTS], f"... and {len(lines) - MAX_PARTS} more"]
    return lines


def failed_part_names(lines: list[str]) -> list[str]:
    """The names of the parts that failed, from lines such as "\u2717 name: message"."""
    names = [line[1:].split(":", 1)[0].strip() for line in lines if line.startswith(FAILED_MARK)]
    return [name for name in dict.fromkeys(names) if name and not name.startswith("...")]


def _learner_traceback(traceback: str, message: str) -> tuple[str, str]:
    """``(notes, traceback)``: the exception's notes (the lines after ``message`` at the
    end, such as "(raised by output_size(5, 3, 1, 0))"), and the traceback before the
    message, without IPython's ruler and padded header."""
    lines = [line for line in traceback.splitlines() if not re.fullmatch(r"-{20,}", line)]
    # IPython's "[... skipping hidden 1 frame]" (frames marked __tracebackhide__) folds like
    # the library frames do
    lines = [
        "    ..." if re.fullmatch(r"\s*\[\.\.\. skipping hidden \d+ frames?\]\s*", ln) else ln for ln in lines
    ]
    lines = [ln for i, ln in enumerate(lines) if not (ln == "    ..." and i and lines[i - 1] == ln)]
    if lines and re.fullmatch(r"\S+\s+Traceback \(most recent call last\)", lines[0]):
        lines[0] = "Traceback (most recent call last):"
    said = [line.strip() for line in message.splitlines()]
    notes: list[str] = []
    for start in range(len(lines) - len(said), 0, -1):
        if [line.strip() for line in lines[start : start + len(said)]] == said:
            lines, notes = lines[:start], lines[start + len(said) :]
            break
    return "\n".join(notes).strip("\n"), "\n".join(lines).strip("\n")


def _limit(outcome: Outcome, limits: Limits) -> str:
    if outcome.reason == "notebook":
        return f"the notebook's time limit of {limits.notebook_timeout:g} s"
    return f"the per-cell limit of {limits.cell_timeout:g} s"


def score_test(step, outcome: Outcome, limits: Limits) -> TestResult:
    test = _score_test(step, outcome, limits)
    test.parts = part_lines(outcome.stdout)
    return test


def _score_test(step, outcome: Outcome, limits: Limits) -> TestResult:
    hidden = step.has_hidden
    max_points = step.points

    def result(points: float, status: Status, message: str) -> TestResult:
        return TestResult(step.grade_id, points, max_points, status, message, hidden)

    if outcome.status == Status.NOT_RUN:
        return result(0, Status.NOT_RUN, outcome.reason or "not run")
    if outcome.limit and outcome.status in (Status.ERROR, Status.DIED):
        where = " in the hidden tests" if outcome.hidden else ""
        ename = f" ({outcome.ename})" if outcome.ename else ""
        return result(
            0,
            Status.FAILED,
            f"{outcome.limit[0].upper()}{outcome.limit[1:]}{where} "
            f"while this test ran{ename}; the grader's sandbox stops "
            "code that uses that much",
        )
    if outcome.status == Status.TIMEOUT:
        where = " in the hidden tests" if outcome.hidden else ""
        return result(
            0,
            Status.FAILED,
            f"timed out{where} after {_limit(outcome, limits)} and was "
            "interrupted (an endless loop, or far too slow?)",
        )
    if outcome.status == Status.HUNG:
        return result(
            0,
            Status.FAILED,
            f"ran past {_limit(outcome, limits)} and did not stop when "
            "interrupted; the kernel was restarted and the cells after "
            "it ran again without it",
        )
    if outcome.status == Status.DIED:
        return result(
            0,
            Status.FAILED,
            "the kernel died while running this test (os._exit, a "
            "crash in compiled code, or out of memory); the cells after "
            "it ran in a new kernel",
        )
    if outcome.status == Status.ERROR:
        if outcome.hidden:
            return result(
                0,
                Status.FAILED,
                f"the public checks passed but the hidden tests failed "
                f"({outcome.ename}); test more cases yourself: other "
                "shapes, strides, padding, dtypes and edge values",
            )
        notes, details = _learner_traceback(outcome.traceback, _error_text(outcome))
        message = _error_text(outcome) + (f"\n{notes}" if notes else "")
        test = result(0, Status.FAILED, _with_failed_parts(message, outcome))
        test.details = details
        return test
    # The test ran to its end: score it as nbgrader does (utils.determine_grade).
    warnings = "".join(f"\n({w})" for w in outcome.warnings)
    if outcome.stderr or outcome.hidden_stderr:
        return result(0, Status.FAILED, _stderr_message(outcome) + warnings)
    try:
        points, note = parse_points(outcome.value, max_points)
    except ValueError as exc:
        return result(
            0,
            Status.FAILED,
            f"this test is broken, not your answer: {exc}. nbgrader "
            "cannot grade a notebook with such a cell; it scores 0 here "
            "(please tell your instructor)" + warnings,
        )
    if points == max_points:
        return result(max_points, Status.PASSED, "passed" + (f" ({note})" if note else "") + warnings)
    if points == 0:
        return result(
            0, Status.FAILED, _with_failed_parts("none of the test's cases passed", outcome) + warnings
        )
    failed = failed_part_names(part_lines(outcome.stdout))
    named = f" ({', '.join(failed)} failed)" if failed else ""
    return result(
        points,
        Status.PARTIAL,
        _with_failed_parts(f"partial credit: {points:g} of {max_points:g} points{named}", outcome) + warnings,
    )


def step_notes(plan: Plan, outcomes: list[Outcome], limits: Limits) -> list[str]:
    """Notes about the learner's own cells and setup cells that did not run cleanly."""
    notes = []
    for step, outcome in zip(plan.steps, outcomes, strict=True):
        if step.kind not in (SOLUTION, EXTRA, SETUP) or outcome.status in (Status.OK, Status.NOT_RUN):
            continue
        who = step.label[0].upper() + step.label[1:]
        if outcome.limit and outcome.status in (Status.ERROR, Status.DIED):
            ename = f" ({outcome.ename})" if outcome.ename else ""
            after = "; the notebook ran again without it" if outcome.status == Status.DIED else ""
            notes.append(f"{who}: {outcome.limit}{ename}{after}")
        elif outcome.status == Status.ERROR:
            notes.append(f"{who} raised {_error_text(outcome)[:500]}")
        elif outcome.status == Status.TIMEOUT:
            notes.append(f"{who} ran past {_limit(outcome, limits)} and was interrupted")
        elif outcome.status == Status.HUNG:
            notes.append(
                f"{who} ran past {_limit(outcome, limits)} and did not stop when "
                "interrupted; the notebook ran again without it"
            )
        elif outcome.status == Status.DIED:
            notes.append(
                f"{who} killed the kernel (os._exit, a crash in compiled code, or "
                "out of memory); the notebook ran again without it"
            )
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
    check_source(nb, str(path), own_work_rules=False)  # declarations are read if present
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
                notes.append(
                    f"the folder {folder.name}/ holds more than {MAX_COPY_FILES} "
                    f"files or {MAX_COPY_BYTES // 2**20} MiB; only the notebook was "
                    "copied"
                )
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


def failed_result(source_path, student, submission, status, reason, max_score, plan=None) -> SubmissionResult:
    tests = [
        TestResult(s.grade_id, 0.0, s.points, Status.NOT_RUN, f"not run: {reason}", s.has_hidden)
        for s in (plan.tests if plan else [])
    ]
    return SubmissionResult(student, submission, str(source_path), status, 0.0, max_score, tests, [reason])


def grade_notebook(
    source_path,
    submission_path,
    student: str,
    limits: Limits | None = None,
    source=None,
    on_kernel: Callable[[int], None] | None = None,
) -> SubmissionResult:
    """Grade one submission (``None``: nothing was submitted) against the source.

    Runs in a temporary copy of the submission's folder; the submission itself is only
    read. ``source`` may pass an already validated source notebook.
    """
    started = time.monotonic()
    limits = limits or Limits()
    mode = resolve_mode(limits.sandbox)  # raises SandboxUnavailable for "on" without one
    if mode != limits.sandbox:
        limits = replace(limits, sandbox=mode)
    nb = source if source is not None else load_source(source_path)[0]
    template = build_plan(nb, None)
    max_score = sum(step.points for step in template.tests)
    sub = str(submission_path) if submission_path else None
    if submission_path is None:
        return failed_result(
            source_path, student, None, Status.MISSING, "no submission found", max_score, template
        )
    submission_path = Path(submission_path)
    try:
        data = read_submission(submission_path)
    except NotebookError as exc:
        return failed_result(source_path, student, sub, Status.UNREADABLE, str(exc), max_score, template)
    plan = build_plan(nb, data)
    workdir = Path(tempfile.mkdtemp(prefix="cnncourse-grade-"))
    try:
        # One level down, so that "../" from the kernel's folder is still ours.
        cwd = workdir / "work" / (submission_path.parent.name or "submission")
        notes = copy_folder(submission_path.parent, submission_path, cwd)
        outcomes, run_notes = run_plan(plan, cwd, limits, on_kernel)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    tests = [
        score_test(step, outcome, limits)
        for step, outcome in zip(plan.steps, outcomes, strict=True)
        if step.kind == TEST
    ]
    own_work.apply(plan, outcomes, tests)  # answers that call the reference score 0
    notes = notes + plan.notes + step_notes(plan, outcomes, limits) + run_notes
    score = round(sum(t.points for t in tests), 4)
    return SubmissionResult(
        student,
        sub,
        str(source_path),
        Status.GRADED,
        score,
        max_score,
        tests,
        notes,
        round(time.monotonic() - started, 2),
        sandbox=mode,
    )
