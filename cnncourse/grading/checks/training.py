"""Checks of chapter 7: the momentum and Adam update steps, He and Glorot initialisation,
mini-batches, the training loop, and a learning rate and batch size graded by outcome.

The references are written out here rather than taken from :mod:`cnncourse.nn.optim` and
:mod:`cnncourse.nn.init`: the grader reloads this package from disk before each test cell,
but not those modules, so a submission could change them and the check would agree.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F
from cnncourse.nn.init import fans

from ..checking import (
    Case,
    assert_close,
    assert_shape,
    check_function,
    learner_facing,
    name_of,
    outputs_match,
    passed,
)

__all__ = [
    "HYPERPARAMETER_BUDGET_EPOCHS",
    "check_adam_update",
    "check_fans",
    "check_glorot_limit",
    "check_he_normal_weights",
    "check_he_std",
    "check_minibatches",
    "check_momentum_step",
    "check_train",
    "score_hyperparameters",
]


# --------------------------------------------------------------------------- references


def _momentum_step(w, g, v, lr=0.01, mu=0.9):
    v = mu * v - lr * g
    return w + v, v


def _adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _he_std(shape) -> float:
    return float(np.sqrt(2.0 / fans(shape)[0]))


def _glorot_limit(shape) -> float:
    return float(np.sqrt(6.0 / sum(fans(shape))))


def _train(x, y, epochs=10, batch_size=32, lr=0.1, mu=0.9, seed=0):
    """The loop part 4 of the chapter's exercises describes: ``(w, b, losses)``.

    Raises ``ValueError`` (from the loss) when the training diverges to inf or NaN.
    """
    rng = np.random.default_rng(seed)
    w = 0.01 * rng.standard_normal((x.shape[1], 10))
    b = np.zeros(10)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss, dscores = F.softmax_cross_entropy(x[idx] @ w + b, y[idx])
            w, vw = _momentum_step(w, x[idx].T @ dscores, vw, lr, mu)
            b, vb = _momentum_step(b, dscores.sum(axis=0), vb, lr, mu)
            losses.append(loss)
    return w, b, losses


# --------------------------------------------------------------------------- optimisers


def _momentum_diagnose(got, case: Case) -> str:
    w, g, v = case.args
    lr, mu = case.kwargs["lr"], case.kwargs["mu"]
    new_v = mu * v - lr * g
    if outputs_match(got[0], w + v) and outputs_match(got[1], new_v):
        return "w moved by the old velocity; compute the new v first, then w + (new v)"
    if outputs_match(got[1], v - lr * g):
        return "the new v ignores mu: v <- mu * v - lr * g"
    return ""


@learner_facing
def check_momentum_step(fn: Callable) -> None:
    """``fn(w, g, v, lr, mu)`` -> ``(new w, new v)``: heavy-ball momentum, the inputs
    left unchanged. Cases: the worked example's two steps, a non-zero velocity with other
    ``lr`` and ``mu``, and ``mu = 0`` (plain SGD)."""
    rng = np.random.default_rng(70)
    one = np.array([1.0])
    cases = [
        Case((one, np.array([2.0]), np.array([0.0])), {"lr": 0.1, "mu": 0.9}, note="step 1 of the example"),
        Case((np.array([0.8]), np.array([2.0]), np.array([-0.2])), {"lr": 0.1, "mu": 0.9}, note="step 2"),
        Case(tuple(rng.standard_normal((3, 4)) for _ in range(3)), {"lr": 0.05, "mu": 0.5}),
        Case(tuple(rng.standard_normal(5) for _ in range(3)), {"lr": 0.3, "mu": 0.0}, note="plain SGD"),
    ]
    check_function(
        fn,
        _momentum_step,
        cases,
        name=name_of(fn),
        outputs=("w", "v"),
        rtol=1e-9,
        diagnose=_momentum_diagnose,
    )


def _adam_diagnose(got, case: Case) -> str:
    w, g, m, v = case.args
    kw = case.kwargs
    t, lr, b1, b2, eps = kw["t"], kw["lr"], kw["beta1"], kw["beta2"], kw["eps"]
    new_m, new_v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    if outputs_match(got[1], new_m / (1 - b1**t)):
        return "m is bias-corrected; return the raw moments m and v (the corrected ones are for the step)"
    if t > 1 and outputs_match(got[0], _adam_step(w, g, m, v, 1, lr, b1, b2, eps)[0]):
        return f"w is what the bias correction for t = 1 gives; divide by 1 - beta**t with t = {t}"
    if outputs_match(got[0], w - lr * new_m / (np.sqrt(new_v) + eps)):
        return "w moved without the bias correction: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t)"
    return ""


@learner_facing
def check_adam_update(fn: Callable) -> None:
    """``fn(w, g, m, v, t, lr, beta1, beta2, eps)`` -> ``(new w, new m, new v)``, the raw
    moments, the inputs left unchanged. Cases: the first step, a later step with non-zero
    moments (the bias correction depends on ``t``), and other ``beta1``, ``beta2``, ``eps``."""
    rng = np.random.default_rng(73)

    def state(shape):
        return rng.standard_normal(shape), rng.standard_normal(shape), 0.1 * rng.standard_normal(shape)

    defaults = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}
    w, g, m = state((3, 4))
    w2, g2, m2 = state(6)
    cases = [
        Case(
            (np.ones(2), np.array([2.0, -0.001]), np.zeros(2), np.zeros(2)), {"t": 1, "lr": 0.1, **defaults}
        ),
        Case((w, g, m, m**2), {"t": 3, "lr": 0.01, **defaults}),
        Case((w2, g2, m2, m2**2), {"t": 5, "lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4}),
    ]
    check_function(
        fn,
        _adam_step,
        cases,
        name=name_of(fn),
        outputs=("w", "m", "v"),
        rtol=1e-9,
        diagnose=_adam_diagnose,
    )


# --------------------------------------------------------------------------- initialisation

_KERNEL_SHAPES = [(3, 3, 1, 32), (64, 10), (5, 5, 3, 6), (1, 1, 256, 64)]


def _fans_diagnose(got, case: Case) -> str:
    shape = case.args[0]
    if len(shape) == 4 and tuple(got) == (shape[2], shape[3]):
        return "a conv kernel's fans count the kernel's window too: fan_in = KH * KW * C_in"
    if len(shape) == 4 and tuple(got) == (shape[0] * shape[1] * shape[2], shape[3]):
        return "fan_out of a conv kernel counts the window too: KH * KW * C_out (Keras' convention)"
    return ""


@learner_facing
def check_fans(fn: Callable) -> None:
    """``fn(shape)`` -> ``(fan_in, fan_out)`` as ints, for conv and dense kernels."""
    cases = [Case((s,), label=f"shape={s}") for s in _KERNEL_SHAPES]
    check_function(fn, fans, cases, name=name_of(fn), outputs=("fan_in", "fan_out"), diagnose=_fans_diagnose)


@learner_facing
def check_he_std(fn: Callable) -> None:
    """``fn(shape)`` -> the He-normal standard deviation, for conv and dense kernels."""
    cases = [Case((s,), label=f"shape={s}") for s in _KERNEL_SHAPES]
    check_function(fn, _he_std, cases, name=name_of(fn))


@learner_facing
def check_glorot_limit(fn: Callable) -> None:
    """``fn(shape)`` -> the Glorot-uniform limit, for conv and dense kernels."""
    cases = [Case((s,), label=f"shape={s}") for s in _KERNEL_SHAPES]
    check_function(fn, _glorot_limit, cases, name=name_of(fn))


def _he_normal_diagnose(got, case: Case) -> str:
    shape = case.args[0]
    sample = np.asarray(got, dtype=np.float64)
    if sample.shape == shape and abs(sample.std() / _he_std(shape) - 1) < 0.1:
        return (
            "the spread is right but not the values: draw them with the rng you are given, "
            "rng.standard_normal(shape), so that a seed reproduces them"
        )
    return ""


@learner_facing
def check_he_normal_weights(fn: Callable) -> None:
    """``fn(shape, rng)`` -> ``rng.standard_normal(shape) * he_std(shape)``: the values
    are reproducible from the seed of ``rng``."""
    cases = [
        Case((shape, np.random.default_rng(seed)), label=f"{shape}, np.random.default_rng({seed})")
        for shape, seed in [((3, 3, 16, 64), 0), ((20, 10), 3), ((5, 5, 3, 8), 11)]
    ]
    check_function(
        fn,
        lambda shape, rng: rng.standard_normal(shape) * _he_std(shape),
        cases,
        name=name_of(fn),
        diagnose=_he_normal_diagnose,
    )


# --------------------------------------------------------------------------- mini-batches and training


def _as_index_batches(batches, what: str) -> list[np.ndarray]:
    if not isinstance(batches, list | tuple):
        raise AssertionError(f"{what}: return a list of index arrays, got {type(batches).__name__}")
    arrays = [np.asarray(batch) for batch in batches]
    for i, batch in enumerate(arrays):
        if batch.ndim != 1 or (batch.size and batch.dtype.kind not in "iu"):
            raise AssertionError(
                f"{what}: batch {i} should be a 1-D array of integer indices, got {batch.dtype} {batch.shape}"
            )
    return arrays


@learner_facing
def check_minibatches(fn: Callable) -> None:
    """``fn(n, batch_size, rng)`` -> the list of index arrays of ``rng.permutation(n)`` cut
    into consecutive pieces of ``batch_size``: every index once, in the shuffled order."""
    name = name_of(fn)
    specs = [(10, 4, 0), (103, 10, 3), (7, 7, 1), (5, 8, 2)]  # n, batch_size, seed
    for n, batch_size, seed in specs:
        what = f"{name}({n}, {batch_size}, np.random.default_rng({seed}))"
        batches = _as_index_batches(fn(n, batch_size, np.random.default_rng(seed)), what)
        sizes = [len(b) for b in batches]
        expected_sizes = [min(batch_size, n - start) for start in range(0, n, batch_size)]
        if sizes != expected_sizes:
            raise AssertionError(
                f"{what}: batch sizes expected {expected_sizes}, got {sizes} (the last batch "
                "may be shorter; keep it)"
            )
        order = np.concatenate(batches)
        counts = np.bincount(order[(order >= 0) & (order < n)], minlength=n)
        if order.min() < 0 or order.max() >= n or not np.all(counts == 1):
            missing = np.flatnonzero(counts == 0)
            raise AssertionError(
                f"{what}: every index from 0 to {n - 1} should appear exactly once per epoch; "
                f"index {int(missing[0]) if missing.size else int(np.argmax(counts))} appears "
                f"{int(counts[missing[0]]) if missing.size else int(counts.max())} times"
            )
        expected = np.random.default_rng(seed).permutation(n)
        if not np.array_equal(order, expected):
            first = int(np.argmax(order != expected))
            hint = " (the indices are not shuffled)" if np.array_equal(order, np.arange(n)) else ""
            raise AssertionError(
                f"{what}: the indices should come in the order of rng.permutation({n}), drawn "
                f"from the rng given; first wrong position {first}: expected {int(expected[first])}, "
                f"got {int(order[first])}{hint}"
            )
    passed(name, len(specs), "sizes, every index once, shuffled with rng")


def _train_diagnose(got, x, y, kwargs) -> str:
    losses = list(got[2])
    expected = _train(x, y, **kwargs)[2]
    if losses and not math.isclose(float(losses[0]), expected[0], rel_tol=1e-5):
        return (
            "the first loss differs already: start from w = 0.01 * rng.standard_normal((64, 10)) "
            "and b = 0 with rng = np.random.default_rng(seed), drawn before the first mini-batch"
        )
    return ""


@learner_facing
def check_train(fn: Callable, x, y) -> None:
    """``fn(x, y, epochs, batch_size, lr, mu, seed)`` -> ``(w, b, losses)``: a softmax
    classifier trained with mini-batches (shuffled by the seeded rng, after the weights
    are drawn from it) and momentum, one loss per mini-batch, compared with the loop the
    exercise describes for two small runs."""
    name = name_of(fn)
    x, y = np.asarray(x), np.asarray(y)
    runs = [
        {"epochs": 2, "batch_size": 64, "lr": 0.1, "mu": 0.9, "seed": 0},
        {"epochs": 1, "batch_size": 100, "lr": 0.05, "mu": 0.5, "seed": 7},
    ]
    for kwargs in runs:
        what = Case((x, y), kwargs).describe(name, ("x", "y"))
        result = fn(x.copy(), y.copy(), **copy.deepcopy(kwargs))
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise AssertionError(f"{what}: return (w, b, losses)")
        w, b, losses = result
        expected_w, expected_b, expected_losses = _train(x, y, **kwargs)
        assert_shape(w, expected_w.shape, f"{what} -> w")
        assert_shape(b, expected_b.shape, f"{what} -> b")
        if len(losses) != len(expected_losses):
            raise AssertionError(
                f"{what} -> losses: one loss per mini-batch expected, {len(expected_losses)} "
                f"({kwargs['epochs']} epochs of {len(expected_losses) // kwargs['epochs']} mini-batches), "
                f"got {len(losses)}"
            )
        try:
            got_losses = np.asarray(losses, dtype=np.float64)
            assert_close(got_losses, expected_losses, f"{what} -> losses", rtol=1e-5)
            assert_close(w, expected_w, f"{what} -> w", rtol=1e-5, atol=1e-7)
            assert_close(b, expected_b, f"{what} -> b", rtol=1e-5, atol=1e-7)
        except AssertionError as exc:
            hint = _train_diagnose(result, x, y, kwargs)
            raise AssertionError(f"{exc}\nHint: {hint}" if hint else str(exc)) from None
    passed(name, len(runs), "w, b and every mini-batch loss")


# --------------------------------------------------------------------------- hyperparameters by outcome

HYPERPARAMETER_BUDGET_EPOCHS = 1
# (validation accuracy reached, fraction of the points), best first
_ACCURACY_TIERS = ((0.92, 1.0), (0.88, 2 / 3), (0.75, 1 / 3))


def _hyperparameter_error(choice, n: int) -> str:
    if not isinstance(choice, tuple | list) or len(choice) != 2:
        return f"return the pair (learning_rate, batch_size), got {type(choice).__name__} {choice!r}"
    lr, batch_size = choice
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.integer | np.floating):
        return f"the learning rate should be a number, got {type(lr).__name__} {lr!r}"
    if not 0 < float(lr) < math.inf:
        return f"the learning rate should be a positive number, got {lr!r}"
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        return f"the batch size should be an int, got {type(batch_size).__name__} {batch_size!r}"
    if not 1 <= int(batch_size) <= n:
        return f"the batch size should be from 1 to the {n} training examples, got {batch_size}"
    return ""


@learner_facing
def score_hyperparameters(choose: Callable, x, y, x_val, y_val, *, seeds=(0,)) -> float:
    """``choose()`` -> ``(learning_rate, batch_size)``: train the chapter's softmax
    classifier with them (momentum 0.9) for :data:`HYPERPARAMETER_BUDGET_EPOCHS` epoch on
    ``(x, y)``, once per seed, and grade the mean accuracy on ``(x_val, y_val)``: the
    fraction of the points of the first tier reached (0.92 -> all, 0.88 -> 2/3,
    0.75 -> 1/3).

    Prints what was reached; a run that diverges counts as accuracy 0. Raises an
    ``AssertionError`` when the choice is not a valid pair or reaches no tier.
    """
    name = name_of(choose)
    x, y = np.asarray(x, dtype=np.float64).reshape(len(x), -1), np.asarray(y)
    x_val = np.asarray(x_val, dtype=np.float64).reshape(len(x_val), -1)
    choice = choose()
    error = _hyperparameter_error(choice, len(x))
    if error:
        raise AssertionError(f"{name}(): {error}")
    lr, batch_size = float(choice[0]), int(choice[1])
    accuracies = []
    for seed in seeds:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                w, b, _ = _train(x, y, HYPERPARAMETER_BUDGET_EPOCHS, batch_size, lr, 0.9, seed)
        except ValueError:  # the loss saw inf or NaN: the run diverged
            accuracies.append(0.0)
            continue
        accuracies.append(F.accuracy(x_val @ w + b, y_val))
    accuracy = float(np.mean(accuracies))
    fraction = next((share for threshold, share in _ACCURACY_TIERS if accuracy >= threshold), 0.0)
    runs = f"{len(seeds)} runs" if len(seeds) > 1 else "1 run"
    reached = (
        f"{name}() -> learning rate {lr:g}, batch size {batch_size}: validation accuracy "
        f"{accuracy:.3f} after {HYPERPARAMETER_BUDGET_EPOCHS} epoch ({runs})"
    )
    diverged = "; a run diverged (the loss became inf or NaN): the learning rate is too large" * (
        0.0 in accuracies
    )
    if fraction == 0:
        raise AssertionError(f"{reached}, below {_ACCURACY_TIERS[-1][0]:.2f}{diverged}")
    verdict = (
        "full marks"
        if fraction == 1
        else f"{fraction:.0%} of the marks (full marks from {_ACCURACY_TIERS[0][0]:.2f}: "
        "try another learning rate or batch size)"
    )
    print(f"{reached}: {verdict}{diverged}")
    return fraction
