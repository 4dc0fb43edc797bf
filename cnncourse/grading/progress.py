"""Where a self-paced learner stands: ``cnncourse check`` and ``cnncourse progress``.

:func:`check_notebook` runs one notebook's public checks on a fresh kernel (the test cells
as the notebook itself has them, or as ``source`` has them when given). :func:`progress`
does it for every exercise notebook of a folder and tells, per notebook, the points on the
public checks, the parts passed and the answers not started yet (solution cells that are
still the released stub). Notebooks with nothing started are not run, and the results of
the others are cached in ``<folder>/.cnncourse/progress.json`` under the SHA-256 of the
notebook's cells, so a second call runs only the notebooks changed since the first.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from .atomic import write_text
from .grade import SubmissionResult, grade_notebook, load_source, source_from_notebook
from .notebook_format import SOLUTION, TEST, NotebookError, cell_kind, cell_source, grade_id, read_submission
from .release import MARKDOWN_STUB
from .runner import Limits
from .status import Status

CACHE = Path(".cnncourse") / "progress.json"
STUB_MARKERS = ("# YOUR CODE HERE", "raise NotImplementedError")
PUBLIC_ONLY = (
    "Public checks only: hidden tests check more cases when a notebook is graded, "
    "so a graded score may be lower."
)


def check_notebook(notebook: Path, source: Path | None = None, timeout: float = 120.0) -> SubmissionResult:
    """Run the public checks of ``notebook`` on a fresh kernel, as ``cnncourse check`` does.

    ``source``: the original exercise notebook, whose test cells replace the learner's
    (default: the notebook's own). Raises :class:`NotebookError` for a file that is not a
    readable exercise notebook.
    """
    nb = load_source(source)[0] if source else source_from_notebook(notebook)
    limits = Limits(cell_timeout=timeout, notebook_timeout=max(600.0, timeout), threads=os.cpu_count() or 1)
    return grade_notebook(source or notebook, notebook, Path(notebook).stem, limits, source=nb)


def is_stub(cell: dict) -> bool:
    """Whether a solution cell is still the stub ``cnncourse release`` wrote."""
    text = cell_source(cell)
    if cell.get("cell_type") == "markdown":
        return text.strip() == MARKDOWN_STUB
    return all(marker in text for marker in STUB_MARKERS)


@dataclass
class Part:
    """One graded test cell and the learner's answers it checks."""

    grade_id: str
    points: float
    answers: list[str]  # grade_ids of the solution cells before it
    started: bool  # some answer is no longer the stub


@dataclass
class NotebookProgress:
    """One notebook's line of the progress report."""

    name: str
    parts: list[Part] = field(default_factory=list)
    result: SubmissionResult | None = None  # None: not run (nothing started, or unreadable)
    problem: str = ""  # why the notebook could not be read or run
    cached: bool = False

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def score(self) -> float:
        return self.result.score if self.result else 0.0

    @property
    def started(self) -> bool:
        return any(p.started for p in self.parts)

    def not_started(self) -> list[str]:
        """The answers (solution grade_ids) still left as stubs, in notebook order."""
        seen: list[str] = []
        for part in self.parts:
            if not part.started:
                seen += [a for a in part.answers if a not in seen]
        return seen

    def passed(self) -> int:
        if not self.result:
            return 0
        return sum(t.status == Status.PASSED for t in self.result.tests)


def parts_of(data: dict) -> list[Part]:
    """The graded parts of a notebook (as a JSON dict), each with its answers' state."""
    parts: list[Part] = []
    answers: list[tuple[str, bool]] = []
    for cell in data.get("cells", []):
        kind = cell_kind(cell)
        if kind == SOLUTION:
            answers.append((grade_id(cell) or "?", not is_stub(cell)))
        elif kind == TEST:
            points = float(cell.get("metadata", {}).get("nbgrader", {}).get("points", 0) or 0)
            parts.append(
                Part(grade_id(cell) or "?", points, [a for a, _ in answers], any(s for _, s in answers))
            )
            answers = []
    return parts


def _fingerprint(data: dict) -> str:
    cells = [
        (c.get("cell_type"), cell_source(c), c.get("metadata", {}).get("nbgrader")) for c in data["cells"]
    ]
    text = json.dumps([__version__, cells], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _load_cache(folder: Path) -> dict:
    try:
        cache = json.loads((folder / CACHE).read_text())
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _check(path: str, timeout: float) -> dict:
    """In a worker process: the public checks of one notebook, as a dict."""
    try:
        return check_notebook(Path(path), timeout=timeout).to_dict()
    except NotebookError as exc:
        return {"problem": str(exc)}


def progress(
    folder: Path, jobs: int = 2, rerun: bool = False, timeout: float = 120.0
) -> list[NotebookProgress]:
    """Every exercise notebook of ``folder`` (sorted by name), with its public-check result.

    Runs the notebooks that have a started answer and no cached result for their current
    cells (every such notebook when ``rerun``), ``jobs`` at a time, and updates the cache.
    """
    folder = Path(folder)
    found: list[NotebookProgress] = []
    fingerprints: dict[str, str] = {}
    for path in sorted(folder.glob("*.ipynb")):
        entry = NotebookProgress(path.stem)
        found.append(entry)
        try:
            data = read_submission(path)
        except NotebookError as exc:
            entry.problem = str(exc)
            continue
        entry.parts = parts_of(data)
        if not entry.parts:
            entry.problem = "no graded test cells (not an exercise notebook)"
        fingerprints[path.name] = _fingerprint(data)
    cache = {} if rerun else _load_cache(folder)
    todo = []
    for entry in found:
        if entry.problem or not entry.started:
            continue
        name = f"{entry.name}.ipynb"
        cached = cache.get(name)
        if isinstance(cached, dict) and cached.get("fingerprint") == fingerprints[name]:
            try:
                entry.result, entry.cached = SubmissionResult.from_dict(cached["result"]), True
                continue
            except (KeyError, TypeError, ValueError):
                pass
        todo.append(entry)
    if todo:
        with ProcessPoolExecutor(max(1, min(jobs, len(todo)))) as pool:
            runs = {e.name: pool.submit(_check, str(folder / f"{e.name}.ipynb"), timeout) for e in todo}
            for entry in todo:
                outcome = runs[entry.name].result()
                if "problem" in outcome:
                    entry.problem = outcome["problem"]
                else:
                    entry.result = SubmissionResult.from_dict(outcome)
    fresh = {
        f"{e.name}.ipynb": {"fingerprint": fingerprints[f"{e.name}.ipynb"], "result": e.result.to_dict()}
        for e in found
        if e.result is not None and e.result.status == Status.GRADED
    }
    if fresh != {k: v for k, v in cache.items() if k in fresh}:
        try:
            write_text(folder / CACHE, json.dumps(fresh, indent=1))
        except OSError:
            pass  # a read-only folder: report without caching
    return found


def _num(x: float) -> str:
    return f"{x:g}"


def _still_to_do(entry: NotebookProgress) -> str:
    """ "everything", or the started parts that do not pass yet and the answers not started."""
    if not entry.started:
        return "everything"
    ran = {t.grade_id: t for t in entry.result.tests} if entry.result else {}
    to_fix = [
        p.grade_id
        for p in entry.parts
        if p.started and p.grade_id in ran and ran[p.grade_id].status != Status.PASSED
    ]
    todo = entry.not_started()
    words = ([f"fix {', '.join(to_fix)}"] if to_fix else []) + ([f"start {', '.join(todo)}"] if todo else [])
    return "; ".join(words) or "-"


def progress_text(folder: Path, entries: list[NotebookProgress], seconds: float, ran: int) -> str:
    """The report ``cnncourse progress`` prints: a line per notebook, then the totals."""
    rows = [("notebook", "points", "parts passed", "still to do")]
    for e in entries:
        if e.problem:
            rows.append((e.name, "-", "-", "cannot check: " + " ".join(e.problem.split())))
            continue
        points = f"{_num(e.score)} / {_num(e.max_score)}"
        if e.result is not None and e.result.status != Status.GRADED:
            rows.append((e.name, points, "-", f"{e.result.status}: {'; '.join(e.result.notes)}"))
            continue
        passed = f"{e.passed()} of {len(e.parts)}"
        rows.append((e.name, points, passed, _still_to_do(e)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"Progress in {folder}/: {PUBLIC_ONLY}", ""]
    lines += [
        "  ".join([*(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)), r[3]]).rstrip() for r in rows
    ]
    exercises = [e for e in entries if not e.problem]
    score = sum(e.score for e in exercises)
    out_of = sum(e.max_score for e in exercises)
    passed = sum(e.passed() for e in exercises)
    parts = sum(len(e.parts) for e in exercises)
    started = sum(e.started for e in exercises)
    lines += [
        "",
        f"Total: {_num(score)} of {_num(out_of)} points on the public checks; {passed} of {parts} parts "
        f"passed; {started} of {len(exercises)} notebooks started.",
        f"Ran {ran} notebook{'s' if ran != 1 else ''} in {seconds:.1f} s; the others were not started or "
        "unchanged since the last run (use --rerun to run them all).",
    ]
    return "\n".join(lines)


def run_progress(folder: Path, jobs: int = 2, rerun: bool = False, timeout: float = 120.0) -> tuple[str, int]:
    """``(report, exit status)`` for ``cnncourse progress``: 0 when every check passed,
    1 otherwise."""
    started = time.monotonic()
    entries = progress(folder, jobs=jobs, rerun=rerun, timeout=timeout)
    ran = sum(1 for e in entries if e.result is not None and not e.cached)
    text = progress_text(folder, entries, time.monotonic() - started, ran)
    done = entries and all(not e.problem and e.score == e.max_score for e in entries)
    return text, 0 if done else 1
