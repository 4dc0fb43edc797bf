"""The checks of chapter 12 (cnncourse.grading.checks.detection): right answers pass,
the classic mistakes fail with a message that names the case and the first wrong value."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse.grading import checks
from cnncourse.grading.checks import detection as D


def _unclipped_iou(a, b):
    """A classic mistake: the overlap's height and width multiplied before clipping."""
    h = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    w = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(h * w, 0, None)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_the_references_give_the_chapters_numbers():
    assert D.reference_box_iou(np.array([[0, 0, 4, 4]]), np.array([[2, 2, 6, 6]]))[0] == pytest.approx(1 / 7)
    candidates = np.array([[10, 10, 30, 30], [12, 12, 32, 32], [40, 40, 60, 64], [20, 20, 40, 40]])
    scores = np.array([0.9, 0.75, 0.8, 0.6])
    assert D.reference_nms(candidates, scores, 0.5) == [0, 2, 3]
    assert D.reference_nms(candidates, scores, 0.1) == [0, 2]
    assert D.reference_pairwise_iou(candidates, candidates)[0, 1] == pytest.approx(324 / 476)
    stack = [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)]
    assert D.reference_receptive_fields(stack) == [(5, 1), (6, 2), (14, 2), (16, 4)]
    assert D.reference_receptive_fields([(3, 1, 2**i) for i in range(6)])[-1] == (127, 1)
    assert D.reference_input_window(stack[:3], 10) == (20, 34)
    iou = D.reference_class_iou(np.array([[0, 1], [1, 1]]), np.array([[0, 1], [0, 1]]), 3)
    np.testing.assert_allclose(iou, [0.5, 2 / 3, np.nan])


def test_right_answers_pass(capsys):
    checks.check_box_iou(D.reference_box_iou)
    checks.check_pairwise_iou(D.reference_pairwise_iou)
    checks.check_nms(D.reference_nms)
    checks.check_receptive_fields(D.reference_receptive_fields)
    checks.check_input_window(D.reference_input_window)
    checks.check_class_iou(D.reference_class_iou)
    assert capsys.readouterr().out.count("\u2713") == 6


def test_iou_clipped_after_multiplying_gets_a_hint():
    with pytest.raises(AssertionError) as err:
        checks.check_box_iou(_unclipped_iou)
    message = str(err.value)
    assert "_unclipped_iou(a (1, 4) float64, b (1, 4) float64) [apart in both directions]" in message
    assert "expected 0, got 0.142857" in message
    assert "clip the height and the width at 0 separately" in message


def test_nms_mistakes_are_named():
    def sorted_by_index(boxes, scores, threshold=0.5):
        return sorted(D.reference_nms(boxes, scores, threshold))

    def chapter_order(boxes, scores, threshold=0.5):  # argsort(...)[::-1] puts later ties first
        order, keep = list(np.argsort(scores)[::-1]), []
        while order:
            best = order.pop(0)
            keep.append(int(best))
            order = [i for i in order if D.reference_box_iou(boxes[[best]], boxes[[i]])[0] <= threshold]
        return keep

    with pytest.raises(AssertionError, match="decreasing score, not sorted by index"):
        checks.check_nms(sorted_by_index)
    with pytest.raises(AssertionError, match=r"\[equal scores\].*\n.*lower index first"):
        checks.check_nms(chapter_order)
    with pytest.raises(AssertionError, match="expected a list of int indices"):
        checks.check_nms(
            lambda boxes, scores, threshold=0.5: np.array(D.reference_nms(boxes, scores, threshold), float)
        )


def test_receptive_fields_without_the_jump_fail_on_the_first_strided_stack():
    def no_jump(layers):
        field, rows = 1, []
        for kernel, stride, dilation in layers:
            field += (kernel - 1) * dilation
            rows.append((field, stride))
        return rows

    with pytest.raises(AssertionError) as err:
        checks.check_receptive_fields(no_jump)
    assert "the chapter's conv1d_classifier" in str(err.value)
    assert "first wrong index (2, 0): expected 14, got 10" in str(err.value)


def test_class_iou_must_leave_absent_classes_out():
    with pytest.raises(
        AssertionError, match=r"class_iou_zero\(.*\[2 x 2 masks, class 2 absent\].*expected nan, got 0"
    ):

        def class_iou_zero(pred, true, num_classes):
            return np.nan_to_num(D.reference_class_iou(pred, true, num_classes))

        checks.check_class_iou(class_iou_zero)


def test_hidden_scoring_tells_right_from_wrong_cases():
    cases = [
        (np.array([[0, 0, 2, 2]]), np.array([[3, 3, 5, 5]])),
        (np.array([[0, 0, 4, 4]]), np.array([[2, 2, 6, 6]])),
    ]
    assert checks.fraction_correct(_unclipped_iou, D.reference_box_iou, cases, check_dtype=False) == 0.5
    assert (
        checks.fraction_correct(
            lambda b, s, t: [0],
            D.reference_nms,
            [(np.zeros((0, 4)), np.zeros(0), 0.5)],
            output=D.kept_indices,
        )
        == 0.0
    )
