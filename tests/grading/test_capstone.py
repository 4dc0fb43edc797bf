"""The capstone grades in parts: half of it right earns about half the points, and a later
part that fails because of an earlier one says which."""

from __future__ import annotations

import pytest

from cnncourse.grading.batch import grade_batch
from cnncourse.grading.runner import Limits
from cnncourse.grading.submissions import Submission

from .grading_helpers import EXERCISES, SOLUTIONS, load, save, source_of, with_cell

CAPSTONE = "14_capstone.ipynb"
LIMITS = Limits(cell_timeout=90, notebook_timeout=300, sandbox="off")
# The stubbed parts and the parts that build on them: conv backward (6), Adam (3), the
# network's loss and gradients (all but its logits: 5 * 7/8) and training (6).
LOST = 6 + 3 + 5 * 7 / 8 + 6


@pytest.mark.slow
def test_half_the_layers_right_earns_about_half_the_points(tmp_path):
    stubs = load(EXERCISES / CAPSTONE)
    half = load(SOLUTIONS / CAPSTONE)
    for grade_id in ("conv-backward", "adam"):
        half = with_cell(half, grade_id, source_of(stubs, grade_id))
    path = save(half, tmp_path / "half" / CAPSTONE)

    (result,) = grade_batch(SOLUTIONS / CAPSTONE, [Submission("half", path)], tmp_path / "out", limits=LIMITS)

    assert result.status == "graded"
    assert result.max_score == 49
    assert result.score == pytest.approx(result.max_score - LOST)
    assert 0.4 <= result.score / result.max_score <= 0.65
    by_cell = {t.grade_id: t for t in result.tests}
    assert by_cell["conv-backward-tests"].points == 0 and by_cell["adam-tests"].points == 0
    assert by_cell["pool-backward-tests"].points == 3 and by_cell["keras-tests"].points == 4
    assert by_cell["gradient-check-tests"].points == 3
    assert by_cell["network-tests"].points == pytest.approx(5 / 8)  # the logits are right
    for grade_id in ("network-tests", "train-tests"):
        message = by_cell[grade_id].message
        assert "NotImplementedError" in message and "fix them first" in message, message
        assert "conv2d_backward" in message.split("fix them first")[1], message
    assert "adam_step" in by_cell["train-tests"].message.split("fix them first")[1]
