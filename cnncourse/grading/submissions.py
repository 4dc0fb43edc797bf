"""Find the submissions to grade and name their students.

Accepted layouts (mixable, several arguments allowed):

- a notebook file: ``alice.ipynb`` is Alice's; ``alice/00_demo.ipynb`` (named like the
  source) is also Alice's, named after its folder;
- a folder of notebooks: ``submissions/*.ipynb``, one student per file;
- a folder of student folders: ``submissions/<student>/...``, nbgrader's layout. In each,
  the notebook named like the source wins; otherwise the only notebook, or the one
  holding most of the source's cells (a renamed copy); otherwise a file of any name that
  is a notebook. A student folder without one is reported as missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .notebook_format import MAX_SUBMISSION_BYTES, grade_id

_SKIP = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass
class Submission:
    student: str
    path: Path | None  # None: the student's folder holds no notebook
    notes: list[str] = field(default_factory=list)


def safe_name(student: str) -> str:
    """A file name for a student id: letters, digits, ``.``, ``_`` and ``-`` only."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._") or "student"
    return name[:100]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _SKIP


def _notebooks(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if path.is_file() and all(_visible(Path(p)) for p in rel.parts):
            found.append(path)
    return found


def _matching_cells(path: Path, grade_ids: set[str]) -> int:
    try:
        if path.stat().st_size > MAX_SUBMISSION_BYTES:
            return -1
        cells = json.loads(path.read_text(encoding="utf-8-sig")).get("cells", [])
        return sum(1 for c in cells if isinstance(c, dict) and grade_id(c) in grade_ids)
    except Exception:
        return -1


def _in_student_folder(folder: Path, source_name: str, grade_ids: set[str]) -> Submission:
    student = folder.name
    notebooks = _notebooks(folder)
    exact = [p for p in notebooks if p.name == source_name]
    if exact:
        best = min(exact, key=lambda p: (len(p.relative_to(folder).parts), -p.stat().st_mtime))
        notes = (
            []
            if len(exact) == 1
            else [f"{len(exact)} files are named {source_name}; graded {best.relative_to(folder)}"]
        )
        return Submission(student, best, notes)
    if len(notebooks) == 1:
        return Submission(
            student,
            notebooks[0],
            [f"graded {notebooks[0].relative_to(folder)} (the expected name is {source_name})"],
        )
    if notebooks:
        best = max(notebooks, key=lambda p: (_matching_cells(p, grade_ids), p.stat().st_mtime))
        others = ", ".join(str(p.relative_to(folder)) for p in notebooks if p != best)
        return Submission(
            student,
            best,
            [
                f"graded {best.relative_to(folder)}, the notebook with most of the exercise's "
                f"cells (the expected name is {source_name}); not graded: {others}"
            ],
        )
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and _visible(p)):
        if _matching_cells(path, grade_ids) > 0:
            return Submission(
                student,
                path,
                [
                    f"graded {path.relative_to(folder)}, a notebook saved under another name "
                    f"(the expected name is {source_name})"
                ],
            )
    return Submission(student, None, [f"no notebook found in {folder.name}/"])


def _student_for_file(path: Path, source_name: str) -> str:
    if path.name == source_name and path.parent.name:
        return path.parent.name
    return path.stem


def find_submissions(
    paths: Sequence[Path | str], source_name: str, grade_ids: Iterable[str] = ()
) -> list[Submission]:
    """Every submission under ``paths``, in a stable order, with unique student ids."""
    grade_ids = set(grade_ids)
    found: list[Submission] = []
    for arg in map(Path, paths):
        if arg.is_file():
            found.append(Submission(_student_for_file(arg, source_name), arg))
        elif arg.is_dir():
            entries = sorted(p for p in arg.iterdir() if _visible(p))
            direct = [p for p in entries if p.is_file() and p.suffix == ".ipynb"]
            folders = [p for p in entries if p.is_dir()]
            if direct and [p.name for p in direct] == [source_name] and not folders:
                found.append(Submission(_student_for_file(direct[0], source_name), direct[0]))
                continue
            found += [Submission(p.stem, p) for p in direct]
            found += [_in_student_folder(p, source_name, grade_ids) for p in folders]
        else:
            found.append(Submission(arg.stem or str(arg), None, [f"{arg} does not exist"]))
    seen: dict[str, int] = {}
    for sub in found:
        key = safe_name(sub.student)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            sub.notes.append(
                f"another submission is also named {sub.student!r}; this one "
                f"is reported as {sub.student}-{seen[key]}"
            )
            sub.student = f"{sub.student}-{seen[key]}"
    return found
