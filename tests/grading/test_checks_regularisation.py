"""The chapter 9 checks (cnncourse/grading/checks/regularisation.py): the references pass,
and each classic mistake fails with a message that names the call and the first wrong value."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse.grading import checks
from cnncourse.nn import functional as F


def _dropout_forward(x, rate, rng):
    out, cache = F.dropout_forward(x, rate, True, rng)
    return out, cache.mask


def _dropout_backward(dout, mask):
    return dout * mask


class _Stopping:
    """An early-stopping callback with switches for the classic mistakes."""

    def __init__(self, model, patience, copy=True, restore=True, against_best=True):
        self.model, self.patience = model, patience
        self.copy, self.restore, self.against_best = copy, restore, against_best
        self.best, self.wait, self.kept = np.inf, 0, None

    def on_epoch_end(self, epoch, logs):
        if logs["val_loss"] < self.best:
            self.best, self.wait = logs["val_loss"], 0
            weights = self.model.get_weights()
            self.kept = [w.copy() for w in weights] if self.copy else weights
            return
        self.wait += 1
        if not self.against_best:
            self.best = logs["val_loss"]
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs):
        if self.restore and self.kept is not None:
            self.model.set_weights(self.kept)


class NoCopy(_Stopping):
    def __init__(self, model, patience):
        super().__init__(model, patience, copy=False)


class NoRestore(_Stopping):
    def __init__(self, model, patience):
        super().__init__(model, patience, restore=False)


class AgainstLastEpoch(_Stopping):
    def __init__(self, model, patience):
        super().__init__(model, patience, against_best=False)


def test_the_references_pass_every_check(capsys):
    checks.check_l2_penalty(F.l2_penalty)
    checks.check_dropout(_dropout_forward, _dropout_backward)
    checks.check_batchnorm_forward(F.batchnorm_forward)
    scores = checks.score_batchnorm_backward(F.batchnorm_forward, F.batchnorm_backward)
    checks.check_early_stopping(_Stopping)
    assert scores == {"dx": 1.0, "dgamma": 1.0, "dbeta": 1.0}
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5  # one line per check; the backward scores print one for all gradients
    assert all(line.startswith("\u2713 ") for line in lines)


def test_dropout_without_scaling_gets_the_scaling_hint():
    def unscaled(x, rate, rng):
        mask = (rng.random(x.shape) >= rate).astype(x.dtype)
        return x * mask, mask

    with pytest.raises(AssertionError) as info:
        checks.check_dropout(unscaled, _dropout_backward)
    message = str(info.value)
    assert message.startswith("unscaled(x (10, 20), rate=0.4, rng seed 3) -> out: ")
    assert "Hint: scale the values you keep by 1 / (1 - rate)" in message


def test_a_penalty_that_is_an_array_is_named():
    with pytest.raises(AssertionError, match=r"-> penalty: expected a float, got ndarray"):
        checks.check_l2_penalty(lambda w, lam: (np.asarray(lam * np.sum(w * w)), 2 * lam * w))


def test_batchnorm_forward_that_rebinds_the_running_statistics_is_caught():
    def rebinding(x, gamma, beta, running_mean, running_var, training=True, momentum=0.99, eps=1e-3):
        out, cache = F.batchnorm_forward(
            x, gamma, beta, running_mean.copy(), running_var.copy(), training, momentum, eps
        )
        return out, cache

    with pytest.raises(AssertionError) as info:
        checks.check_batchnorm_forward(rebinding)
    assert "training=True) -> running_mean after the call: 4 of 4 values differ" in str(info.value)


def test_batchnorm_backward_is_scored_per_gradient(capsys):
    def no_statistics_terms(dout, cache):  # dx as in inference mode, always
        inference = F.BatchNormCache(cache.x_hat, cache.gamma, cache.inv_std, False)
        return F.batchnorm_backward(dout, inference)

    scores = checks.score_batchnorm_backward(F.batchnorm_forward, no_statistics_terms)
    assert scores == {"dx": 0.5, "dgamma": 1.0, "dbeta": 1.0}  # right in inference mode only
    out = capsys.readouterr().out
    assert "\u2713 no_statistics_terms: 4 public checks passed (dgamma and dbeta right in every case)" in out
    assert (
        "\u2717 no_statistics_terms: no_statistics_terms(x (6, 4) float64, gamma (4,) float64, "
        "beta (4,) float64" in out
    )
    assert "training=True) -> dx: 24 of 24 values differ" in out


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        (NoCopy, "should end with the weights of epoch 1 (the best val_loss); it ends with those of epoch 4"),
        (
            NoRestore,
            "should end with the weights of epoch 1 (the best val_loss); it ends with those of epoch 4",
        ),
        (AgainstLastEpoch, "training should run epochs 0 to 4; it ran epochs 0 to 6"),
    ],
)
def test_early_stopping_mistakes_are_named(callback, message):
    with pytest.raises(AssertionError) as info:
        checks.check_early_stopping(callback)
    text = str(info.value)
    assert text.startswith(f"{callback.__name__}(patience=3) [a smaller val_loss that is not the best")
    assert message in text
