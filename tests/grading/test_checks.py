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
    checks.check_conv2d_backward(naive.conv2d_forward, naive.conv2d_backward, strided=True)
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
    assert len(lines) == 17
    assert all(line.startswith("\u2713 ") and line.endswith(checks.HIDDEN_REMINDER) for line in lines)
    assert "conv2d_forward: 4 public checks passed (shapes, dtypes and values)" in lines[1]
    assert "conv2d_backward: 3 public checks passed (dx, dw and db)" in lines[3]
    assert "conv2d_backward: 7 public checks passed (dx, dw and db)" in lines[4]  # with stride 2 and "same"
    assert "pool_backward: 5 public checks passed (dx of max pooling)" in lines[7]


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
        "conv2d_forward(x (2, 5, 5, 3) float64, w (3, 3, 3, 2) float64, b (2,) float64, stride=1, "
        "padding=1): shape expected (2, 5, 5, 2), got (2, 3, 3, 2)"
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

    with pytest.raises(
        AssertionError, match=r"^sigmoid\(x \(3,\) float64\): overflow encountered in exp; "
    ) as info:
        checks.check_sigmoid_forward(sigmoid)
    assert any("sigmoid(x = [-1000, 0, 1000])" in note for note in info.value.__notes__)


def test_wrong_gradient_is_named_with_its_index():
    def dense_backward(dout, cache):
        dx, dw, db = F.dense_backward(dout, cache)
        return dx, dw * 1.5, db

    with pytest.raises(AssertionError) as info:
        checks.check_dense_backward(F.dense_forward, dense_backward)
    assert str(info.value) == (
        "dense_backward(x (4, 3) float64, w (3, 2) float64, b (2,) float64) -> dw: 6 of 6 values differ; "
        "first wrong index (0, 0): expected 2.59623, got 3.89434 (largest difference 1.3); dx and db are "
        "right"
    )
    rng = np.random.default_rng(1)
    with pytest.raises(
        AssertionError,
        match=r"^dense_backward\(x \(2, 3\) float64, w \(3, 2\) float64, b \(2,\) float64\): gradient dw "
        r"has relative error 2.00e-01 \(should be below 1e-06\); first wrong index \(0, 0\): "
        r"numerical -?[\d.]+, yours -?[\d.]+; dx and db are right$",
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
    assert got == points and isinstance(got, checks.Points) and got.out_of == out_of
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
        "(raised by conv2d_forward(x (1, 4, 4, 1) float64, w (3, 3, 1, 1) float64, b (1,) float64, "
        "stride=1, padding=0))"
    ]


# --------------------------------------------------------------------------- stated rules
# Each rule the exercises state has a public check: a learner function with the classic
# mistake (a mutant) fails with a message naming the call, the first wrong value, and a
# hint only where the mistake was recognised by computing it.

DTYPE_TAIL = (
    "dtype expected float32, got float64: float32 in, float32 out (create the output with dtype=x.dtype; "
    "np.zeros(shape) alone gives float64)"
)


def conv_float64(x, w, b, stride=1, padding=0):
    return F.conv2d_forward(x, w, b, stride, padding)[0].astype(np.float64)


def max_pool_float64(x, pool_size=2, stride=None):
    return F.max_pool_forward(x, pool_size, stride)[0].astype(np.float64)


def avg_pool_float64(x, pool_size=2, stride=None):
    return F.avg_pool_forward(x, pool_size, stride)[0].astype(np.float64)


@pytest.mark.parametrize(
    ("check", "mutant", "call"),
    [
        (
            checks.check_conv2d_forward,
            conv_float64,
            "conv_float64(x (2, 5, 4, 2) float32, w (2, 3, 2, 2) float32, b (2,) float32, stride=1, "
            "padding=1)",
        ),
        (
            checks.check_max_pool_forward,
            max_pool_float64,
            "max_pool_float64(x (2, 4, 6, 3) float32, pool_size=2, stride=2)",
        ),
        (
            checks.check_avg_pool_forward,
            avg_pool_float64,
            "avg_pool_float64(x (2, 4, 6, 3) float32, pool_size=2, stride=2)",
        ),
    ],
    ids=["conv", "max-pool", "avg-pool"],
)
def test_float32_in_float32_out_for_conv_and_pooling(check, mutant, call):
    with pytest.raises(AssertionError) as info:
        check(mutant)
    assert str(info.value) == f"{call}: {DTYPE_TAIL}"


