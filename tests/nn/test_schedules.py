"""Learning-rate schedules against hand-worked values, and optimisers driven by them."""

import math

import numpy as np
import pytest

from cnncourse.nn import SGD, Adam
from cnncourse.nn.schedules import CosineDecay, LinearWarmup, StepDecay, deserialize, serialize


def test_step_decay_drops_by_the_rate_every_decay_steps():
    schedule = StepDecay(0.1, decay_steps=3, decay_rate=0.5)
    # steps 0-2: 0.1; 3-5: 0.05; 6-8: 0.025; 9: 0.0125
    assert [schedule(t) for t in range(10)] == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025] * 3 + [0.0125])


def test_cosine_decay_hand_worked_values():
    schedule = CosineDecay(0.1, decay_steps=100, alpha=0.2)  # floor = 0.2 * 0.1 = 0.02
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(50) == pytest.approx((0.1 + 0.02) / 2)  # cos(pi/2) = 0: half-way between
    # a quarter of the way: 0.02 + 0.08 * 0.5 * (1 + cos(pi/4))
    assert schedule(25) == pytest.approx(0.02 + 0.08 * 0.5 * (1 + math.sqrt(0.5)))
    assert schedule(100) == pytest.approx(0.02)
    assert schedule(10_000) == pytest.approx(0.02)  # stays at the floor


def test_linear_warmup_climbs_then_hands_over_to_the_schedule():
    schedule = LinearWarmup(CosineDecay(0.01, decay_steps=900), warmup_steps=100)
    assert schedule(0) == 0.0
    assert schedule(25) == pytest.approx(0.0025)
    assert schedule(100) == pytest.approx(0.01)  # the cosine's step 0
    assert schedule(550) == pytest.approx(0.005)  # the cosine's half-way
    assert schedule(1000) == pytest.approx(0.0)
    constant = LinearWarmup(0.1, warmup_steps=4, initial_learning_rate=0.02)
    assert [constant(t) for t in range(6)] == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1, 0.1])


def test_cosine_decay_warmup_arguments_equal_linear_warmup_around_cosine():
    """Keras' CosineDecay(warmup_target=..., warmup_steps=...) is LinearWarmup(CosineDecay)."""
    keras_style = CosineDecay(0.001, decay_steps=40, alpha=0.1, warmup_target=0.05, warmup_steps=10)
    wrapped = LinearWarmup(
        CosineDecay(0.05, decay_steps=40, alpha=0.1), warmup_steps=10, initial_learning_rate=0.001
    )
    for step in range(60):
        assert keras_style(step) == pytest.approx(wrapped(step), abs=1e-15)
    assert (
        keras_style(0) == 0.001
        and keras_style(10) == pytest.approx(0.05)
        and keras_style(50) == pytest.approx(0.005)
    )


def test_repr_shows_the_arguments_that_differ_from_the_defaults():
    assert (
        repr(StepDecay(0.1, 100, 0.5))
        == "StepDecay(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5)"
    )
    assert repr(LinearWarmup(CosineDecay(0.01, 900), 100)) == (
        "LinearWarmup(CosineDecay(initial_learning_rate=0.01, decay_steps=900), warmup_steps=100)"
    )
    assert repr(CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=3)) == (
        "CosineDecay(initial_learning_rate=0.0, decay_steps=10, warmup_target=0.1, warmup_steps=3)"
    )


