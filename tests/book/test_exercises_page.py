"""The book's exercises page lists every exercise notebook once, with its real points
(one list item per notebook: ``- **Chapter**: link, N points. Topics.``)."""

from __future__ import annotations

import re

import nbformat

from .conftest import BOOK, ROOT

ROW = re.compile(
    r"^- \*\*[^*]+\*\*: [^,]*exercises/(?P<name>\d\d_\w+)\.ipynb[^,]*, (?P<points>[\d.]+) points\. "
)
DEMOS = ("00_", "01_")


def _points(name: str) -> float:
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return sum(
        float(c.metadata["nbgrader"]["points"])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )


def test_every_exercise_notebook_has_one_row_with_its_points():
    rows = [m for line in (BOOK / "exercises.md").read_text().splitlines() if (m := ROW.match(line))]
    listed = [m["name"] for m in rows]
    notebooks = sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb") if not p.name.startswith(DEMOS))
    assert sorted(listed) == notebooks and len(set(listed)) == len(listed), listed
    wrong = {
        m["name"]: (float(m["points"]), _points(m["name"]))
        for m in rows
        if float(m["points"]) != _points(m["name"])
    }
    assert not wrong, f"points on the page vs in the notebook: {wrong}"


# On the instructors' page: "`02_convolution` (11)" in the schedule, "| `02_convolution` | 11 |"
# in the table of grading times.
_INSTRUCTORS_POINTS = re.compile(r"`(?P<name>\d\d_\w+)` (?:\((?P<a>\d+)\)|\| (?P<b>\d+) \|)")


def test_the_instructors_page_gives_every_notebook_its_real_points():
    text = (BOOK / "instructors.md").read_text()
    found = [(m["name"], float(m["a"] or m["b"])) for m in _INSTRUCTORS_POINTS.finditer(text)]
    notebooks = {p.stem for p in (ROOT / "solutions").glob("*.ipynb")}
    assert {name for name, _ in found} == notebooks, "every notebook, in the schedule and the timings"
    wrong = {name: (points, _points(name)) for name, points in found if points != _points(name)}
    assert not wrong, f"points on the page vs in the notebook: {wrong}"