def conv_with(kernel):
    def conv2d_forward(x, w, b, stride=1, padding=0):
        return F.conv2d_forward(x, kernel(w), b, stride, padding)

    return conv2d_forward


CONV_CASE = (
    "conv2d_forward(x (1, 4, 4, 1) float64, w (3, 3, 1, 1) float64, b (1,) float64, stride=1, padding=0)"
)


@pytest.mark.parametrize(
    ("kernel", "got", "hint"),
    [
        (
            lambda w: w[::-1, ::-1],
            "0.765948 (largest difference 2.52)",
            "your output is the true convolution, with the kernel flipped on both axes (w[::-1, ::-1]); "
            "this layer computes a cross-correlation: multiply xp[n, i*s + di, j*s + dj, c] by w[di, dj, "
            "c, f] as it is, without flipping",
        ),
        (
            lambda w: w[::-1, :],
            "2.2462 (largest difference 2.46)",
            "your output is what the kernel gives with its rows reversed (w[::-1, :]); the kernel is not "
            "flipped (cross-correlation): window row di goes with w[di]",
        ),
        (
            lambda w: w[:, ::-1],
            "-0.24603 (largest difference 3.48)",
            "your output is what the kernel gives with its columns reversed (w[:, ::-1]); the kernel is "
            "not flipped (cross-correlation): window column dj goes with w[:, dj]",
        ),
        (
            lambda w: w.transpose(1, 0, 2, 3),
            None,
            "your output is what the kernel gives with its rows and columns swapped (w transposed): window "
            "row di and column dj go with w[di, dj]",
        ),
    ],
    ids=["flipped", "rows-flipped", "columns-flipped", "transposed"],
)
def test_a_flipped_kernel_gets_the_cross_correlation_hint(kernel, got, hint):
    with pytest.raises(AssertionError) as info:
        checks.check_conv2d_forward(conv_with(kernel))
    message = str(info.value)
    assert message.startswith(
        f"{CONV_CASE}: 4 of 4 values differ; first wrong index (0, 0, 0, 0): expected 0.968136"
    )
    if got is not None:
        assert f", got {got}\n" in message
    assert message.endswith(f"\nHint: {hint}")


def test_no_hint_when_the_mistake_is_another_one():
    def conv2d_forward(x, w, b, stride=1, padding=0):
        return F.conv2d_forward(x, w, None, stride, padding)[0]

    with pytest.raises(AssertionError) as info:
        checks.check_conv2d_forward(conv2d_forward)
    assert "Hint" not in str(info.value)


def pool_cache_forward(reference):
    """A learner-style forward pass: the reference's output, cache (x, pool_size, stride)."""

    def forward(x, pool_size=2, stride=None):
        return reference(x, pool_size, stride)[0], (x, pool_size, pool_size if stride is None else stride)

    return forward


def max_pool_backward_with(mistake):
    """A loop-style max_pool_backward with one of the classic mistakes (or none)."""

    def max_pool_backward(dout, cache):
        x, k, s = cache
        n, oh, ow, c = dout.shape
        dx = np.zeros_like(x)
        for i in range(oh):
            for j in range(ow):
                window = x[:, i * s : i * s + k, j * s : j * s + k, :]
                if mistake == "every tie":
                    top = window.max(axis=(1, 2), keepdims=True)
                    dx[:, i * s : i * s + k, j * s : j * s + k, :] += (window == top) * dout[
                        :, i, j, None, None
                    ]
                    continue
                flat = window.reshape(n, k * k, c)
                best = (
                    k * k - 1 - flat[:, ::-1].argmax(axis=1) if mistake == "last tie" else flat.argmax(axis=1)
                )
                for m in range(n):
                    for ch in range(c):
                        di, dj = divmod(int(best[m, ch]), k)
                        if mistake == "=":
                            dx[m, i * s + di, j * s + dj, ch] = dout[m, i, j, ch]
                        else:
                            dx[m, i * s + di, j * s + dj, ch] += dout[m, i, j, ch]
        return dx

    return max_pool_backward


