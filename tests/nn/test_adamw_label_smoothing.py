"""AdamW's decoupled weight decay and label smoothing in the cross-entropy, against
hand-worked values; the Keras comparisons are in tests/keras/test_training_practice.py."""

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.nn import functional as F
from cnncourse.nn.gradcheck import check_gradients
from cnncourse.nn.optim import AdamW, get_optimizer
from cnncourse.nn.schedules import StepDecay


def test_adamw_single_step_hand_worked():
    # Decay first: 1 - lr * wd * 1 = 1 - 0.1 * 0.5 = 0.95; then Adam's first step, lr * sign(g).
    p = {"w": np.array([1.0, -2.0])}
    AdamW(lr=0.1, weight_decay=0.5, eps=0.0).step(p, {"w": np.array([0.5, 3.0])})
    np.testing.assert_allclose(p["w"], [0.95 - 0.1, -2.0 * 0.95 - 0.1])


def test_adamw_decay_follows_the_scheduled_learning_rate():
    """With no gradient only the decay acts: each step multiplies by 1 - lr_t * wd."""
    p = {"w": np.array([8.0])}
    opt = AdamW(lr=StepDecay(0.1, decay_steps=1, decay_rate=0.5), weight_decay=1.0)
    for _ in range(3):
        opt.step(p, {"w": np.array([0.0])})
    np.testing.assert_allclose(p["w"], [8.0 * 0.9 * 0.95 * 0.975])


def test_adamw_with_zero_decay_is_adam_and_keeps_float32():
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4)).astype(np.float32)
    a, b = {"w": start.copy()}, {"w": start.copy()}
    adam, adamw = nn.Adam(lr=0.01), AdamW(lr=0.01, weight_decay=0.0)
    for _ in range(4):
        g = rng.standard_normal((3, 4)).astype(np.float32)
        adam.step(a, {"w": g})
        adamw.step(b, {"w": g})
    np.testing.assert_array_equal(a["w"], b["w"])
    assert b["w"].dtype == np.float32


def test_adamw_lookup_config_and_errors():
    opt = get_optimizer("adamw")
    assert isinstance(opt, AdamW) and opt.weight_decay == 0.004 and opt.lr == 1e-3  # Keras' defaults
    assert AdamW.from_config(AdamW(0.01, weight_decay=0.1).get_config()).weight_decay == 0.1
    with pytest.raises(ValueError, match=r"weight_decay must be a number >= 0; got -0\.1"):
        AdamW(weight_decay=-0.1)


def test_label_smoothing_hand_worked():
    # probs = softmax([log 2, 0]) = [2/3, 1/3]; s = 0.1, K = 2: targets [0.95, 0.05].
    logits = np.array([[np.log(2.0), 0.0]])
    loss, dlogits = F.softmax_cross_entropy(logits, np.array([0]), label_smoothing=0.1)
    assert loss == pytest.approx(-(0.95 * np.log(2 / 3) + 0.05 * np.log(1 / 3)))
    np.testing.assert_allclose(dlogits, [[2 / 3 - 0.95, 1 / 3 - 0.05]])


def test_label_smoothing_same_for_integer_one_hot_and_zero():
    rng = np.random.default_rng(1)
    logits, y = rng.standard_normal((6, 4)), np.array([0, 3, 1, 1, 2, 0])
    onehot = np.eye(4)[y]
    from_int = F.softmax_cross_entropy(logits, y, label_smoothing=0.2)
    from_onehot = F.softmax_cross_entropy(logits, onehot, label_smoothing=0.2)
    assert from_int[0] == pytest.approx(from_onehot[0])
    np.testing.assert_allclose(from_int[1], from_onehot[1])
    # The smoothed loss is the plain loss on the mixed targets 0.8 * onehot + 0.2 / 4.
    plain = F.softmax_cross_entropy(logits, 0.8 * onehot + 0.05)
    assert from_int[0] == pytest.approx(plain[0])
    assert F.softmax_cross_entropy(logits, y, 0.0)[0] == F.softmax_cross_entropy(logits, y)[0]


@pytest.mark.parametrize("labels", ["integer", "soft"])
def test_label_smoothing_gradient_check(labels):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 5, 7) if labels == "integer" else rng.dirichlet(np.ones(5), 7)

    def forward(logits):
        loss, _ = F.softmax_cross_entropy(logits, y, label_smoothing=0.15)
        return np.array(loss), logits

    def backward(dout, logits):
        return dout * F.softmax_cross_entropy(logits, y, label_smoothing=0.15)[1]

    errors = check_gradients(forward, backward, {"logits": rng.standard_normal((7, 5)) * 3})
    assert errors["logits"] < 1e-7


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan")])
def test_label_smoothing_range(bad):
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=bad)


def test_fit_with_label_smoothing_stops_at_the_smoothed_target():
    """On separable data the plain loss drives the top probability to 1; with smoothing
    s = 0.1 and K = 2 the best the model can do is 1 - s + s/K = 0.95."""
    x = np.array([[1.0, 0.0], [0.0, 1.0]] * 4)
    y = np.array([0, 1] * 4)
    top = {}
    for s in (0.0, 0.1):
        model = nn.Sequential([nn.Dense(2, activation="softmax")], input_shape=(2,), seed=0, dtype=np.float64)
        model.fit(x, y, epochs=400, batch_size=8, optimizer=nn.Adam(0.1), verbose=0, label_smoothing=s)
        top[s] = model.predict(x).max(axis=1)
    assert top[0.0].min() > 0.999
    np.testing.assert_allclose(top[0.1], 0.95, atol=2e-3)
