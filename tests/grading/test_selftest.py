"""Self-tests: every solutions notebook earns full marks, every exercise notebook 0.

The submissions are graded by cnncourse once per test run (``cnncourse_grades``): the
nbgrader parity test grades the same three submissions of every notebook (the solution,
the released stub and a partly correct answer), and this test reads those grades, or
makes them if it asks first.
"""

from __future__ import annotations

import pytest

from cnncourse.grading.notebook_format import TEST, cell_kind, grade_id, read_source

from .grading_helpers import SOLUTIONS
from .test_nbgrader_parity import cnncourse_grades


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in SOLUTIONS.glob("*.ipynb")))
def test_solutions_get_full_marks_and_exercises_get_zero(name, tmp_path_factory):
    tests = [c for c in read_source(SOLUTIONS / f"{name}.ipynb").cells if cell_kind(c) == TEST]
    points = {grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in tests}
    graded = cnncourse_grades(name, tmp_path_factory)
    solution, exercise = graded["solution"], graded["stub"]
    assert solution["status"] == "graded" and solution["notes"] == []
    assert solution["max_score"] == sum(points.values()) > 0
    assert solution["score"] == solution["max_score"]
    assert {gid: (p, status) for gid, (p, _, status) in solution["tests"].items()} == {
        gid: (p, "passed") for gid, p in points.items()
    }
    assert exercise["status"] == "graded" and exercise["score"] == 0
    assert sorted(exercise["tests"]) == sorted(points)
    assert all("NotImplementedError" in message for _, message, _ in exercise["tests"].values())
