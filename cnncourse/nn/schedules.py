"""Learning-rate schedules: the learning rate as a function of the optimiser's step.

A schedule is a callable ``schedule(step) -> lr``, where ``step`` counts the updates
already made (0 for the first one). Pass one as an optimiser's ``lr`` and the optimiser
asks it for a new learning rate before every step::

    >>> from cnncourse.nn import Adam
    >>> from cnncourse.nn.schedules import CosineDecay, LinearWarmup
    >>> schedule = LinearWarmup(CosineDecay(1e-2, decay_steps=900), warmup_steps=100)
    >>> [round(schedule(step), 5) for step in (0, 50, 100, 550, 1000)]
    [0.0, 0.005, 0.01, 0.005, 0.0]
    >>> optimizer = Adam(lr=schedule)

The names and arguments follow ``keras.optimizers.schedules``, so each line maps onto
Keras:

- :class:`StepDecay` is ``ExponentialDecay(lr0, decay_steps, decay_rate, staircase=True)``;
- :class:`CosineDecay` is Keras' ``CosineDecay``, warm-up arguments included;
- :class:`LinearWarmup` (wrapping any schedule) has no Keras class; Keras' ``CosineDecay``
  with ``warmup_target`` and ``warmup_steps`` is the same as ``LinearWarmup`` around a
  ``CosineDecay`` (see :class:`CosineDecay`).

Every schedule has ``get_config()``, and :func:`serialize` / :func:`deserialize` turn it
into plain JSON-friendly data and back (what a checkpoint stores).
"""

from __future__ import annotations

import inspect
import math
import numbers

__all__ = [
    "SCHEDULES",
    "CosineDecay",
    "LearningRateSchedule",
    "LinearWarmup",
    "StepDecay",
    "as_rate",
    "deserialize",
    "serialize",
]


