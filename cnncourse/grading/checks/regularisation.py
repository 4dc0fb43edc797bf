"""Checks of chapter 9: reading a learning curve, L2 weight decay, inverted dropout,
batch normalisation (forward in training and inference mode, backward scored per
gradient) and an early-stopping callback for :class:`cnncourse.nn.Sequential`."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F

from ..checking import (
    Case,
    assert_close,
    check_function,
    learner_facing,
    name_of,
    passed,
    score_backward,
)

__all__ = [
    "check_batchnorm_forward",
    "check_diagnose",
    "check_dropout",
    "check_early_stopping",
    "check_l2_penalty",
    "score_batchnorm_backward",
]


# --------------------------------------------------------------------------- learning curves


def _curve(train: list[float], val: list[float]) -> dict[str, list[float]]:
    return {"loss": [1.0] * len(train), "accuracy": train, "val_loss": [1.0] * len(val), "val_accuracy": val}


def _diagnosis(history) -> str:
    train, val = history["accuracy"][-1], history["val_accuracy"][-1]
    if train - val > 0.1:
        return "overfitting"
    return "underfitting" if train < 0.9 else "good fit"


@learner_facing
def check_diagnose(fn: Callable) -> None:
    """``fn(history)`` -> ``"overfitting"``, ``"underfitting"`` or ``"good fit"`` from the
    last epoch, rule 1 (gap above 0.1) before rule 2 (train below 0.9)."""
    curves = [
        ([0.6, 0.99], [0.55, 0.80], ""),
        ([0.5, 0.7], [0.5, 0.68], ""),
        ([0.8, 0.97], [0.8, 0.95], ""),
        ([0.3, 0.85], [0.3, 0.70], "both rules apply: the first one wins"),
        ([0.95, 0.6], [0.9, 0.58], "only the last epoch counts"),
        ([0.8, 0.9], [0.8, 0.85], "0.9 is not below 0.9"),
    ]
    cases = [
        Case((_curve(t, v),), label=f"accuracy {t}, val_accuracy {v}", note=note) for t, v, note in curves
    ]
    check_function(fn, _diagnosis, cases, name=name_of(fn), check_dtype=False, quiet=True)
    passed(name_of(fn), len(cases), "rule order, last epoch, boundaries")


# --------------------------------------------------------------------------- L2 and dropout


@learner_facing
def check_l2_penalty(fn: Callable) -> None:
    """``fn(w, lam)`` -> ``(lam * sum(w**2) as a float, 2 * lam * w)``."""
    rng = np.random.default_rng(9)
    cases = [
        Case((np.array([[1.0, -2.0], [0.0, 3.0]]), 0.1)),
        Case((rng.standard_normal((3, 3, 2, 4)), 1e-3)),
        Case((rng.standard_normal(7), 0.5)),
    ]
    check_function(fn, F.l2_penalty, cases, name=name_of(fn), outputs=("penalty", "dw"), quiet=True)
    penalty = fn(*copy.deepcopy(cases[0].args))[0]
    if not isinstance(penalty, float):
        raise AssertionError(
            f"{cases[0].describe(name_of(fn), ('w', 'lam'))} -> penalty: expected a float, got "
            f"{type(penalty).__name__} (convert with float(...))"
        )
    passed(name_of(fn), len(cases), "penalty as a float, dw")


def _dropout_hint(got, case: Case) -> str:
    x, rate = case.args[0], case.args[1]
    out = np.asarray(got[0] if isinstance(got, tuple) else got, dtype=np.float64)
    kept = out[out != 0] / x[out != 0]
    if kept.size and np.allclose(kept, 1.0):
        return "scale the values you keep by 1 / (1 - rate)"
    if out.size and abs(np.mean(out != 0) - rate) < 0.05 < abs(rate - 0.5):
        return "keep the values where u >= rate: rate is the probability to drop"
    return ""


@learner_facing
def check_dropout(forward: Callable, backward: Callable) -> None:
    """``forward(x, rate, rng)`` -> ``(out, mask)`` with one ``rng.random(x.shape)`` draw,
    equal to the reference's with the same seed; ``backward(dout, mask)`` -> ``dout * mask``."""
    rng = np.random.default_rng(19)
    cases = [
        Case(
            (rng.standard_normal(shape), rate, np.random.default_rng(seed)),
            label=f"x {shape}, rate={rate}, rng seed {seed}",
        )
        for shape, rate, seed in [((10, 20), 0.4, 3), ((4, 6, 6, 3), 0.5, 7), ((50,), 0.1, 0)]
    ]

    def reference(x, rate, generator):
        out, cache = F.dropout_forward(x, rate, True, generator)
        return out, cache.mask

    check_function(
        forward,
        reference,
        cases,
        name=name_of(forward),
        outputs=("out", "mask"),
        check_dtype=False,
        quiet=True,
        diagnose=_dropout_hint,
    )
    for case in cases:
        _, mask = forward(*copy.deepcopy(case.args))
        dout = rng.standard_normal(case.args[0].shape)
        what = f"{name_of(backward)}(dout {dout.shape}, mask of {case.describe(name_of(forward))})"
        assert_close(backward(dout.copy(), mask), dout * np.asarray(mask), what)
    passed(f"{name_of(forward)} and {name_of(backward)}", 2 * len(cases), "the mask and its scaling")


