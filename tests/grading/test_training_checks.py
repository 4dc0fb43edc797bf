"""The checks of chapters 5 and 7 that the mutation tests do not reach: a learning rate and
batch size graded by the accuracy they reach, and the hints of the parameter counts."""

from __future__ import annotations

import functools

import pytest

from cnncourse.data import load_digits
from cnncourse.grading import checks


@functools.cache
def _digits():
    digits = load_digits(size=8)
    return digits.train.x.reshape(-1, 64), digits.train.y, digits.val.x.reshape(-1, 64), digits.val.y


def _returning(value):
    def choose_hyperparameters():
        return value

    return choose_hyperparameters


def _choice(lr, batch_size):
    return _returning((lr, batch_size))


@pytest.mark.parametrize(
    ("lr", "batch_size", "share"),
    [(0.1, 4, 1.0), (1.0, 64, 1.0), (0.1, 32, 2 / 3), (0.001, 16, 1 / 3)],
)
def test_a_choice_earns_the_tier_its_accuracy_reaches(lr, batch_size, share, capsys):
    assert checks.score_hyperparameters(_choice(lr, batch_size), *_digits()) == pytest.approx(share)
    printed = capsys.readouterr().out
    assert f"learning rate {lr:g}, batch size {batch_size}: validation accuracy" in printed
    assert printed.rstrip().endswith("full marks") == (share == 1.0)


def test_a_poor_choice_fails_and_says_what_it_reached():
    with pytest.raises(
        AssertionError,
        match=r"choose_hyperparameters\(\) -> learning rate 0\.001, batch size 1258: "
        r"validation accuracy 0\.\d+ after 1 epoch \(1 run\), below 0\.75$",
    ):
        checks.score_hyperparameters(_choice(0.001, 1258), *_digits())


def test_a_run_that_overflows_counts_as_diverged():
    # The linear classifier survives learning rates far beyond reason; only an overflow
    # of the scores to inf stops it, and that must fail the check, not crash the grader.
    with pytest.raises(
        AssertionError, match=r"diverged \(the loss became inf or NaN\): the learning rate is too large$"
    ):
        checks.score_hyperparameters(_choice(1.7e308, 4), *_digits())


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (0.1, "return the pair"),
        (("0.1", 4), "the learning rate should be a number, got str"),
        ((-0.1, 4), "the learning rate should be a positive number"),
        ((0.1, 4.0), "the batch size should be an int, got float"),
        ((0.1, 0), "the batch size should be from 1 to the 1258 training examples, got 0"),
    ],
)
def test_an_invalid_choice_is_named(choice, message):
    with pytest.raises(AssertionError, match=rf"^choose_hyperparameters\(\): {message}"):
        checks.score_hyperparameters(_returning(choice), *_digits())


@pytest.mark.parametrize(
    ("total", "hint"),
    [
        (61706 - 214, "the dense layers' biases are missing"),
        (61706 - 2000, "the second convolution sees all 6 input channels"),
        (61706 - 400 * 120 + 256 * 120, "32 -> 28 -> 14 -> 10 -> 5"),
        (12345, "add up every layer"),
    ],
)
def test_a_wrong_lenet5_total_gets_the_hint_of_its_mistake_but_not_the_answer(total, hint):
    def lenet5_param_count():
        return total

    with pytest.raises(AssertionError) as failure:
        checks.check_lenet5_param_count(lenet5_param_count)
    message = str(failure.value)
    assert message.startswith(f"lenet5_param_count(): {total} is not LeNet-5's total")
    assert hint in message
    assert "61706" not in message
