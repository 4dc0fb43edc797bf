"""``solutions/`` -> ``exercises/``: the learner's copy of each instructor notebook.

Solution code becomes a stub that raises ``NotImplementedError`` with a one-line
instruction, hidden tests are removed, outputs cleared, and test and locked cells are
marked read-only for JupyterLab (``editable``/``deletable`` false). The nbgrader metadata
stays, so the grader can match the learner's cells to the source by ``grade_id``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .atomic import write_text
from .notebook_format import (
    BEGIN_SOLUTION,
    DEFAULT_INSTRUCTION,
    END_SOLUTION,
    LOCKED,
    METADATA_KEY,
    SOLUTION,
    TEST,
    cell_kind,
    cell_source,
    check_source,
    marker_of,
    nbgrader_meta,
    read_source,
    solution_instruction,
    split_hidden,
)

HIDDEN_NOTE = "# Hidden tests run here when your notebook is graded."
MARKDOWN_STUB = "YOUR ANSWER HERE"
# The nbgrader keys a learner's copy keeps (a source checksum could leak short answers).
_KEPT_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")


def code_stub(instruction: str = DEFAULT_INSTRUCTION, indent: str = "") -> str:
    """The lines that replace a solution: ``raise NotImplementedError("...")``."""
    message = json.dumps(instruction, ensure_ascii=False)  # a valid Python string literal
    return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError({message})\n"


def stub_solution(source: str, markdown: bool = False) -> str:
    """Replace every ``BEGIN/END SOLUTION`` block (or, without markers, the whole cell)."""
    lines = source.splitlines(keepends=True)
    if not any(marker_of(line) == BEGIN_SOLUTION for line in lines):
        return MARKDOWN_STUB if markdown else code_stub().rstrip("\n")
    out: list[str] = []
    inside = False
    for line in lines:
        marker = marker_of(line)
        if marker == BEGIN_SOLUTION:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(
                indent + MARKDOWN_STUB + "\n" if markdown else code_stub(solution_instruction(line), indent)
            )
        elif marker == END_SOLUTION:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out).rstrip("\n")


def strip_hidden(source: str) -> str:
    """A test cell without its hidden blocks (a comment says where they were)."""
    segments = split_hidden(source)
    parts = [HIDDEN_NOTE + "\n" if s.hidden else s.code for s in segments]
    merged = []
    for part in parts:  # one note for consecutive hidden blocks
        if not (merged and part == merged[-1] == HIDDEN_NOTE + "\n"):
            merged.append(part if part.endswith("\n") else part + "\n")
    return "".join(merged).rstrip("\n")


def release_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner's copy of a (validated) instructor notebook; ``nb`` is not changed."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        kind = cell_kind(cell)
        meta = nbgrader_meta(cell)
        if meta:
            cell.metadata[METADATA_KEY] = {k: meta[k] for k in _KEPT_KEYS if k in meta}
        source = cell_source(cell)
        if kind == SOLUTION:
            cell.source = stub_solution(source, markdown=cell.cell_type == "markdown")
            cell.metadata["deletable"] = False
            cell.metadata.pop("editable", None)
        elif kind == TEST:
            cell.source = strip_hidden(source)
        if kind in (TEST, LOCKED):
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return out


@dataclass
class ReleaseReport:
    """What :func:`release_dir` wrote (or, with ``check=True``, would write)."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> list[Path]:
        return self.written + self.removed


def release_dir(solutions="solutions", exercises="exercises", check: bool = False) -> ReleaseReport:
    """Release every ``solutions/*.ipynb`` into ``exercises/``.

    Each source is validated first (:class:`~.notebook_format.NotebookError` lists every
    problem). Exercise notebooks without a source are removed. ``check=True`` writes
    nothing and only reports what differs: the drift test.
    """
    solutions, exercises = Path(solutions), Path(exercises)
    sources = sorted(solutions.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks in {solutions}/")
    released = {}
    for src in sources:
        nb = read_source(src)
        check_source(nb, str(src))
        released[src.name] = nbformat.writes(release_notebook(nb)) + "\n"
    report = ReleaseReport()
    for name, text in released.items():
        target = exercises / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            report.unchanged.append(target)
            continue
        report.written.append(target)
        if not check:
            write_text(target, text)
    for stale in sorted(exercises.glob("*.ipynb")):
        if stale.name not in released:
            report.removed.append(stale)
            if not check:
                stale.unlink()
    return report