@pytest.mark.parametrize(
    "schedule",
    [
        StepDecay(0.1, 7, 0.3),
        CosineDecay(0.02, 50, alpha=0.05, warmup_target=0.1, warmup_steps=5),
        LinearWarmup(StepDecay(0.1, 10), 3, 0.01),
        LinearWarmup(0.3, 2),
    ],
    ids=repr,
)
def test_serialize_round_trip(schedule):
    data = serialize(schedule)
    assert data["class_name"] == type(schedule).__name__
    again = deserialize(data)
    assert again == schedule
    assert [again(t) for t in range(30)] == [schedule(t) for t in range(30)]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StepDecay(0.0, 10), r"initial_learning_rate must be > 0; got 0\.0"),
        (lambda: StepDecay(0.1, 0), "decay_steps must be a whole number >= 1; got 0"),
        (lambda: StepDecay(0.1, 2.5), "decay_steps must be a whole number >= 1; got 2.5"),
        (lambda: StepDecay(0.1, 10, decay_rate=2), r"decay_rate must be in \(0, 1\]"),
        (lambda: CosineDecay(float("nan"), 10), "initial_learning_rate must be a finite number; got nan"),
        (
            lambda: CosineDecay(0.1, 10, alpha=1.5),
            r"alpha \(the floor as a fraction of the peak\) must be in \[0, 1\]",
        ),
        (lambda: CosineDecay(0.1, 10, warmup_steps=5), "warmup_steps=5 needs warmup_target"),
        (
            lambda: LinearWarmup(CosineDecay(0.1, 10), warmup_steps=-1),
            "warmup_steps must be a whole number >= 1",
        ),
        (lambda: LinearWarmup(0.1, 5, initial_learning_rate=-0.1), "initial_learning_rate must be >= 0"),
    ],
)
def test_bad_arguments_say_what_was_expected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_steps_and_unknown_schedules():
    with pytest.raises(ValueError, match="step must be a whole number >= 0; got -1"):
        StepDecay(0.1, 10)(-1)
    with pytest.raises(TypeError, match="schedule must be a LearningRateSchedule"):
        LinearWarmup(lambda step: 0.1, 10)
    with pytest.raises(TypeError, match="a plain function or a class of your own cannot be stored"):
        serialize(lambda step: 0.1)
    with pytest.raises(ValueError, match="not a saved schedule"):
        deserialize({"class_name": "os.system", "config": {}})


def test_optimizer_asks_the_schedule_with_the_number_of_steps_taken():
    """As in Keras, the first update uses schedule(0), the second schedule(1)..."""
    p = {"w": np.array([0.0])}
    opt = SGD(lr=StepDecay(0.1, decay_steps=2, decay_rate=0.5))
    assert opt.lr == 0.1 and opt.iterations == 0
    used = []
    for _ in range(5):
        opt.step(p, {"w": np.array([-1.0])})  # p += lr
        used.append(opt.lr)
    assert used == [0.1, 0.1, 0.05, 0.05, 0.025]
    np.testing.assert_allclose(p["w"], [0.325])
    assert repr(opt) == "SGD(lr=StepDecay(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5))"


def test_optimizer_takes_any_function_of_the_step_and_checks_what_it_gives():
    p = {"w": np.array([1.0])}
    opt = Adam(lr=lambda step: 0.1 / (step + 1), eps=0.0)
    opt.step(p, {"w": np.array([2.0])})  # Adam's first step is lr * sign(g) = 0.1
    opt.step(p, {"w": np.array([2.0])})  # constant gradient: m_hat / sqrt(v_hat) = 1, lr = 0.05
    np.testing.assert_allclose(p["w"], [0.85])
    bad = SGD(lr=lambda step: 0.1 if step < 1 else float("inf"))
    bad.step(p, {"w": np.array([1.0])})
    with pytest.raises(ValueError, match="gives at step 1 must be a finite number; got inf"):
        bad.step(p, {"w": np.array([1.0])})


def test_optimizer_config_round_trip_keeps_the_schedule():
    opt = Adam(lr=LinearWarmup(CosineDecay(0.01, 90), 10), beta1=0.8)
    config = opt.get_config()
    assert config["lr"]["class_name"] == "LinearWarmup" and config["beta1"] == 0.8
    again = Adam.from_config(config)
    assert again.learning_rate == opt.learning_rate and again.beta1 == 0.8
    with pytest.raises(ValueError, match="learning rate must be a positive number; got 0"):
        SGD(lr=0)