# --------------------------------------------------------------------------- batch normalisation

_BN_ARGS = ("x", "gamma", "beta", "running_mean", "running_var")


def _bn_cases() -> list[Case]:
    """Inputs ``x, gamma, beta, running_mean, running_var`` with the mode and momentum."""
    rng = np.random.default_rng(29)

    def case(shape, dtype=np.float64, **kwargs):
        c = shape[-1]
        x = (rng.standard_normal(shape) * 2.0 + 1.5).astype(dtype)
        params = [
            rng.standard_normal(c) + 1.0,
            rng.standard_normal(c),
            rng.standard_normal(c),
            rng.random(c) + 0.5,
        ]
        return Case((x, *(p.astype(dtype) for p in params)), kwargs)

    return [
        case((6, 4), training=True),
        case((3, 5, 5, 2), training=True, momentum=0.9),
        case((6, 4), training=False),
        case((2, 4, 4, 3), training=False, momentum=0.9),
        case((8, 3), np.float32, training=True),
    ]


def _bn_reference(x, gamma, beta, running_mean, running_var, training=True, momentum=0.99, eps=1e-3):
    out, _ = F.batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    return out, running_mean, running_var


@learner_facing
def check_batchnorm_forward(fn: Callable) -> None:
    """``fn(x, gamma, beta, running_mean, running_var, training, momentum, eps)`` ->
    ``(out, cache)`` and, in training mode, the running statistics updated in place
    (``running = momentum * running + (1 - momentum) * batch``); in inference mode it
    normalises with the running statistics and leaves them as they are. The output keeps
    the input's dtype."""
    name = name_of(fn)
    for case in _bn_cases():
        what = case.describe(name, _BN_ARGS)
        mine_args, ref_args = copy.deepcopy(case.args), copy.deepcopy(case.args)
        try:
            result = fn(*mine_args, **case.kwargs)
        except Exception as exc:
            exc.add_note(f"(raised by {what})")
            raise
        if not isinstance(result, tuple) or len(result) != 2:
            raise AssertionError(f"{what}: expected (out, cache), got {type(result).__name__}")
        expected = _bn_reference(*ref_args, **case.kwargs)
        got = (result[0], mine_args[3], mine_args[4])
        labels = ("out", "running_mean after the call", "running_var after the call")
        for label, g, e in zip(labels, got, expected, strict=True):
            tol = 1e-5 if e.dtype == np.float32 else 1e-7
            assert_close(g, e, f"{what} -> {label}", rtol=tol, atol=tol)
        if np.asarray(result[0]).dtype != case.args[0].dtype:
            raise AssertionError(
                f"{what} -> out: dtype expected {case.args[0].dtype}, got {np.asarray(result[0]).dtype} "
                "(the input's dtype wins)"
            )
        if not np.array_equal(mine_args[0], case.args[0]):
            raise AssertionError(f"{what}: x was changed in place; work on a copy")
    passed(name, len(_bn_cases()), "training and inference mode, running statistics, dtypes")


