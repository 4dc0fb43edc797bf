"""Optimisers that update parameter arrays in place: SGD, Momentum and Adam.

Each ``step(params, grads)`` takes two dicts with the same keys (``"0.w"``, ``"0.b"``, ...)
and keeps per-parameter state (velocities, moments) under those keys.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Base class: validates the learning rate and walks the parameter dicts."""

    def __init__(self, lr: float = 0.01):
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number; got {lr}")
        self.lr = float(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.iterations = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from ``grads``."""
        missing = params.keys() - grads.keys()
        if missing:
            raise KeyError(f"no gradient for parameters {sorted(missing)}")
        self.iterations += 1
        for key, p in params.items():
            self.update(key, p, grads[key])

    def update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    def update(self, key, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu * v - lr * g; p += v`` (Nesterov's look-ahead optional)."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}")
        self.momentum, self.nesterov = momentum, nesterov

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

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7):
        super().__init__(lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1); got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, key, p, g):
        s = self.state.setdefault(key, {"m": np.zeros_like(p), "v": np.zeros_like(p)})
        t = self.iterations
        s["m"] = self.beta1 * s["m"] + (1 - self.beta1) * g
        s["v"] = self.beta2 * s["v"] + (1 - self.beta2) * g * g
        m_hat = s["m"] / (1 - self.beta1**t)
        v_hat = s["v"] / (1 - self.beta2**t)
        p -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name_or_obj) -> Optimizer:
    """An Optimizer from a name (``"adam"``) with default settings, or the object itself."""
    if isinstance(name_or_obj, Optimizer):
        return name_or_obj
    if isinstance(name_or_obj, str) and name_or_obj.lower() in OPTIMIZERS:
        cls = OPTIMIZERS[name_or_obj.lower()]
        return cls()
    raise ValueError(f"optimizer must be an Optimizer or one of {sorted(OPTIMIZERS)}; got {name_or_obj!r}")