TIES_CASE = (
    "max_pool_backward(x (1, 4, 4, 2) float64, pool_size=2) [tied maxima: the gradient goes to the first "
    "of them]"
)
OVERWRITE_HINT = (
    "Hint: your dx is what assigning gives: where windows overlap (stride < pool_size) a position can get "
    "gradient from several windows, and each window's gradient must be added (dx[...] += ..., or "
    "np.add.at), not assigned with ="
)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (
            "every tie",
            f"{TIES_CASE} -> dx: 12 of 32 values differ; first wrong index (0, 1, 0, 0): expected 0, got "
            "0.12573 (largest difference 1.3)\nHint: your dx sends the gradient to every tied maximum of a "
            "window; send it to the first of them only (row-major order, the one np.argmax of the "
            "flattened window picks)",
        ),
        (
            "last tie",
            f"{TIES_CASE} -> dx: 16 of 32 values differ; first wrong index (0, 0, 1, 0): expected 0.12573, "
            "got 0 (largest difference 1.3)\nHint: your dx sends the gradient to the last tied maximum of "
            "a window; send it to the first of them (row-major order, the one np.argmax of the flattened "
            "window picks)",
        ),
        (
            "=",
            "max_pool_backward(x (1, 5, 5, 2) float64, pool_size=3, stride=2) [overlapping windows] -> dx: "
            "1 of 50 values differ; first wrong index (0, 0, 2, 1): expected -0.0272047, got 0.1049 "
            f"(largest difference 0.132)\n{OVERWRITE_HINT}",
        ),
    ],
)
def test_max_pool_backward_rules_ties_and_overlapping_windows(mistake, message):
    forward = pool_cache_forward(F.max_pool_forward)
    checks.check_pool_backward(forward, max_pool_backward_with(None), "max")
    with pytest.raises(AssertionError) as info:
        checks.check_pool_backward(forward, max_pool_backward_with(mistake), "max")
    assert str(info.value) == message


def test_overwriting_in_avg_pool_backward_gets_the_accumulate_hint():
    def avg_pool_backward(dout, cache):
        x, k, s = cache
        dx = np.zeros_like(x)
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                dx[:, i * s : i * s + k, j * s : j * s + k, :] = dout[:, i, j, None, None] / (k * k)
        return dx

    with pytest.raises(AssertionError) as info:
        checks.check_pool_backward(pool_cache_forward(F.avg_pool_forward), avg_pool_backward, "avg")
    assert str(info.value) == (
        "avg_pool_backward(x (1, 5, 5, 2) float64, pool_size=3, stride=2) [overlapping windows] -> dx: 18 "
        "of 50 values differ; first wrong index (0, 0, 2, 0): expected 0.0851281, got 0.0711581 (largest "
        f"difference 0.0712)\n{OVERWRITE_HINT}"
    )


def conv_forward_keeping(x, w, b, stride=1, padding=0):
    out, cache = F.conv2d_forward(x, w, b, stride=stride, padding=padding)
    return out, (x, w, b, padding, stride, cache)


def conv_backward_with(mistake):
    def conv2d_backward(dout, cache):
        x, w, b, p, s, ref_cache = cache
        dx, dw, db = F.conv2d_backward(dout, ref_cache)
        if mistake == "uncropped dx":
            dx = np.pad(dx, ((0, 0), (p, p), (p, p), (0, 0)))
        elif mistake == "wrong dx":
            dx = 2 * dx
        elif mistake == "unflipped kernel":
            dx = F.conv2d_backward(dout, F.conv2d_forward(x, w[::-1, ::-1], b, stride=s, padding=p)[1])[0]
        elif mistake == "flipped dw, no db":
            dw, db = dw[::-1, ::-1], 0 * db
        return dx, dw, db

    return conv2d_backward


def conv_case(x, w, b, padding):
    return f"conv2d_backward(x {x} float64, w {w} float64, b {b} float64, stride=1, padding={padding})"


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (
            "uncropped dx",
            conv_case((2, 5, 5, 3), (3, 3, 3, 2), (2,), 1)
            + " -> dx: shape expected (2, 5, 5, 3), got (2, 7, 7, 3); "
            "dw and db are right\nHint: dx has the shape of the padded input (2, 7, 7, 3): crop the "
            "padding, 1 from each side: dx = dx_padded[:, 1:1 + H, 1:1 + W, :]",
        ),
        (
            "wrong dx",
            conv_case((1, 4, 4, 1), (3, 3, 1, 1), (1,), 0)
            + " -> dx: 16 of 16 values differ; first wrong index "
            "(0, 0, 0, 0): expected -0.0684298, got -0.13686 (largest difference 0.929); dw and db are right",
        ),
        (
            "unflipped kernel",
            conv_case((1, 4, 4, 1), (3, 3, 1, 1), (1,), 0)
            + " -> dx: 16 of 16 values differ; first wrong index "
            "(0, 0, 0, 0): expected -0.0684298, got 0.113594 (largest difference 0.997); dw and db are "
            "right\nHint: dx is the full correlation of dout with the kernel as it is; flip it on both "
            "spatial axes first (w[::-1, ::-1])",
        ),
        (
            "flipped dw, no db",
            conv_case((1, 4, 4, 1), (3, 3, 1, 1), (1,), 0)
            + " -> dw: 8 of 9 values differ; first wrong index "
            "(0, 0, 0, 0): expected -0.271864, got -0.958548 (largest difference 2.43); dx is right, db is "
            "wrong too\nHint: dw is the right dw flipped on both axes: dw is the correlation of the padded "
            "input with dout, dw[di, dj] = sum of xp[n, i*s + di, j*s + dj] * dout[n, i, j]",
        ),
    ],
)
def test_conv_backward_gradients_are_checked_one_by_one(mistake, message):
    checks.check_conv2d_backward(conv_forward_keeping, conv_backward_with(None), strided=True)
    with pytest.raises(AssertionError) as info:
        checks.check_conv2d_backward(conv_forward_keeping, conv_backward_with(mistake))
    assert str(info.value) == message