@learner_facing
def score_batchnorm_backward(forward: Callable, backward: Callable) -> dict[str, float]:
    """Partial credit per gradient of ``backward(dout, cache)`` -> ``dx, dgamma, dbeta``,
    in training and inference mode: ``{"dx": 1.0, "dgamma": 0.5, ...}`` (see
    :func:`.checking.score_backward`: a ``✓`` line for the gradients right in every case,
    the ``✗`` message of the first failure; raises when every gradient is wrong in every
    case)."""
    __tracebackhide__ = True
    cases = [
        Case(
            c.args[:3],
            {"running_mean": c.args[3], "running_var": c.args[4], **c.kwargs},
            label=c.label,
            note=c.note,
        )
        for c in _bn_cases()
        if c.args[0].dtype == np.float64
    ]
    return score_backward(
        forward,
        backward,
        F.batchnorm_forward,
        F.batchnorm_backward,
        cases,
        name_of(backward),
        input_names=("x", "gamma", "beta"),
    )


# --------------------------------------------------------------------------- early stopping


class _RecordingModel:
    """Stands in for a model: one weight array that training changes **in place** every
    epoch (as an optimiser does), ``get_weights``/``set_weights`` and ``stop_training``."""

    def __init__(self):
        self.weights = [np.zeros(3)]
        self.stop_training = False

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, weights):
        for mine, new in zip(self.weights, weights, strict=True):
            mine[...] = new


def _run_callback(make_callback: Callable, val_losses, patience: int) -> tuple[int, float]:
    """Train the recording model for ``val_losses`` epochs with the callback; returns the
    last epoch run and the epoch whose weights the model ends with."""
    model = _RecordingModel()
    callback = make_callback(model, patience)
    if hasattr(callback, "on_train_begin"):
        callback.on_train_begin({})
    last = -1
    for epoch, val_loss in enumerate(val_losses):
        model.weights[0][...] = epoch  # this epoch's training step, in place
        last = epoch
        callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": val_loss, "val_accuracy": 0.5})
        if model.stop_training:
            break
    if hasattr(callback, "on_train_end"):
        callback.on_train_end({})
    return last, float(model.weights[0][0])


class _ReferenceStopping:
    def __init__(self, model, patience):
        self.model, self.patience, self.best, self.wait, self.kept = model, patience, np.inf, 0, None

    def on_epoch_end(self, epoch, logs):
        if logs["val_loss"] < self.best:
            self.best, self.wait = logs["val_loss"], 0
            self.kept = [w.copy() for w in self.model.get_weights()]
        else:
            self.wait += 1
            self.model.stop_training = self.wait >= self.patience

    def on_train_end(self, logs):
        if self.kept is not None:
            self.model.set_weights(self.kept)


@learner_facing
def check_early_stopping(callback_class: Callable) -> None:
    """``callback_class(model, patience)``: stops after ``patience`` epochs in a row
    without a val_loss below the best so far, and ends training with a copy of the best
    epoch's weights."""
    name = name_of(callback_class)
    runs = [
        ([1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6], 3, "a smaller val_loss that is not the best does not count"),
        ([1.0, 0.9, 0.8, 0.7, 0.6], 2, "val_loss improves every epoch"),
        ([0.5, 0.6, 0.5, 0.7, 0.4], 2, "equal to the best is no improvement"),
        ([0.9, 0.7, 0.8, 0.75, 0.72, 0.71, 0.69], 5, ""),
    ]
    for losses, patience, note in runs:
        what = Case((), {"patience": patience}, note=note).describe(name) + f" with val_loss {losses}"
        try:
            got = _run_callback(callback_class, losses, patience)
        except Exception as exc:
            exc.add_note(f"(raised by {what})")
            raise
        stop, best = _run_callback(_ReferenceStopping, losses, patience)
        if got[0] != stop:
            ran = "every epoch" if stop == len(losses) - 1 else f"epochs 0 to {stop}"
            raise AssertionError(f"{what}: training should run {ran}; it ran epochs 0 to {got[0]}")
        if got[1] != best:
            raise AssertionError(
                f"{what}: the model should end with the weights of epoch {best:.0f} (the best "
                f"val_loss); it ends with those of epoch {got[1]:.0f} (keep a copy: training "
                "changes the arrays in place)"
            )
    passed(name, len(runs), "when it stops, which weights it restores")
