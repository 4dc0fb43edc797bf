"""Checks of chapter 12: intersection over union of boxes, non-maximum suppression,
receptive fields of a stack of layers, and the IoU of segmentation masks.

Boxes are rows ``(y_min, x_min, y_max, x_max)`` with the maximum exclusive, as in the
chapter. The public checks compare with hand-worked numbers (the chapter's worked
examples among them); the ``reference_*`` functions compute the same quantities for the
hidden tests of the graded notebook.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np

from ..checking import Case, check_function, learner_facing, name_of, passed

__all__ = [
    "check_box_iou",
    "check_class_iou",
    "check_input_window",
    "check_nms",
    "check_pairwise_iou",
    "check_receptive_fields",
]


# --------------------------------------------------------------------------- references


def reference_box_iou(a, b) -> np.ndarray:
    """IoU of boxes row by row: a, b ``(N, 4)`` -> ``(N,)`` float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    height = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    width = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = height * width
    return inter / (_areas(a) + _areas(b) - inter)


def reference_pairwise_iou(a, b) -> np.ndarray:
    """IoU of every pair: a ``(N, 4)``, b ``(M, 4)`` -> ``(N, M)`` float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n, m = len(a), len(b)
    return reference_box_iou(np.repeat(a, m, axis=0), np.tile(b, (n, 1))).reshape(n, m)


def reference_nms(boxes, scores, threshold=0.5) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first (equal scores:
    the lower index first); a box is dropped when its IoU with a kept box exceeds
    ``threshold``. boxes ``(N, 4)``, scores ``(N,)``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    order = [int(i) for i in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")]
    keep: list[int] = []
    while order:
        best = order.pop(0)
        keep.append(best)
        if order:
            overlap = reference_box_iou(np.repeat(boxes[[best]], len(order), axis=0), boxes[order])
            order = [i for i, o in zip(order, overlap, strict=True) if o <= threshold]
    return keep


def reference_receptive_fields(layers) -> list[tuple[int, int]]:
    """``[(kernel, stride, dilation), ...]`` -> ``[(receptive field, jump), ...]`` after
    each layer, in input samples (the chapter's recursion from ``r_0 = j_0 = 1``)."""
    field, jump, rows = 1, 1, []
    for kernel, stride, dilation in layers:
        field += (kernel - 1) * dilation * jump
        jump *= stride
        rows.append((field, jump))
    return rows


def reference_input_window(layers, index) -> tuple[int, int]:
    """``(start, stop)``: the input samples that output ``index`` of the last layer sees
    (valid layers, no padding; stop exclusive)."""
    field, jump = reference_receptive_fields(layers)[-1] if len(layers) else (1, 1)
    return index * jump, index * jump + field


def reference_class_iou(pred, true, num_classes) -> np.ndarray:
    """IoU of each class over all the pixels: ``(num_classes,)`` float64, NaN for a class
    in neither ``pred`` nor ``true``."""
    pred, true = np.asarray(pred), np.asarray(true)
    ious = np.full(num_classes, np.nan)
    for k in range(num_classes):
        union = np.sum((pred == k) | (true == k))
        if union:
            ious[k] = np.sum((pred == k) & (true == k)) / union
    return ious


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


# --------------------------------------------------------------------------- output forms


@learner_facing
def kept_indices(result, name: str = "nms") -> np.ndarray:
    """A list (or 1-D array) of box indices as an int64 array; raises when it is not one."""
    if result is None:
        raise AssertionError(f"{name}: got None; did the function forget to `return`?")
    arr = np.asarray(result)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise AssertionError(
            f"{name}: expected a list of int indices, got {type(result).__name__} "
            f"with shape {arr.shape} and dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


@learner_facing
def field_rows(result, name: str = "receptive_fields") -> np.ndarray:
    """A list of ``(receptive field, jump)`` pairs as an ``(L, 2)`` int64 array."""
    if result is None:
        raise AssertionError(f"{name}: got None; did the function forget to `return`?")
    arr = np.asarray(result)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise AssertionError(
            f"{name}: expected a list of (receptive field, jump) pairs of ints, one per layer; "
            f"got shape {arr.shape} and dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


@learner_facing
def window_pair(result, name: str = "input_window") -> np.ndarray:
    """``(start, stop)`` as a ``(2,)`` int64 array."""
    arr = np.asarray(result) if result is not None else np.zeros(0)
    if arr.shape != (2,) or arr.dtype.kind not in "iu":
        raise AssertionError(f"{name}: expected (start, stop), two ints; got {result!r}")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------- the checks


def hand_worked(expected, names: Sequence[str] = ()) -> Callable:
    """A reference for :func:`check_function` that returns ``expected`` whatever it is
    given: checks a function on a hand-worked case. ``names`` name the positional
    arguments in messages (``box_iou(a (1, 4) float64, b (1, 4) float64)``)."""

    def reference(*args, **kwargs):
        return expected

    reference.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    return reference


def _check_expected(fn: Callable, cases: Sequence[tuple[Case, object]], names, **kwargs) -> None:
    """``check_function`` on each case against its hand-worked expected result."""
    for case, expected in cases:
        check_function(fn, hand_worked(expected, names), [case], quiet=True, **kwargs)


def _boxes(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def _iou_diagnose(got, case: Case) -> str:
    a, b = (np.asarray(x, dtype=np.float64) for x in case.args)
    height = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    width = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(height * width, 0, None)
    if np.allclose(np.asarray(got, dtype=np.float64), inter / (_areas(a) + _areas(b) - inter)):
        return (
            "two boxes apart in both directions have a negative height *and* width of overlap, "
            "and their product is positive: clip the height and the width at 0 separately"
        )
    return ""


@learner_facing
def check_box_iou(fn: Callable) -> None:
    """``fn(a, b)`` -> the IoU of each pair of rows, a and b ``(N, 4)`` -> ``(N,)``."""
    name = name_of(fn)
    a = _boxes([0, 0, 4, 4], [0, 0, 2, 2], [0, 0, 2, 2], [0, 0, 2, 2], [1, 1, 5, 5], [0, 0, 4, 4])
    b = _boxes([2, 2, 6, 6], [1, 0, 3, 2], [0, 2, 2, 4], [3, 3, 5, 5], [1, 1, 5, 5], [1, 1, 3, 3])
    hand_worked = [
        (a[:1], b[:1], [1 / 7], "the chapter's example: 4 / (16 + 16 - 4)"),
        (a[1:2], b[1:2], [1 / 3], "a 1 x 2 strip in common: 2 / 6"),
        (a[2:3], b[2:3], [0.0], "touching along an edge"),
        (a[3:4], b[3:4], [0.0], "apart in both directions"),
        (a[4:5], b[4:5], [1.0], "identical boxes"),
        (a[5:6], b[5:6], [0.25], "one inside the other: 4 / 16"),
        (a, b, [1 / 7, 1 / 3, 0.0, 0.0, 1.0, 0.25], "all six pairs at once"),
    ]
    cases = [(Case((x, y), note=note), np.array(e)) for x, y, e, note in hand_worked]
    _check_expected(fn, cases, ("a", "b"), name=name, check_dtype=False, diagnose=_iou_diagnose)
    passed(name, len(cases), "hand-worked IoUs")


# The four candidate boxes of the chapter's NMS example and their IoUs.
_CANDIDATES = _boxes([10, 10, 30, 30], [12, 12, 32, 32], [40, 40, 60, 64], [20, 20, 40, 40])
_CANDIDATE_IOU = np.array(
    [
        [1.0, 324 / 476, 0.0, 100 / 700],
        [324 / 476, 1.0, 0.0, 144 / 656],
        [0.0, 0.0, 1.0, 0.0],
        [100 / 700, 144 / 656, 0.0, 1.0],
    ]
)


@learner_facing
def check_pairwise_iou(fn: Callable) -> None:
    """``fn(a, b)`` -> the IoU of every pair, a ``(N, 4)`` and b ``(M, 4)`` -> ``(N, M)``."""
    name = name_of(fn)
    cases = [
        (Case((_CANDIDATES, _CANDIDATES), note="the chapter's four candidates"), _CANDIDATE_IOU),
        (Case((_CANDIDATES[:2], _CANDIDATES[1:]), note="2 boxes against 3"), _CANDIDATE_IOU[:2, 1:]),
        (Case((_CANDIDATES[2:3], _CANDIDATES), note="1 box against 4"), _CANDIDATE_IOU[2:3]),
    ]
    _check_expected(fn, cases, ("a", "b"), name=name, check_dtype=False)
    passed(name, len(cases), "hand-worked IoU matrices")


def _nms_diagnose(got, case: Case) -> str:
    expected = reference_nms(*case.args, **case.kwargs)
    if sorted(expected) != expected and list(got) == sorted(expected):
        return "return the kept indices in order of decreasing score, not sorted by index"
    scores = np.asarray(case.args[1])
    if len(set(scores.tolist())) < len(scores):
        return "when two boxes have the same score, take the one with the lower index first"
    return ""


@learner_facing
def check_nms(fn: Callable) -> None:
    """``fn(boxes, scores, threshold)`` -> the indices kept by NMS, best score first."""
    name = name_of(fn)
    scores = np.array([0.9, 0.75, 0.8, 0.6])
    half = _boxes([0, 0, 2, 3], [0, 1, 2, 4])  # IoU exactly 4 / 8 = 0.5
    cases = [
        (Case((_CANDIDATES, scores, 0.5), note="the chapter's example"), [0, 2, 3]),
        (Case((_CANDIDATES, scores, 0.1), note="the chapter's example, stricter"), [0, 2]),
        (Case((half, np.array([0.3, 0.7]), 0.5), note="IoU equal to the threshold"), [1, 0]),
        (Case((half, np.array([0.3, 0.7]), 0.4), note="IoU above the threshold"), [1]),
        (Case((_CANDIDATES[[0, 0, 2]], np.array([0.5, 0.5, 0.5]), 0.5), note="equal scores"), [0, 2]),
        (Case((np.zeros((0, 4)), np.zeros(0), 0.5), note="no boxes"), []),
    ]
    cases = [(case, np.array(expected, dtype=np.int64)) for case, expected in cases]
    _check_expected(
        fn,
        cases,
        ("boxes", "scores", "threshold"),
        name=name,
        output=lambda r: kept_indices(r, name),
        diagnose=_nms_diagnose,
    )
    passed(name, len(cases), "the chapter's worked example and edge cases")


# Stacks of (kernel, stride, dilation), with their receptive fields and jumps.
_STACKS = {
    "six convolutions with kernel 3": ([(3, 1, 1)] * 6, [(3 + 2 * i, 1) for i in range(6)]),
    "the chapter's conv1d_classifier: conv 5, pool 2, conv 5, pool 2": (
        [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)],
        [(5, 1), (6, 2), (14, 2), (16, 4)],
    ),
    "kernel 3 with dilations 1, 2, 4, 8, 16, 32": (
        [(3, 1, 2**i) for i in range(6)],
        [(3, 1), (7, 1), (15, 1), (31, 1), (63, 1), (127, 1)],
    ),
    "no layers": ([], []),
}


@learner_facing
def check_receptive_fields(fn: Callable) -> None:
    """``fn(layers)`` with layers ``[(kernel, stride, dilation), ...]`` -> one
    ``(receptive field, jump)`` pair per layer."""
    name = name_of(fn)
    cases = [
        (Case((layers,), label=f"layers={layers}", note=note), np.array(rows, dtype=np.int64).reshape(-1, 2))
        for note, (layers, rows) in _STACKS.items()
    ]
    _check_expected(fn, cases, ("layers",), name=name, output=lambda r: field_rows(r, name))
    passed(name, len(cases), "the chapter's three stacks and an empty one")


@learner_facing
def check_input_window(fn: Callable) -> None:
    """``fn(layers, index)`` -> ``(start, stop)`` of the input samples output ``index`` sees."""
    name = name_of(fn)
    classifier = [(5, 1, 1), (2, 2, 1), (5, 1, 1)]  # up to conv2 of conv1d_classifier
    cases = [
        (Case((classifier, 0), label=f"layers={classifier}, index=0"), (0, 14)),
        (Case((classifier, 10), label=f"layers={classifier}, index=10"), (20, 34)),
        (Case(([(3, 1, 1)] * 2, 4), label="layers=[(3, 1, 1), (3, 1, 1)], index=4"), (4, 9)),
        (Case(([(2, 2, 1)] * 3, 1), label="layers=[(2, 2, 1)] * 3, index=1"), (8, 16)),
    ]
    cases = [(case, np.array(expected, dtype=np.int64)) for case, expected in cases]
    _check_expected(fn, cases, ("layers", "index"), name=name, output=lambda r: window_pair(r, name))
    passed(name, len(cases), "windows of the chapter's signal classifier and two small stacks")


@learner_facing
def check_class_iou(fn: Callable) -> None:
    """``fn(pred, true, num_classes)`` -> ``(num_classes,)`` IoU per class, NaN where a
    class is in neither mask."""
    name = name_of(fn)
    pred = np.array([[0, 1], [1, 1]])
    true = np.array([[0, 1], [0, 1]])
    everything = np.zeros((2, 3, 3), dtype=np.int64)
    everything[0, 0, :2] = 2
    truth = np.zeros_like(everything)
    truth[0, 0, 1:] = 2
    cases = [
        (Case((pred, true, 3), note="2 x 2 masks, class 2 absent"), [0.5, 2 / 3, np.nan]),
        (Case((pred, pred, 2), note="a perfect prediction"), [1.0, 1.0]),
        (Case((everything, truth, 3), note="two 3 x 3 masks"), [15 / 17, np.nan, 1 / 3]),
    ]
    cases = [(case, np.array(expected)) for case, expected in cases]
    _check_expected(fn, cases, ("pred", "true", "num_classes"), name=name, check_dtype=False)
    passed(name, len(cases), "hand-worked IoUs")
