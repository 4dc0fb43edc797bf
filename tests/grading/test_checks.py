"""Instant checks: pass for correct code, and say exactly what differs otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse.grading import checks
from cnncourse.nn import functional as F
from cnncourse.nn import naive


def test_assert_close_names_the_first_wrong_index_and_both_values():
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[1, 2] = 0.5
    got[1, 1] = 0.25
    with pytest.raises(AssertionError) as info:
        checks.assert_close(got, expected, "out")
    assert str(info.value) == (
        "out: 2 of 6 values differ; first wrong index (1, 1): expected 0, got 0.25 (largest difference 0.5)"
    )


def test_assert_close_reports_shapes_none_and_scalars():
    with pytest.raises(
        AssertionError,
        match=r"shape expected \(1, 4, 4, 3\), got \(1, 3, 4, 4\)"
        r" \(the same sizes in another order",
    ):
        checks.assert_close(np.zeros((1, 3, 4, 4)), np.zeros((1, 4, 4, 3)))
    with pytest.raises(AssertionError, match="got None; did the function forget to `return`"):
        checks.assert_close(None, np.zeros(2))
    with pytest.raises(AssertionError, match=r"loss: expected 1\.5, got 2"):
        checks.assert_close(2.0, 1.5, "loss")
    with pytest.raises(AssertionError, match="first wrong index \\(1,\\): expected 2, got nan"):
        checks.assert_close(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    checks.assert_close(np.array([1.0, 2.0 + 1e-12]), np.array([1.0, 2.0]))


def test_assert_dtype_says_which_dtype():
    with pytest.raises(AssertionError, match="dtype expected float32, got float64"):
        checks.assert_dtype(np.zeros(2), np.float32)


def test_reference_implementations_pass_every_check(capsys):
    checks.check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1)
    checks.check_conv2d_forward(F.conv2d_forward)
    checks.check_conv2d_forward(naive.conv2d_forward)
    checks.check_conv2d_backward(naive.conv2d_forward, naive.conv2d_backward)
    checks.check_max_pool_forward(naive.max_pool_forward)
    checks.check_avg_pool_forward(F.avg_pool_forward)
    checks.check_pool_backward(naive.max_pool_forward, naive.pool_backward, "max")
    checks.check_pool_backward(F.avg_pool_forward, F.pool_backward, "avg")
    checks.check_relu_forward(F.relu_forward)
    checks.check_relu_backward(F.relu_forward, F.relu_backward)
    checks.check_sigmoid_forward(F.sigmoid_forward)
    checks.check_softmax(F.softmax)
    checks.check_softmax_cross_entropy(F.softmax_cross_entropy)
    checks.check_dense_forward(F.dense_forward)
    checks.check_dense_backward(F.dense_forward, F.dense_backward)
    rng = np.random.default_rng(0)
    checks.check_gradient(
        F.dense_forward,
        F.dense_backward,
        {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((4, 2)), "b": rng.standard_normal(2)},
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 16
    assert all(line.startswith("\u2713 ") and line.endswith(checks.HIDDEN_REMINDER) for line in lines)
    assert "conv2d_forward: 3 public checks passed (shapes, dtypes and values)" in lines[1]


def test_checks_return_nothing_so_a_test_cell_is_not_read_as_partial_credit():
    assert checks.check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1) is None
    assert checks.check_dense_backward(F.dense_forward, F.dense_backward) is None


def test_output_size_must_be_an_int():
    with pytest.raises(
        AssertionError,
        match=r"output_size\(5, 3, 1, 0\): expected the int 3, "
        r"got float 3 \(use // for integer division\)",
    ):

        def output_size(n, k, s, p):
            return (n + 2 * p - k) / s + 1

        checks.check_output_size(output_size)


def test_conv_without_padding_fails_with_the_case_and_shape():
    def conv2d_forward(x, w, b, stride=1, padding=0):
        return F.conv2d_forward(x, w, b, stride, 0)

    with pytest.raises(AssertionError) as info:
        checks.check_conv2d_forward(conv2d_forward)
    assert str(info.value) == (
        "conv2d_forward(x (2, 5, 5, 3), w (3, 3, 3, 2), b, stride=1, padding=1): "
        "shape expected (2, 5, 5, 2), got (2, 3, 3, 2)"
    )


def test_conv_without_bias_reports_values():
    def conv2d_forward(x, w, b, stride=1, padding=0):
        return F.conv2d_forward(x, w, None, stride, padding)[0]

    with pytest.raises(
        AssertionError,
        match=r"4 of 4 values differ; first wrong index "
        r"\(0, 0, 0, 0\): expected",
    ):
        checks.check_conv2d_forward(conv2d_forward)


def test_pool_that_changes_the_dtype_fails_on_dtype():
    def max_pool_forward(x, pool_size=2, stride=None):
        return F.max_pool_forward(x, pool_size, stride)[0].astype(np.float32)

    with pytest.raises(AssertionError, match="dtype expected float64, got float32"):
        checks.check_max_pool_forward(max_pool_forward)


def test_in_place_changes_to_inputs_are_caught():
    def relu_forward(x):
        np.maximum(x, 0, out=x)
        return x, x

    with pytest.raises(AssertionError, match="changed its input argument 1 in place"):
        checks.check_relu_forward(relu_forward)


def test_naive_sigmoid_overflows_on_large_inputs():
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    with pytest.raises(FloatingPointError, match="overflow") as info:
        checks.check_sigmoid_forward(sigmoid)
    assert any("sigmoid(x = [-1000, 0, 1000])" in note for note in info.value.__notes__)


def test_wrong_gradient_is_named_with_its_index():
    def dense_backward(dout, cache):
        dx, dw, db = F.dense_backward(dout, cache)
        return dx, dw * 1.5, db

    with pytest.raises(
        AssertionError,
        match=r"dense_backward with x \(4, 3\), w \(3, 2\), "
        r"b \(2,\) -> dw: 6 of 6 values differ",
    ):
        checks.check_dense_backward(F.dense_forward, dense_backward)
    rng = np.random.default_rng(1)
    with pytest.raises(
        AssertionError,
        match=r"gradient dw has relative error 2.00e-01 \(should "
        r"be below 1e-06\); first wrong index \(0, 0\)",
    ):
        checks.check_gradient(
            F.dense_forward,
            dense_backward,
            {"x": rng.standard_normal((2, 3)), "w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)},
        )


def test_backward_needs_a_cache():
    with pytest.raises(AssertionError, match=r"must return \(out, cache\)"):
        checks.check_relu_backward(lambda x: np.maximum(x, 0), F.relu_backward)


def test_softmax_cross_entropy_compares_loss_and_gradient_separately():
    def no_mean(logits, y):
        loss, d = F.softmax_cross_entropy(logits, y)
        return loss * len(y), d

    with pytest.raises(AssertionError, match=r"-> loss: expected [\d.]+, got [\d.]+"):
        checks.check_softmax_cross_entropy(no_mean)
    with pytest.raises(AssertionError, match=r"expected 2 results \(loss, dlogits\), got 1"):
        checks.check_softmax_cross_entropy(lambda z, y: F.softmax_cross_entropy(z, y)[0])


def test_fraction_correct_counts_cases_and_errors_as_wrong():
    cases = [((np.full((1, 2, 2, 1), v),), {"pool_size": 2}) for v in (1.0, -1.0, 2.0, 0.0)]

    def only_positive(x, pool_size=2, stride=None):
        if x.min() < 0:
            raise ValueError("negative")
        return F.max_pool_forward(x, pool_size)[0]

    assert (
        checks.fraction_correct(only_positive, F.max_pool_forward, cases, output=checks.first_output) == 0.75
    )
    with pytest.raises(ValueError, match="at least one case"):
        checks.fraction_correct(only_positive, F.max_pool_forward, [])


@pytest.mark.parametrize(
    ("fraction", "out_of", "points"),
    [
        (0.75, 3, 2.25),
        (1, 3, 3.0),
        (0, 2, 0.0),
        (True, 2, 2.0),
        (np.False_, 4, 0.0),
        (np.float64(2 / 3), 2, 1.333333),
        (1 / 3 + 1 / 3 + 1 / 3, 1, 1.0),
        (1 + 1e-12, 2, 2.0),
        (np.int64(1), 2.5, 2.5),
    ],
)
def test_points_turns_a_fraction_into_the_points_nbgrader_reads(fraction, out_of, points):
    got = checks.points(fraction, out_of=out_of)
    assert got == points and type(got) is float
    assert float(repr(got)) == got  # nbgrader reads float() of the value's text


@pytest.mark.parametrize(
    ("fraction", "out_of", "message"),
    [
        (1.5, 2, "from 0 to 1; got 1.5"),
        (-0.2, 2, "from 0 to 1; got -0.2"),
        (float("nan"), 2, "got nan"),
        ("0.5", 2, "a number from 0 to 1; got str '0.5'"),
        (None, 2, "got NoneType None"),
        (np.array([0.5]), 2, "got ndarray"),
        (0.5, 0, "out_of must be a positive number"),
        (0.5, True, "out_of must be the cell's"),
        (0.5, "3", "out_of must be the cell's"),
        (0.5, float("inf"), "positive number"),
    ],
)
def test_points_refuses_what_is_not_a_fraction(fraction, out_of, message):
    with pytest.raises(ValueError, match=message):
        checks.points(fraction, out_of=out_of)


def test_check_and_assert_functions_return_none_so_a_cell_may_end_with_them():
    # The validator lets a test cell end with checks.check_*(...) or checks.assert_*(...)
    # because they show no value (nbgrader would read a value as points).
    import inspect

    names = [n for n in checks.__all__ if n.startswith(("check_", "assert_")) or n == "passed"]
    assert len(names) > 15
    for name in names:
        assert inspect.signature(getattr(checks, name)).return_annotation in (None, "None"), name


def test_not_implemented_stub_propagates_with_the_case_as_a_note():
    def conv2d_forward(x, w, b, stride=1, padding=0):
        raise NotImplementedError("fill me in")

    with pytest.raises(NotImplementedError, match="fill me in") as info:
        checks.check_conv2d_forward(conv2d_forward)
    assert info.value.__notes__ == [
        "(raised by conv2d_forward(x (1, 4, 4, 1), w (3, 3, 1, 1), b, stride=1, padding=0))"
    ]
