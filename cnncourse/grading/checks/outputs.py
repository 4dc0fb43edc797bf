"""Checks of chapter 5's whole-network questions: the predicted labels, and the parameter
counts of the chapter's small CNN and of LeNet-5, worked out by arithmetic."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import Case, check_function, learner_facing, name_of, passed

__all__ = ["check_lenet5_param_count", "check_predict", "check_small_model_param_counts"]


@learner_facing
def check_predict(fn: Callable) -> None:
    """``fn(logits)`` -> the index of the largest score along the last axis, as an integer
    array (logits ``(N, K)`` or with more leading axes)."""
    rng = np.random.default_rng(51)
    cases = [
        Case((rng.standard_normal((6, 10)),), label="logits (6, 10) float64"),
        Case((np.array([[0.1, 2.0, -1.0], [5.0, 5.5, 0.0]]),), label="logits [[0.1, 2, -1], [5, 5.5, 0]]"),
        Case((rng.standard_normal((2, 3, 5)),), label="logits (2, 3, 5) float64"),
    ]
    name = name_of(fn)
    check_function(fn, lambda z: np.argmax(z, axis=-1), cases, name=name, check_dtype=False, quiet=True)
    for case in cases:
        got = np.asarray(fn(*case.args))
        if got.dtype.kind not in "iu":
            raise AssertionError(
                f"{case.describe(name)}: expected integer labels, got dtype {got.dtype} "
                "(np.argmax returns integers)"
            )
    passed(name, len(cases), "labels and their integer dtype")


# The chapter's model: (kind, filters or units); pooling and flatten carry no number.
_SMALL_MODEL = (
    ("conv", 32),
    ("pool", 0),
    ("conv", 64),
    ("pool", 0),
    ("conv", 64),
    ("flatten", 0),
    ("dense", 64),
)
_LENET5 = (
    ("conv5", 6),
    ("pool", 0),
    ("conv5", 16),
    ("pool", 0),
    ("flatten", 0),
    ("dense", 120),
    ("dense", 84),
)


def _layer_counts(layers, height, width, channels, n_classes) -> list[int]:
    """Parameters of each layer, then of ``Dense(n_classes)``, on ``(height, width, channels)``."""
    h, w, c = height, width, channels
    features = None
    counts = []
    for kind, size in (*layers, ("dense", n_classes)):
        if kind.startswith("conv"):
            k = 5 if kind == "conv5" else 3
            counts.append(k * k * c * size + size)
            h, w, c = h - k + 1, w - k + 1, size
        elif kind == "pool":
            counts.append(0)
            h, w = h // 2, w // 2
        elif kind == "flatten":
            counts.append(0)
            features = h * w * c
        else:
            counts.append(features * size + size)
            features = size
    return counts


_LAYER_NAMES = (
    "Conv2D(32)",
    "MaxPool(2)",
    "Conv2D(64)",
    "MaxPool(2)",
    "Conv2D(64)",
    "Flatten",
    "Dense(64)",
    "Dense(n_classes)",
)


@learner_facing
def check_small_model_param_counts(fn: Callable) -> None:
    """``fn(height, width, channels, n_classes)`` -> the list of the 8 layers' parameter
    counts, on the defaults and on other input shapes and numbers of classes."""
    name = name_of(fn)
    specs = [(28, 28, 1, 10), (32, 32, 3, 10), (64, 48, 1, 2)]
    for spec in specs:
        what = f"{name}(height={spec[0]}, width={spec[1]}, channels={spec[2]}, n_classes={spec[3]})"
        got = fn(*spec)
        expected = _layer_counts(_SMALL_MODEL, *spec)
        if not isinstance(got, list | tuple) or len(got) != len(expected):
            size = len(got) if isinstance(got, list | tuple) else type(got).__name__
            raise AssertionError(f"{what}: expected a list of {len(expected)} layer counts, got {size}")
        for i, (layer, g, e) in enumerate(zip(_LAYER_NAMES, got, expected, strict=True)):
            if g != e:
                raise AssertionError(f"{what}: layer {i} ({layer}): expected {e} parameters, got {g!r}")
            if not isinstance(g, int | np.integer):
                raise AssertionError(f"{what}: layer {i} ({layer}): expected an int, got {type(g).__name__}")
    passed(name, len(specs), "every layer, three input shapes")


def _lenet5_mistakes() -> dict[int, str]:
    """Totals of classic miscounts of LeNet-5, each with the hint it deserves."""
    total = sum(_layer_counts(_LENET5, 32, 32, 1, 10))
    dense_biases = 120 + 84 + 10
    sizes = "each 5x5 'valid' convolution takes 4 from each side: 32 -> 28 -> 14 -> 10 -> 5"
    return {
        total - dense_biases: "the dense layers' biases are missing (one per unit)",
        total - dense_biases - 6 - 16: "the biases are missing (one per filter or unit)",
        total
        - 5 * 5 * 5 * 16: "the second convolution sees all 6 input channels: 5 * 5 * 6 weights a filter",
        total - 400 * 120 + 16 * 4 * 4 * 120: sizes,
        total - 400 * 120 + 16 * 6 * 6 * 120: sizes,
    }


@learner_facing
def check_lenet5_param_count(fn: Callable) -> None:
    """``fn()`` -> LeNet-5's total number of parameters on 32 x 32 x 1 inputs, an int.
    A failure does not say the total (it would be the answer); it names a classic mistake
    when the number is what that mistake gives."""
    name = name_of(fn)
    got = fn()
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        raise AssertionError(f"{name}(): expected an int, got {type(got).__name__} {got!r}")
    if got != sum(_layer_counts(_LENET5, 32, 32, 1, 10)):
        hint = _lenet5_mistakes().get(
            int(got), "add up every layer: kh * kw * c * f + f, d_in * d_out + d_out"
        )
        raise AssertionError(f"{name}(): {got} is not LeNet-5's total\nHint: {hint}")
    passed(name, 1, "the total")