def test_conv_backward_with_stride_checks_the_strided_cases():
    def conv2d_backward(dout, cache):  # right for stride 1 only: ignores the stride
        x, w, b, p, s, _ = cache
        return F.conv2d_backward(dout, F.conv2d_forward(x, w, b, padding=p)[1]) if s == 1 else (x, w, b)

    checks.check_conv2d_backward(conv_forward_keeping, conv2d_backward)
    with pytest.raises(
        AssertionError, match=r"^conv2d_backward\(x \(1, 7, 6, 2\) float64, .*stride=2, padding=1\)"
    ):
        checks.check_conv2d_backward(conv_forward_keeping, conv2d_backward, strided=True)


def test_gradients_correct_scores_each_gradient():
    rng = np.random.default_rng(3)
    inputs = {
        "x": rng.standard_normal((1, 4, 4, 2)),
        "w": rng.standard_normal((3, 3, 2, 2)),
        "b": rng.standard_normal(2),
    }

    def score(backward):
        return checks.gradients_correct(
            conv_forward_keeping,
            backward,
            F.conv2d_forward,
            F.conv2d_backward,
            inputs,
            forward_kwargs={"padding": 1},
        )

    assert score(conv_backward_with(None)) == {"dx": True, "dw": True, "db": True}
    assert score(conv_backward_with("wrong dx")) == {"dx": False, "dw": True, "db": True}
    assert score(conv_backward_with("flipped dw, no db")) == {"dx": True, "dw": False, "db": False}

    def broken(dout, cache):
        raise NotImplementedError

    assert score(broken) == {"dx": False, "dw": False, "db": False}
    assert score(lambda dout, cache: conv_backward_with(None)(dout, cache)[:2]) == dict.fromkeys(
        ("dx", "dw", "db"), False
    )
    relu = checks.gradients_correct(
        F.relu_forward, F.relu_backward, F.relu_forward, F.relu_backward, {"x": inputs["x"]}
    )
    assert relu == {"dx": True}


def test_backward_errors_name_the_call_with_every_argument():
    def forward(x, pool_size=2, stride=None):
        raise NotImplementedError("fill me in")

    with pytest.raises(NotImplementedError) as info:
        checks.check_pool_backward(forward, F.pool_backward, "max")
    assert info.value.__notes__ == ["(raised by forward(x (1, 4, 4, 1) float64, pool_size=2))"]

    def backward(dout, cache):
        raise NotImplementedError("fill me in")

    with pytest.raises(NotImplementedError) as info:
        checks.check_conv2d_backward(conv_forward_keeping, backward)
    assert info.value.__notes__ == [
        "(raised by backward(x (1, 4, 4, 1) float64, w (3, 3, 1, 1) float64, b (1,) float64, stride=1, "
        "padding=0))"
    ]


def test_case_describes_every_argument_and_its_note():
    x = np.zeros((1, 5, 5, 2))
    case = checks.Case((x,), {"pool_size": 3, "stride": 2}, note="overlapping windows")
    assert (
        case.describe("f", ("x",)) == "f(x (1, 5, 5, 2) float64, pool_size=3, stride=2) [overlapping windows]"
    )
    assert checks.Case((x, 3)).describe("f") == "f(array (1, 5, 5, 2) float64, 3)"
    assert checks.Case((x,), label="x zeros").describe("f", ("x",)) == "f(x zeros)"
