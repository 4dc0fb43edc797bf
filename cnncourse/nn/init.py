"""Weight initialisers: He (for ReLU networks) and Glorot (Keras' default).

Fans follow Keras: a dense kernel ``(D_in, D_out)`` has fan_in ``D_in``; a conv kernel
``(KH, KW, C_in, C_out)`` has fan_in ``KH*KW*C_in`` and fan_out ``KH*KW*C_out``.
"""

from __future__ import annotations

import numpy as np


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a dense ``(D_in, D_out)`` or conv ``(KH, KW, C_in, C_out)`` kernel."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"a kernel shape needs at least 2 dimensions; got {shape}")
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def he_normal(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """Normal with std ``sqrt(2 / fan_in)``: keeps activations' variance through ReLUs."""
    fan_in, _ = fans(shape)
    rng = np.random.default_rng(rng)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def he_uniform(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """Uniform on ``[-l, l]`` with ``l = sqrt(6 / fan_in)`` (same variance as he_normal)."""
    fan_in, _ = fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return np.random.default_rng(rng).uniform(-limit, limit, shape).astype(dtype)


def glorot_uniform(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """Uniform on ``[-l, l]`` with ``l = sqrt(6 / (fan_in + fan_out))`` (Keras' default)."""
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(rng).uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """Normal with std ``sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return (np.random.default_rng(rng).standard_normal(shape) * std).astype(dtype)


INITIALIZERS = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
}


def get_initializer(name_or_fn):
    """Look up an initialiser by name, or pass a callable ``(shape, rng, dtype)`` through."""
    if callable(name_or_fn):
        return name_or_fn
    try:
        return INITIALIZERS[name_or_fn]
    except KeyError:
        raise ValueError(
            f"unknown initializer {name_or_fn!r}; choose one of {sorted(INITIALIZERS)}"
        ) from None
