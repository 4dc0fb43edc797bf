"""Build submissions for the grader's tests from the committed demo notebooks."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
CONV = "00_demo_convolution.ipynb"
CONV_SOURCE = SOLUTIONS / CONV
CONV_MAX = 6.0


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save(nb: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def source_of(nb: dict, grade_id: str) -> str:
    cell = nb["cells"][index_of(nb, grade_id)]
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def index_of(nb: dict, grade_id: str) -> int:
    for i, cell in enumerate(nb["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return i
    raise KeyError(grade_id)


def answered(**answers: str) -> dict:
    """The learner's exercise notebook with every solution filled in from the source,
    except the cells given as ``grade_id=code`` (use ``_`` for ``-`` in ids)."""
    nb = load(EXERCISES / CONV)
    solved = load(CONV_SOURCE)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            gid = meta["grade_id"]
            cell["source"] = answers.get(gid.replace("-", "_"), source_of(solved, gid))
    return nb


def with_cell(nb: dict, grade_id: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"][index_of(nb, grade_id)]["source"] = code
    return nb


def learner_cell(code: str) -> dict:
    """A code cell a learner added: no nbgrader metadata."""
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}


def with_learner_cells(nb: dict, extras) -> dict:
    """``nb`` with a learner cell inserted after each named cell: ``extras`` is a list of
    ``(grade_id, code)``. Changes and returns ``nb``."""
    out = []
    for cell in nb["cells"]:
        out.append(cell)
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        out += [learner_cell(code) for after, code in extras if after == gid]
    nb["cells"] = out
    return nb


def add_cell_after(nb: dict, grade_id: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"].insert(index_of(nb, grade_id) + 1, learner_cell(code))
    return nb


def hidden_lines(path: Path = CONV_SOURCE) -> list[str]:
    """Distinctive lines of every hidden test block of a source notebook (not its imports:
    a hidden block imports the reference it compares with, as public test cells may)."""
    from cnncourse.grading.notebook_format import cell_source, hidden_code

    lines = []
    for cell in load(path)["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for block in hidden_code(cell_source(cell)):
                lines += [
                    ln.strip()
                    for ln in block.splitlines()
                    if len(ln.strip()) > 20 and not ln.startswith(("import ", "from "))
                ]
    return lines


def nbgrader_cell(kind: str, gid: str, source: str, points: float = 0) -> nbformat.NotebookNode:
    """A code cell of ``kind`` ("setup", "solution" or "test") in nbgrader's format; a
    solution cell declares an empty forbidden list."""
    meta = {
        "grade_id": gid,
        "schema_version": 3,
        "solution": kind == "solution",
        "grade": kind == "test",
        "locked": kind != "solution",
    }
    if kind == "test":
        meta["points"] = points
    extra = {"cnncourse": {"forbidden": []}} if kind == "solution" else {}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta, **extra})
