"""The instructor notebook format: nbgrader's cell metadata and source markers.

Every code cell of a ``solutions/`` notebook carries ``metadata["nbgrader"]`` (schema 3)
and is one of three kinds:

- **solution**: ``solution: true`` -- the learner edits it; the code between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub on release. Text after
  the begin marker (``### BEGIN SOLUTION: return the output size``) becomes the stub's
  one-line instruction.
- **test**: ``grade: true, locked: true, points: P`` -- graded; may hold
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` blocks (at column 0), removed on
  release and restored when grading.
- **locked**: ``locked: true`` -- setup code the learner reads but does not change.

Every solution cell also declares, in ``metadata["cnncourse"]["forbidden"]``, the
references its answer may not use (see :mod:`.own_work`), and is followed by at least one
test cell before the next solution cell: the tests zeroed when the answer is not the
learner's own work.

Markdown cells need no metadata. Submissions are read leniently (:func:`read_submission`)
because learners' files can be anything; sources are validated strictly
(:func:`validate_source`).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import own_work

METADATA_KEY = "nbgrader"
SCHEMA_VERSION = 3
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
DEFAULT_INSTRUCTION = "Replace this line with your code."
GRADE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Anything that looks like a marker but is not spelled exactly like one.
_MARKER_LIKE = re.compile(r"#.*\b(BEGIN|END)\s+(SOLUTION|HIDDEN\s+TESTS)\b", re.IGNORECASE)
MAX_SUBMISSION_BYTES = 50 * 1024 * 1024

SOLUTION, TEST, LOCKED, PLAIN = "solution", "test", "locked", "plain"


class NotebookError(ValueError):
    """A notebook that cannot be used, with a message a person can act on."""


# --------------------------------------------------------------------------- cells


def nbgrader_meta(cell) -> dict:
    """The cell's ``nbgrader`` metadata, or ``{}`` (also when it is malformed)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    value = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else {}


def cell_kind(cell) -> str:
    """``"solution"``, ``"test"``, ``"locked"`` or ``"plain"`` (no nbgrader role)."""
    meta = nbgrader_meta(cell)
    if meta.get("solution") is True:
        return SOLUTION
    if meta.get("grade") is True:
        return TEST
    if meta.get("locked") is True:
        return LOCKED
    return PLAIN


def grade_id(cell) -> str | None:
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def cell_source(cell) -> str:
    """Cell source as one string (notebook files may store it as a list of lines)."""
    src = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def make_meta(kind: str, grade_id_: str, points: float = 0) -> dict:
    """nbgrader metadata for a new cell of ``kind`` (for authoring tools and tests)."""
    meta = {
        "grade": kind == TEST,
        "grade_id": grade_id_,
        "locked": kind in (TEST, LOCKED),
        "schema_version": SCHEMA_VERSION,
        "solution": kind == SOLUTION,
        "task": False,
    }
    if kind == TEST:
        meta["points"] = points
    return meta


# --------------------------------------------------------------------------- markers


def marker_of(line: str) -> str | None:
    """The marker this line is (``### BEGIN SOLUTION`` ...), or None."""
    text = line.strip()
    for marker in MARKERS:
        if text.startswith(marker):
            return marker
    return None


def solution_instruction(marker_line: str) -> str:
    """The instruction written after ``### BEGIN SOLUTION`` (or the default one)."""
    rest = marker_line.strip()[len(BEGIN_SOLUTION) :].strip().lstrip(":-–— ").strip()
    return rest or DEFAULT_INSTRUCTION


@dataclass(frozen=True)
class Segment:
    """A run of lines of a test cell; ``hidden`` ones come from HIDDEN TESTS blocks."""

    code: str
    hidden: bool = False


def split_hidden(source: str) -> list[Segment]:
    """Split a test cell into public and hidden segments, dropping the marker lines.

    Empty segments are left out. Raises :class:`NotebookError` for unbalanced markers.
    """
    segments: list[Segment] = []
    current: list[str] = []
    hidden = False
    for lineno, line in enumerate(source.splitlines(keepends=True), 1):
        marker = marker_of(line)
        if marker in (BEGIN_HIDDEN, END_HIDDEN):
            if (marker == BEGIN_HIDDEN) == hidden:
                raise NotebookError(f"line {lineno}: unexpected {marker!r}")
            segments.append(Segment("".join(current), hidden))
            current, hidden = [], not hidden
        else:
            current.append(line)
    if hidden:
        raise NotebookError(f"{BEGIN_HIDDEN!r} has no matching {END_HIDDEN!r}")
    segments.append(Segment("".join(current), hidden))
    return [s for s in segments if s.code.strip()]


