"""Instant checks for the exercises: call them in a notebook's test cells.

Each ``check_*`` runs the learner's function on small seeded inputs, compares it with
:mod:`cnncourse.nn`'s reference (shapes, dtypes, values, gradients) and raises an
``AssertionError`` whose message says what differs: expected vs got, the first wrong
index, and which case. On success it prints one line, and reminds the learner that the
hidden tests of a graded notebook may still check more cases.

The checks live in one module per topic (:mod:`.convolution`, :mod:`.pooling`,
:mod:`.activations`, :mod:`.dense`, ...); the building blocks they share (:class:`Case`,
:func:`assert_close`, :func:`check_function`, :func:`check_backward`,
:func:`score_backward`, :func:`points`, :func:`run_parts`, ...) live in
:mod:`cnncourse.grading.checking`. Everything is re-exported here, so notebooks need only
``from cnncourse.grading import checks``. A test cell that gives partial credit ends with
the points earned, as nbgrader reads them::

    checks.points(checks.fraction_correct(conv2d_forward, reference, cases), out_of=3)

To add checks for a new exercise, write a module here that imports from
``..checking`` (and, when it reuses them, from sibling modules), and re-export its
public names below. The grader reloads every module of this package from disk before
each test cell, so a submission cannot monkeypatch a check (see
:func:`cnncourse.grading.kernel_side.reloaded_modules`).
"""

from __future__ import annotations

from ..checking import (
    HIDDEN_REMINDER,
    Case,
    Points,
    assert_close,
    assert_dtype,
    assert_shape,
    check_backward,
    check_function,
    check_gradient,
    first_output,
    fraction_correct,
    gradients_correct,
    learner_facing,
    name_of,
    outputs_match,
    passed,
    points,
    run_parts,
    score_backward,
)
from .activations import (
    check_leaky_relu,
    check_leaky_relu_grad,
    check_relu_backward,
    check_relu_forward,
    check_sigmoid_forward,
    check_sigmoid_grad,
    check_tanh_forward,
    check_tanh_grad,
)
from .convolution import (
    check_box_blur_kernel,
    check_conv2d_backward,
    check_conv2d_forward,
    check_convolve2d,
    check_correlate2d,
    check_edge_strength,
    check_output_size,
    check_sobel_kernels,
    score_conv2d_backward,
)
from .dense import (
    check_cross_entropy_grad,
    check_cross_entropy_loss,
    check_dense_backward,
    check_dense_forward,
    check_flatten,
    check_one_hot,
    check_softmax,
    check_softmax_cross_entropy,
    score_dense_backward,
)
from .pooling import (
    check_avg_pool_forward,
    check_max_pool_forward,
    check_pool_backward,
    check_sum_pool_forward,
)

__all__ = [
    "HIDDEN_REMINDER",
    "Points",
    "Case",
    "assert_close",
    "assert_dtype",
    "assert_shape",
    "check_avg_pool_forward",
    "check_backward",
    "check_box_blur_kernel",
    "check_conv2d_backward",
    "check_conv2d_forward",
    "check_convolve2d",
    "check_correlate2d",
    "check_cross_entropy_grad",
    "check_cross_entropy_loss",
    "check_dense_backward",
    "check_dense_forward",
    "check_edge_strength",
    "check_flatten",
    "check_function",
    "check_gradient",
    "check_leaky_relu",
    "check_leaky_relu_grad",
    "check_max_pool_forward",
    "check_one_hot",
    "check_output_size",
    "check_pool_backward",
    "check_relu_backward",
    "check_relu_forward",
    "check_sigmoid_forward",
    "check_sigmoid_grad",
    "check_sobel_kernels",
    "check_softmax",
    "check_softmax_cross_entropy",
    "check_sum_pool_forward",
    "check_tanh_forward",
    "check_tanh_grad",
    "first_output",
    "fraction_correct",
    "gradients_correct",
    "learner_facing",
    "name_of",
    "outputs_match",
    "passed",
    "points",
    "run_parts",
    "score_backward",
    "score_conv2d_backward",
    "score_dense_backward",
]
