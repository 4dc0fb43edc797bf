"""Self-tests: every solutions notebook earns full marks, every exercise notebook 0."""

from __future__ import annotations

import pytest

from cnncourse.grading.batch import grade_batch
from cnncourse.grading.runner import Limits
from cnncourse.grading.submissions import Submission

from .grading_helpers import EXERCISES, SOLUTIONS

LIMITS = Limits(cell_timeout=60, notebook_timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("source", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_solutions_get_full_marks_and_exercises_get_zero(source, tmp_path):
    subs = [Submission("solution", source), Submission("exercise", EXERCISES / source.name)]
    solution, exercise = grade_batch(source, subs, tmp_path, jobs=2, limits=LIMITS)
    assert solution.status == "graded" and solution.notes == []
    assert solution.max_score > 0 and solution.score == solution.max_score
    assert all(t.status == "passed" for t in solution.tests)
    assert exercise.status == "graded" and exercise.score == 0
    assert len(exercise.tests) == len(solution.tests)
    assert all("NotImplementedError" in t.message for t in exercise.tests)