def hidden_code(source: str) -> list[str]:
    """The code of every hidden block of a cell (empty when there are none)."""
    return [s.code for s in split_hidden(source) if s.hidden]


def _marker_problems(source: str, allowed: tuple[str, ...], where: str) -> list[str]:
    problems = []
    open_marker = None
    pairs = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_HIDDEN: END_HIDDEN}
    for lineno, line in enumerate(source.splitlines(), 1):
        marker = marker_of(line)
        if marker is None:
            if _MARKER_LIKE.search(line):
                problems.append(
                    f"{where}, line {lineno}: {line.strip()!r} looks like a marker but is "
                    f"not spelled as one of {', '.join(repr(m) for m in MARKERS)}"
                )
            continue
        if marker not in allowed:
            problems.append(f"{where}, line {lineno}: {marker!r} is not allowed in this cell")
            continue
        if marker in pairs:
            if open_marker:
                problems.append(
                    f"{where}, line {lineno}: {marker!r} inside an open "
                    f"{open_marker!r} block (blocks cannot nest)"
                )
            open_marker = marker
            if marker == BEGIN_HIDDEN and line != line.lstrip():
                problems.append(
                    f"{where}, line {lineno}: {BEGIN_HIDDEN!r} must start at "
                    "column 0 (hidden blocks run as separate top-level code)"
                )
        else:
            expected = {v: k for k, v in pairs.items()}[marker]
            if open_marker != expected:
                problems.append(
                    f"{where}, line {lineno}: {marker!r} without a matching {expected!r} before it"
                )
            open_marker = None
    if open_marker:
        problems.append(f"{where}: {open_marker!r} is never closed")
    return problems


def _parses(code: str) -> str | None:
    """None when ``code`` is valid IPython cell code, else the syntax error."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        ast.parse(TransformerManager().transform_cell(code))
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    return None


def _is_checks_call(node, name: str | None = None) -> bool:
    """``node`` is a call ``checks.<name>(...)`` (any ``check_*``/``assert_*`` when None)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "checks"
    ):
        return False
    attr = node.func.attr
    return attr == name if name else attr.startswith(("check_", "assert_")) or attr == "passed"


def _short(node, limit: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ends_with_semicolon(code: str) -> bool:
    """IPython shows no value for a cell whose last token is ``;``."""
    import io
    import tokenize

    skip = {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.COMMENT,
        tokenize.ENDMARKER,
        tokenize.INDENT,
        tokenize.DEDENT,
    }
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in skip]
    except (tokenize.TokenError, SyntaxError):
        return False
    return bool(tokens) and tokens[-1].string == ";"


def final_value_problem(code: str, points) -> str | None:
    """Why the value test code ends with would not be read as the right points, or None.

    nbgrader (and so cnncourse) reads the value a test cell's last line shows as the
    *points* earned, and a cell that shows no value earns all its points unless it
    fails. So a test cell ends with a statement (all or nothing), with a call that
    returns None (``print``, ``checks.check_*``, ``checks.assert_*``), or with
    ``checks.points(fraction, out_of=P)``, P being the cell's points. Code that does not
    parse is left to the other checks (None).
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(code)
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    value = tree.body[-1].value
    want = (
        f"checks.points(fraction, out_of={points:g})"
        if isinstance(points, int | float)
        else "checks.points(fraction, out_of=P)"
    )
    if _is_checks_call(value, "points"):
        out_of = [k.value for k in value.keywords if k.arg == "out_of"]
        n_fraction = len(value.args) + sum(k.arg == "fraction" for k in value.keywords)
        constant = out_of[0].value if len(out_of) == 1 and isinstance(out_of[0], ast.Constant) else None
        if (
            n_fraction != 1
            or len(value.args) > 1
            or isinstance(constant, bool)
            or not isinstance(constant, int | float)
            or not isinstance(points, int | float)
            or float(constant) != float(points)
        ):
            return (
                f"it ends with {_short(value)}, which must be {want}: out_of "
                "written as the number of points in the cell's metadata"
            )
        if _ends_with_semicolon(code):
            return f"the ';' after {want} hides its value, so the cell would earn full points"
        return None
    if (
        _ends_with_semicolon(code)
        or _is_checks_call(value)
        or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print")
    ):
        return None  # shows no value
    return (
        f"it ends with the expression {_short(value)}, whose value nbgrader "
        f"and cnncourse would read as the points earned; end with {want} for partial "
        "credit, or with a statement for all or nothing"
    )


# --------------------------------------------------------------------------- reading


def read_source(path) -> nbformat.NotebookNode:
    """Read an instructor notebook (nbformat 4), raising :class:`NotebookError`."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise NotebookError(f"source notebook not found: {path}") from None
    except Exception as exc:
        raise NotebookError(f"cannot read source notebook {path}: {exc}") from exc
    return nb


