"""Optimiser steps and initialiser statistics against hand-worked values."""

import numpy as np
import pytest

from cnncourse.nn import init
from cnncourse.nn.optim import SGD, Adam, Momentum, get_optimizer


def test_sgd_step():
    p = {"w": np.array([1.0, -1.0])}
    SGD(0.1).step(p, {"w": np.array([2.0, -4.0])})
    np.testing.assert_allclose(p["w"], [0.8, -0.6])


def test_momentum_two_steps():
    p = {"w": np.array([1.0])}
    opt = Momentum(lr=0.1, momentum=0.9)
    opt.step(p, {"w": np.array([1.0])})  # v = -0.1, w = 0.9
    opt.step(p, {"w": np.array([1.0])})  # v = 0.9 * -0.1 - 0.1 = -0.19, w = 0.71
    np.testing.assert_allclose(p["w"], [0.71])


def test_adam_first_step_is_lr_times_sign():
    # After one step m_hat = g and v_hat = g**2, so the step is lr * g / (|g| + eps).
    p = {"w": np.array([1.0, 1.0, 1.0])}
    Adam(lr=0.01, eps=0.0).step(p, {"w": np.array([5.0, -0.001, 300.0])})
    np.testing.assert_allclose(p["w"], [0.99, 1.01, 0.99])


def test_adam_second_step_hand_worked():
    p = {"w": np.array([0.0])}
    opt = Adam(lr=0.1, beta1=0.5, beta2=0.5, eps=0.0)
    opt.step(p, {"w": np.array([1.0])})  # w = -0.1
    opt.step(p, {"w": np.array([3.0])})
    # m = 0.5*0.5 + 0.5*3 = 1.75, m_hat = 1.75 / 0.75; v = 0.5*0.5 + 0.5*9 = 4.75, v_hat = 4.75/0.75
    expected = -0.1 - 0.1 * (1.75 / 0.75) / np.sqrt(4.75 / 0.75)
    np.testing.assert_allclose(p["w"], [expected])


def test_adam_minimises_a_quadratic():
    p = {"w": np.array([5.0, -3.0])}
    opt = Adam(lr=0.1)
    for _ in range(500):
        opt.step(p, {"w": 2 * p["w"]})
    np.testing.assert_allclose(p["w"], [0.0, 0.0], atol=1e-3)


def test_optimizer_lookup_and_missing_gradients():
    assert isinstance(get_optimizer("adam"), Adam)
    with pytest.raises(KeyError, match="no gradient for parameters"):
        SGD(0.1).step({"a": np.zeros(1)}, {})


def test_fans_follow_keras():
    assert init.fans((100, 10)) == (100, 10)
    assert init.fans((3, 3, 16, 32)) == (144, 288)


@pytest.mark.parametrize(
    ("fn", "shape", "expected_std"),
    [
        (init.he_normal, (3, 3, 64, 128), np.sqrt(2 / 576)),
        (init.he_uniform, (256, 512), np.sqrt(2 / 256)),
        (init.glorot_uniform, (256, 512), np.sqrt(2 / (256 + 512))),
        (init.glorot_normal, (3, 3, 32, 64), np.sqrt(2 / (288 + 576))),
    ],
)
def test_initialiser_spread(fn, shape, expected_std):
    w = fn(shape, rng=0)
    assert w.shape == shape and w.dtype == np.float32
    assert w.std() == pytest.approx(expected_std, rel=0.03)
    assert abs(w.mean()) < 0.05 * expected_std * 10
    np.testing.assert_array_equal(w, fn(shape, rng=0))  # seeded


def test_glorot_uniform_limit():
    w = init.glorot_uniform((10, 20), rng=1)
    assert np.abs(w).max() <= np.sqrt(6 / 30)


def test_he_keeps_relu_activations_from_vanishing():
    """Through 20 ReLU layers He keeps the signal's scale; a tiny std makes it vanish."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 256))
    he, small = x, x
    for layer in range(20):
        he = np.maximum(he @ init.he_normal((256, 256), rng=layer, dtype=np.float64), 0)
        small = np.maximum(small @ (0.01 * rng.standard_normal((256, 256))), 0)
    assert 0.3 < np.sqrt((he**2).mean()) < 3
    assert np.sqrt((small**2).mean()) < 1e-10
