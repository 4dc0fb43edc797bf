"""What gets executed: the source's cells, with the learner's answers put in.

The grader never runs a submission as it is. It walks the *source* notebook and takes
from the submission only the code of solution cells (matched by ``grade_id``, or by the
nbformat cell ``id`` when the metadata was lost) and the code cells the learner added
(kept after the cell they followed). Setup and test cells, hidden tests included, always
come from the source, so edited, moved or deleted test cells change nothing.

The plan also carries the own-work rules (:mod:`.own_work`): each solution step the
references its answer may not use and the names its tests take from the learner, each
test step the solution cell it tests, and the static findings for the submission.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .notebook_format import (
    LOCKED,
    SOLUTION,
    TEST,
    Segment,
    cell_kind,
    cell_source,
    grade_id,
    split_hidden,
)
from .own_work import Finding, check_plan, exercise_names, forbidden_of
from .release import strip_hidden, stub_solution

SETUP, EXTRA = "setup", "extra"


@dataclass
class Step:
    """One cell to run: ``kind`` is ``setup``, ``solution``, ``test`` or ``extra``."""

    kind: str
    grade_id: str | None
    segments: list[Segment]
    points: float = 0.0
    origin: str = "source"  # "source", "submission" or "stub" (the learner's cell was missing)
    forbidden: tuple[str, ...] = ()  # solution steps: references the answer may not use
    names: tuple[str, ...] = ()  # solution steps: what the tests take from the learner
    covers: str | None = None  # test steps: the solution cell they test

    @property
    def label(self) -> str:
        if self.kind == EXTRA:
            return "a cell you added" + (f" after {self.grade_id!r}" if self.grade_id else "")
        return f"{'your cell' if self.kind == SOLUTION else self.kind + ' cell'} {self.grade_id!r}"

    @property
    def has_hidden(self) -> bool:
        return any(s.hidden for s in self.segments)


@dataclass
class Plan:
    steps: list[Step]
    notes: list[str] = field(default_factory=list)
    imports: str = ""  # import statements of setup and test cells, re-run before each test
    findings: list[Finding] = field(default_factory=list)  # own work, found statically

    @property
    def tests(self) -> list[Step]:
        return [s for s in self.steps if s.kind == TEST]


def source_imports(source_nb) -> str:
    """Top-level imports of the source's setup and test cells (hidden blocks included)."""
    from IPython.core.inputtransformer2 import TransformerManager

    lines: list[str] = []
    for cell in source_nb.cells:
        if cell.cell_type != "code" or cell_kind(cell) not in (TEST, LOCKED):
            continue
        for segment in split_hidden(cell_source(cell)):
            try:
                tree = ast.parse(TransformerManager().transform_cell(segment.code))
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    text = ast.unparse(node)
                    if text not in lines:
                        lines.append(text)
    return "\n".join(lines)


def _code_cells(submission: dict | None) -> list[dict]:
    if not submission:
        return []
    return [c for c in submission.get("cells", []) if c.get("cell_type") == "code"]


def build_plan(source_nb, submission: dict | None) -> Plan:
    """Merge a validated source notebook with a learner's notebook (``None``: no answers)."""
    plan = Plan(steps=[], imports=source_imports(source_nb))
    kinds = {grade_id(c): cell_kind(c) for c in source_nb.cells if grade_id(c)}
    ids = {c.get("id"): grade_id(c) for c in source_nb.cells if c.get("id") and grade_id(c)}

    # Match each submission cell to a source grade_id; the rest are the learner's own.
    cells = _code_cells(submission)
    gids = []
    for cell in cells:
        gid = grade_id(cell)
        if gid not in kinds:
            cid = cell.get("id")
            gid = ids.get(cid) if isinstance(cid, str) else None
        gids.append(gid)
    matched: dict[str, list[dict]] = {}
    for cell, gid in zip(cells, gids, strict=True):
        if gid is not None:
            matched.setdefault(gid, []).append(cell)
    last_copy = {gid: copies[-1] for gid, copies in matched.items()}

    # The learner's own cells run after the matched cell they followed. Earlier copies of
    # a duplicated solution cell count as the learner's own cells.
    extras_after: dict[str | None, list[dict]] = {}
    anchor = None
    for cell, gid in zip(cells, gids, strict=True):
        if gid is None or (kinds[gid] == SOLUTION and cell is not last_copy[gid]):
            extras_after.setdefault(anchor, []).append(cell)
        else:
            anchor = gid
    for gid, cells in matched.items():
        if kinds[gid] == SOLUTION and len(cells) > 1:
            plan.notes.append(
                f"your cell {gid!r} appears {len(cells)} times; the last copy "
                "was graded as the answer and the others ran as your own cells"
            )

    def add_extras(anchor_id):
        for cell in extras_after.get(anchor_id, []):
            code = cell_source(cell)
            if code.strip():
                plan.steps.append(Step(EXTRA, anchor_id, [Segment(code)], origin="submission"))

    add_extras(None)
    covers = None
    for cell in source_nb.cells:
        gid, kind = grade_id(cell), cell_kind(cell)
        if cell.cell_type != "code" or gid is None:
            continue
        source = cell_source(cell)
        theirs = last_copy.get(gid)
        if kind == SOLUTION:
            if theirs is None:
                plan.notes.append(
                    f"your cell {gid!r} is missing (deleted, or its metadata was "
                    "removed); it was graded as unanswered"
                )
                step = Step(SOLUTION, gid, [Segment(stub_solution(source))], origin="stub")
            else:
                step = Step(SOLUTION, gid, [Segment(cell_source(theirs))], origin="submission")
            step.forbidden, covers = forbidden_of(cell), gid
        elif kind == TEST:
            step = Step(
                TEST,
                gid,
                split_hidden(source),
                points=float(cell.metadata["nbgrader"]["points"]),
                covers=covers,
            )
            _note_changes(plan, submission, theirs, gid, (strip_hidden(source), source), "test")
        else:
            step = Step(SETUP, gid, [Segment(source)])
            _note_changes(plan, submission, theirs, gid, (source,), "locked")
        plan.steps.append(step)
        add_extras(gid)
    names = exercise_names(plan)
    for step in plan.steps:
        if step.kind == SOLUTION:
            step.names = names.get(step.grade_id, ())
    if submission is not None:
        try:
            plan.findings = check_plan(plan)
        except Exception as exc:  # a bug in the check must not stop the grading
            plan.notes.append(
                f"the grader could not check that the answers are your own "
                f"work ({type(exc).__name__}: {exc}); ask your teacher"
            )
    return plan


def _note_changes(plan, submission, theirs, gid, originals, what):
    if submission is None:
        return
    if theirs is None:
        plan.notes.append(f"the {what} cell {gid!r} was deleted; the original was used")
    elif cell_source(theirs).strip() not in {text.strip() for text in originals}:
        plan.notes.append(f"the {what} cell {gid!r} was edited; the original was used")