def read_submission(path) -> dict:
    """Read a learner's notebook leniently: a dict with a ``cells`` list.

    Raises :class:`NotebookError` saying what the file is instead (empty, too large,
    not text, not JSON, JSON but not a notebook).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotebookError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise NotebookError(f"{path.name} is not a file")
    if size == 0:
        raise NotebookError(f"{path.name} is empty (0 bytes): save the notebook and submit it again")
    if size > MAX_SUBMISSION_BYTES:
        raise NotebookError(
            f"{path.name} is {size / 2**20:.0f} MiB, more than the "
            f"{MAX_SUBMISSION_BYTES // 2**20} MiB a notebook may have; "
            "clear its outputs and submit it again"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} is not a text file (a notebook is UTF-8 JSON)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path.name} is not JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}); a notebook is a JSON file"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        got = type(data).__name__ if not isinstance(data, dict) else "an object without 'cells'"
        raise NotebookError(
            f"{path.name} is JSON but not a Jupyter notebook (expected an "
            f"object with a 'cells' list, got {got})"
        )
    major = data.get("nbformat")
    if isinstance(major, int) and major < 4:
        raise NotebookError(
            f"{path.name} is an nbformat {major} notebook; open and save it "
            "in JupyterLab to convert it to nbformat 4"
        )
    data["cells"] = [c for c in data["cells"] if isinstance(c, dict)]
    return data


# --------------------------------------------------------------------------- validation


def validate_source(nb, name: str = "notebook", own_work_rules: bool = True) -> list[str]:
    """Every rule a ``solutions/`` notebook must follow; returns the problems found.

    Unique, well-formed ``grade_id`` on every nbgrader cell; points on (and only on)
    test cells; code cells all solution, test or locked; markers balanced, not nested
    and only in the cells they belong to; no outputs stored; at least one test cell;
    every solution cell declares its forbidden references (``own_work_rules``; a
    learner's notebook checked with ``cnncourse check`` may have lost them) and has a
    test cell after it before the next solution cell.
    """
    problems: list[str] = []
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problems.append(f"{name}: not a valid nbformat 4 notebook: {exc.message}")
    seen: dict[str, int] = {}
    n_tests = 0
    untested = None  # the last solution cell, until a test cell follows it
    for index, cell in enumerate(nb.get("cells", [])):
        where = f"{name}, cell {index}"
        meta = nbgrader_meta(cell)
        ctype = cell.get("cell_type")
        source = cell_source(cell)
        if ctype == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: has outputs stored; clear them before committing")
        if not meta:
            if ctype == "code":
                problems.append(
                    f"{where}: code cell without nbgrader metadata; mark it as "
                    "a solution, test (grade) or locked cell"
                )
            problems += _marker_problems(source, (), where)
            continue
        gid = meta.get("grade_id")
        where = f"{name}, cell {index} ({gid!r})"
        if not isinstance(gid, str) or not GRADE_ID_PATTERN.match(gid):
            problems.append(
                f"{where}: grade_id must be a non-empty string of letters, "
                f"digits, '_', '-' or '.'; got {gid!r}"
            )
        elif gid in seen:
            problems.append(f"{where}: grade_id {gid!r} is already used by cell {seen[gid]}")
        else:
            seen[gid] = index
        if meta.get("schema_version") != SCHEMA_VERSION:
            problems.append(
                f"{where}: schema_version must be {SCHEMA_VERSION}; got {meta.get('schema_version')!r}"
            )
        for key in ("solution", "grade", "locked"):
            if not isinstance(meta.get(key), bool):
                problems.append(f"{where}: {key!r} must be true or false; got {meta.get(key)!r}")
        if meta.get("task"):
            problems.append(
                f"{where}: nbgrader task cells are graded by hand; cnncourse grades automatically"
            )
        kind = cell_kind(cell)
        points = meta.get("points")
        if kind == SOLUTION and meta.get("grade") is True:
            problems.append(
                f"{where}: a cell that is both solution and grade is graded by "
                "hand in nbgrader; split it into a solution cell and a test cell"
            )
        if kind == SOLUTION and meta.get("locked") is True:
            problems.append(f"{where}: a solution cell cannot be locked")
        if kind == SOLUTION:
            if untested is not None:
                problems.append(
                    f"{untested}: no test cell between this solution cell and "
                    "the next; its tests are the ones zeroed when the answer is "
                    "not the learner's own work"
                )
            untested = where
            if own_work_rules:
                problems += own_work.declaration_problems(cell, where)
        if kind == TEST:
            n_tests += 1
            untested = None
            if ctype != "code":
                problems.append(f"{where}: only code cells can be test cells")
            if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
                problems.append(f"{where}: a test cell needs points > 0; got {points!r}")
            if meta.get("locked") is not True:
                problems.append(f"{where}: a test cell must be locked")
        elif points not in (None, 0):
            problems.append(f"{where}: only test (grade) cells carry points; got {points!r}")
        allowed = {SOLUTION: (BEGIN_SOLUTION, END_SOLUTION), TEST: (BEGIN_HIDDEN, END_HIDDEN)}.get(kind, ())
        marker_problems = _marker_problems(source, allowed, where)
        problems += marker_problems
        if kind == TEST and ctype == "code" and not marker_problems:
            for segment in split_hidden(source):
                error = _parses(segment.code)
                if error:
                    part = "a hidden block" if segment.hidden else "the code around a hidden block"
                    problems.append(f"{where}: {part} is not valid code on its own: {error}")
            segments = split_hidden(source)
            # The grader runs the public code and each hidden block as separate pieces, a
            # hidden one without storing it in IPython's history; IPython hides a piece's
            # value when the last *stored* code ends with ';'. So that the cell's value is
            # shown exactly when nbgrader (which runs it whole) shows it: public code first,
            # and no piece ends with ';'.
            if segments and segments[0].hidden:
                problems.append(
                    f"{where}: starts with a hidden block; put public code (a "
                    "check, or at least a comment) before it, so that the hidden "
                    "tests' value is shown as in nbgrader"
                )
            if any(_ends_with_semicolon(s.code) for s in segments):
                problems.append(
                    f"{where}: a part of the cell ends with ';'; remove it (the "
                    "grader runs the public code and each hidden block "
                    "separately, so a ';' would hide a different value than in "
                    "nbgrader)"
                )
            views = {"": "".join(s.code for s in segments)}
            if any(s.hidden for s in segments):
                views[" without its hidden blocks (the learner's copy)"] = "".join(
                    s.code for s in segments if not s.hidden
                )
            for view, code in views.items():
                problem = final_value_problem(code, points)
                if problem:
                    problems.append(f"{where}{view}: {problem}")
    if untested is not None:
        problems.append(
            f"{untested}: no test cell after this solution cell; its tests are "
            "the ones zeroed when the answer is not the learner's own work"
        )
    if n_tests == 0:
        problems.append(f"{name}: no test (grade) cells, so there is nothing to grade")
    return problems


def check_source(nb, name: str = "notebook", own_work_rules: bool = True) -> None:
    """Raise :class:`NotebookError` listing every problem of ``validate_source``."""
    problems = validate_source(nb, name, own_work_rules)
    if problems:
        raise NotebookError("invalid instructor notebook:\n  " + "\n  ".join(problems))