def _real(value, name: str) -> float:
    """``value`` as a float if it is a finite real number (not a bool), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def as_rate(value, name: str, allow_zero: bool = False) -> float:
    """``value`` as a float learning rate: finite and positive (or zero if allowed)."""
    value = _real(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}; got {value!r}")
    return value


def _steps(value, name: str, allow_zero: bool = False) -> int:
    """``value`` as a whole number of steps (>= 1, or >= 0 if allowed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < (0 if allow_zero else 1):
        bound = ">= 0" if allow_zero else ">= 1"
        raise ValueError(f"{name} must be a whole number {bound}; got {value!r}")
    return int(value)


def _linear(start: float, end: float, fraction: float) -> float:
    """The point ``fraction`` of the way from ``start`` to ``end``."""
    return start + (end - start) * fraction


class LearningRateSchedule:
    """Base class: a subclass implements :meth:`lr_at` and :meth:`get_config`.

    Calling a schedule checks the step (a whole number >= 0) and returns ``lr_at(step)``
    as a Python float. ``repr`` shows the configuration, e.g.
    ``StepDecay(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5)`` (arguments
    left at their defaults are not shown).
    """

    def __call__(self, step) -> float:
        return float(self.lr_at(_steps(step, "step", allow_zero=True)))

    def lr_at(self, step: int) -> float:
        """The learning rate for the update after ``step`` earlier updates."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor's arguments, as plain data (``type(self)(**config)`` rebuilds it)."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self):
        # Arguments left at their defaults are not shown, as in a call one would type.
        defaults = {k: p.default for k, p in inspect.signature(type(self)).parameters.items()}
        shown = {k: v for k, v in self.get_config().items() if defaults.get(k, inspect.Parameter.empty) != v}
        args = ", ".join(f"{key}={value!r}" for key, value in shown.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = None  # equal configs compare equal; schedules are not dict keys


class StepDecay(LearningRateSchedule):
    """Multiply the learning rate by ``decay_rate`` every ``decay_steps`` steps:

    ``lr(step) = initial_learning_rate * decay_rate ** floor(step / decay_steps)``.

    ``StepDecay(0.1, 1000, 0.5)`` gives 0.1 for steps 0-999, 0.05 for 1000-1999, 0.025...
    Keras: ``keras.optimizers.schedules.ExponentialDecay(0.1, 1000, 0.5, staircase=True)``.
    To drop once per epoch, use ``decay_steps = ceil(N / batch_size)`` (batches per epoch).
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float = 0.1):
        self.initial_learning_rate = as_rate(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.decay_rate = _real(decay_rate, "decay_rate")
        if not 0 < self.decay_rate <= 1:
            raise ValueError(f"decay_rate must be in (0, 1] (the factor at each drop); got {decay_rate!r}")

    def lr_at(self, step):
        return self.initial_learning_rate * self.decay_rate ** (step // self.decay_steps)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
        }


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the peak learning rate down to ``alpha`` times the peak, after
    an optional linear warm-up; Keras' ``CosineDecay``, argument for argument.

    Without warm-up (``warmup_target=None``) the peak is ``initial_learning_rate`` and
    ``lr(step) = peak * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``
    with ``s = min(step, decay_steps)``: the peak at step 0, ``peak * (1 + alpha) / 2``
    half-way, and the floor ``alpha * peak`` from ``decay_steps`` on.

    With ``warmup_target`` and ``warmup_steps``, the rate first climbs linearly from
    ``initial_learning_rate`` (often 0) to the peak ``warmup_target`` over
    ``warmup_steps`` steps, then decays as above over the next ``decay_steps``; this is
    ``LinearWarmup(CosineDecay(warmup_target, decay_steps, alpha), warmup_steps,
    initial_learning_rate)``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        warming = warmup_target is not None
        self.initial_learning_rate = as_rate(
            initial_learning_rate, "initial_learning_rate", allow_zero=warming
        )
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.alpha = _real(alpha, "alpha")
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha (the floor as a fraction of the peak) must be in [0, 1]; got {alpha!r}")
        self.warmup_target = as_rate(warmup_target, "warmup_target") if warming else None
        self.warmup_steps = _steps(warmup_steps, "warmup_steps", allow_zero=True)
        if self.warmup_steps and not warming:
            raise ValueError(f"warmup_steps={warmup_steps} needs warmup_target (the peak learning rate)")

    def lr_at(self, step):
        peak = self.initial_learning_rate if self.warmup_target is None else self.warmup_target
        if step < self.warmup_steps:
            return _linear(self.initial_learning_rate, peak, step / self.warmup_steps)
        fraction = min(step - self.warmup_steps, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * fraction))
        return peak * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class LinearWarmup(LearningRateSchedule):
    """A linear climb from ``initial_learning_rate`` to where ``schedule`` starts, over
    ``warmup_steps`` steps; then ``schedule``, shifted so that its step 0 comes right
    after the warm-up.

    ``lr(step) = initial + (schedule(0) - initial) * step / warmup_steps`` for
    ``step < warmup_steps``, else ``schedule(step - warmup_steps)``. ``schedule`` may be
    a plain number: a constant rate after the warm-up. A short warm-up keeps the first,
    badly informed updates (Adam's moment estimates start from zero) small.
    """

    def __init__(self, schedule, warmup_steps: int, initial_learning_rate: float = 0.0):
        if isinstance(schedule, numbers.Real) and not isinstance(schedule, bool):
            schedule = as_rate(schedule, "schedule (a constant learning rate)")
        elif not isinstance(schedule, LearningRateSchedule):
            raise TypeError(
                "schedule must be a LearningRateSchedule (StepDecay, CosineDecay...) or a "
                f"number; got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.warmup_steps = _steps(warmup_steps, "warmup_steps")
        self.initial_learning_rate = as_rate(initial_learning_rate, "initial_learning_rate", allow_zero=True)

    def _after(self, step: int) -> float:
        return self.schedule if isinstance(self.schedule, float) else self.schedule(step)

    def lr_at(self, step):
        if step < self.warmup_steps:
            return _linear(self.initial_learning_rate, self._after(0), step / self.warmup_steps)
        return self._after(step - self.warmup_steps)

    def get_config(self):
        inner = self.schedule if isinstance(self.schedule, float) else serialize(self.schedule)
        return {
            "schedule": inner,
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("schedule"), dict):
            config["schedule"] = deserialize(config["schedule"])
        return cls(**config)

    def __repr__(self):
        start = (
            f", initial_learning_rate={self.initial_learning_rate!r}" if self.initial_learning_rate else ""
        )
        return f"LinearWarmup({self.schedule!r}, warmup_steps={self.warmup_steps}{start})"


SCHEDULES = {cls.__name__: cls for cls in (StepDecay, CosineDecay, LinearWarmup)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": {...}}``: plain data that :func:`deserialize` reads."""
    if type(schedule) not in SCHEDULES.values():
        raise TypeError(
            f"only the schedules {sorted(SCHEDULES)} can be saved; got {type(schedule).__name__} "
            "(a plain function or a class of your own cannot be stored in a checkpoint)"
        )
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(data: dict) -> LearningRateSchedule:
    """The schedule that :func:`serialize` described."""
    if not isinstance(data, dict) or data.get("class_name") not in SCHEDULES:
        raise ValueError(
            f"not a saved schedule (expected a class_name among {sorted(SCHEDULES)}); got {data!r}"
        )
    return SCHEDULES[data["class_name"]].from_config(data.get("config", {}))
