"""Optimisers that update parameter arrays in place: SGD, Momentum, Adam and AdamW.

Each ``step(params, grads)`` takes two dicts with the same keys (``"0.w"``, ``"0.b"``, ...)
and keeps per-parameter state (velocities, moments) under those keys. The learning rate
is a number or a schedule (see :mod:`cnncourse.nn.schedules`).
"""

from __future__ import annotations

import numpy as np

from . import schedules


class Optimizer:
    """Base class: holds the learning rate and walks the parameter dicts.

    lr: a positive number, or a schedule ``lr(step)`` (a
    :class:`~cnncourse.nn.schedules.LearningRateSchedule`, or any function of the number
    of steps already taken), asked before every step. ``learning_rate`` keeps what was
    given; ``lr`` is the number the latest step used (before the first step, the one it
    will use); ``iterations`` counts the steps taken.
    """

    def __init__(self, lr=0.01):
        self.learning_rate = lr
        if callable(lr):
            self.lr = self._scheduled_lr(0)
        else:
            if not np.isfinite(lr) or lr <= 0:
                raise ValueError(f"learning rate must be a positive number; got {lr}")
            self.learning_rate = self.lr = float(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.iterations = 0

    def _scheduled_lr(self, step: int) -> float:
        return schedules.as_rate(
            self.learning_rate(step),
            f"the learning rate that {self.learning_rate!r} gives at step {step}",
            allow_zero=True,
        )

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from ``grads``."""
        missing = params.keys() - grads.keys()
        if missing:
            raise KeyError(f"no gradient for parameters {sorted(missing)}")
        if callable(self.learning_rate):
            self.lr = self._scheduled_lr(self.iterations)
        self.iterations += 1
        for key, p in params.items():
            self.update(key, p, grads[key])

    def update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The hyperparameters as plain data; ``type(self).from_config(config)`` builds
        the same optimiser (without its state). A schedule is stored with
        :func:`~cnncourse.nn.schedules.serialize`, so it must be one of the course's."""
        lr = self.learning_rate
        return {"lr": schedules.serialize(lr) if callable(lr) else lr}

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("lr"), dict):
            config["lr"] = schedules.deserialize(config["lr"])
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.learning_rate!r})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    def update(self, key, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu * v - lr * g; p += v`` (Nesterov's look-ahead optional)."""

    def __init__(self, lr=0.01, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}")
        self.momentum, self.nesterov = momentum, nesterov

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

    def update(self, key, p, g):
        v = self.state.setdefault(key, {"v": np.zeros_like(p)})["v"]
        v *= self.momentum
        v -= self.lr * g
        if self.nesterov:
            p += self.momentum * v - self.lr * g
        else:
            p += v


class Adam(Optimizer):
    """Adam: per-parameter steps from bias-corrected first and second moment estimates.

    ``m = b1*m + (1-b1)*g``; ``v = b2*v + (1-b2)*g**2``;
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1**t)``.
    Defaults are Keras' (eps = 1e-7).
    """

    def __init__(self, lr=1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7):
        super().__init__(lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1); got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def get_config(self):
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def update(self, key, p, g):
        s = self.state.setdefault(key, {"m": np.zeros_like(p), "v": np.zeros_like(p)})
        t = self.iterations
        s["m"] = self.beta1 * s["m"] + (1 - self.beta1) * g
        s["v"] = self.beta2 * s["v"] + (1 - self.beta2) * g * g
        m_hat = s["m"] / (1 - self.beta1**t)
        v_hat = s["v"] / (1 - self.beta2**t)
        p -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as Keras' ``AdamW``.

    Before each Adam step every parameter shrinks towards zero by a fraction of itself:
    ``p -= lr * weight_decay * p``; then ``p -= lr * m_hat / (sqrt(v_hat) + eps)``.
    The decay is kept out of the gradient: an L2 penalty would be divided by Adam's
    ``sqrt(v_hat)`` and so barely shrink the weights whose gradients are large, while
    here every weight decays at the same rate. As in Keras (and PyTorch), the decay is
    multiplied by the current learning rate, so a schedule scales it too, and every
    parameter decays, biases included. Defaults are Keras' (``weight_decay=0.004``).
    """

    def __init__(
        self,
        lr=1e-3,
        weight_decay: float = 0.004,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-7,
    ):
        super().__init__(lr, beta1, beta2, eps)
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay must be a number >= 0; got {weight_decay}")
        self.weight_decay = float(weight_decay)

    def update(self, key, p, g):
        p *= 1 - self.lr * self.weight_decay
        super().update(key, p, g)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam, "adamw": AdamW}


def get_optimizer(name_or_obj) -> Optimizer:
    """An Optimizer from a name (``"adam"``) with default settings, or the object itself."""
    if isinstance(name_or_obj, Optimizer):
        return name_or_obj
    if isinstance(name_or_obj, str) and name_or_obj.lower() in OPTIMIZERS:
        cls = OPTIMIZERS[name_or_obj.lower()]
        return cls()
    raise ValueError(f"optimizer must be an Optimizer or one of {sorted(OPTIMIZERS)}; got {name_or_obj!r}")
