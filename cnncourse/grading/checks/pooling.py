"""Checks of chapters 4 and 6: max, average and sum pooling forward, and the pooling
backward pass (overlapping windows, tied maxima, with computed hints for ``=`` instead
of ``+=`` and for a gradient sent to every or to the last tied maximum); global average
pooling forward and backward."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F

from ..checking import (
    Case,
    check_backward,
    check_function,
    first_output,
    learner_facing,
    name_of,
    outputs_match,
    passed,
)

__all__ = [
    "check_avg_pool_forward",
    "check_global_avg_pool_backward",
    "check_global_avg_pool_forward",
    "check_max_pool_forward",
    "check_pool_backward",
    "check_sum_pool_forward",
]


def _pool_cases() -> list[Case]:
    rng = np.random.default_rng(1)
    return [
        Case((rng.standard_normal((1, 4, 4, 1)),), {"pool_size": 2}),
        Case((rng.standard_normal((2, 6, 6, 3)),), {"pool_size": 3}),
        Case((rng.standard_normal((1, 5, 5, 2)),), {"pool_size": 3, "stride": 2}, note="overlapping windows"),
        Case((rng.standard_normal((2, 4, 6, 3)).astype(np.float32),), {"pool_size": 2, "stride": 2}),
    ]


# Each channel has windows whose maximum appears two or three times, not first in the window.
_TIES = np.array([[1.0, 2.0, 0.0, 0.0], [2.0, 0.0, 1.0, 1.0], [3.0, 3.0, 2.0, 0.0], [3.0, 1.0, 2.0, 2.0]])


def _pool_backward_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    ties = np.stack([_TIES, _TIES.T[::-1]], axis=-1)[None]
    return [
        *(c for c in _pool_cases() if c.args[0].dtype == np.float64),
        Case((rng.standard_normal((1, 4, 4, 2)),), {"pool_size": 2, "stride": 1}, note="overlapping windows"),
        Case((ties,), {"pool_size": 2}, note="tied maxima: the gradient goes to the first of them"),
    ]


_OVERWRITE_HINT = (
    "your dx is what assigning gives: where windows overlap (stride < pool_size) a position "
    "can get gradient from several windows, and each window's gradient must be added "
    "(dx[...] += ..., or np.add.at), not assigned with ="
)


_ALL_TIES_HINT = (
    "your dx sends the gradient to every tied maximum of a window; send it to the first "
    "of them only (row-major order, the one np.argmax of the flattened window picks)"
)


_LAST_TIE_HINT = (
    "your dx sends the gradient to the last tied maximum of a window; send it to the first "
    "of them (row-major order, the one np.argmax of the flattened window picks)"
)


def _pool_backward_variants(x, k, s, dout, mode) -> list[tuple[np.ndarray, str]]:
    """dx as the classic mistakes compute it: ``=`` instead of ``+=``; every / the last tie."""
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    over_point, over_window, all_ties, last_tie = (np.zeros(x.shape) for _ in range(4))
    positions = np.arange(k * k)[None, :, None]
    for i in range(oh):
        for j in range(ow):
            region = (slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k), slice(None))
            win = x[region]
            g = dout[:, i, j, :][:, None, None, :]
            if mode == "max":
                flat = win.reshape(n, k * k, c)
                first = (positions == flat.argmax(axis=1)[:, None, :]).reshape(win.shape)
                last = (positions == k * k - 1 - flat[:, ::-1].argmax(axis=1)[:, None, :]).reshape(win.shape)
                local = first * g
                over_point[region] = np.where(first, g, over_point[region])
                all_ties[region] += (win == win.max(axis=(1, 2), keepdims=True)) * g
                last_tie[region] += last * g
            else:
                local = np.broadcast_to(g / (k * k), win.shape)
            over_window[region] = local
    variants = []
    if s < k:
        variants += [(over_point, _OVERWRITE_HINT)] if mode == "max" else []
        variants += [(over_window, _OVERWRITE_HINT)]
    if mode == "max":
        variants += [(all_ties, _ALL_TIES_HINT), (last_tie, _LAST_TIE_HINT)]
    return variants


def _pool_backward_diagnose(mode: str) -> Callable:
    def diagnose(grads, dout, inputs, kwargs) -> str:
        k = kwargs["pool_size"]
        s = kwargs.get("stride") or k
        for variant, hint in _pool_backward_variants(inputs["x"], k, s, dout, mode):
            if outputs_match(grads["dx"], variant):
                return hint
        return ""

    return diagnose


@learner_facing
def check_max_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the maximum of each window, ``(N, OH, OW, C)``
    in x's dtype (a float32 case checks it)."""
    check_function(
        fn, F.max_pool_forward, _pool_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


@learner_facing
def check_avg_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the mean of each window, ``(N, OH, OW, C)``
    in x's dtype (a float32 case checks it)."""
    check_function(
        fn, F.avg_pool_forward, _pool_cases(), name=name_of(fn), output=lambda r: first_output(r, name_of(fn))
    )


@learner_facing
def check_sum_pool_forward(fn: Callable) -> None:
    """``fn(x, pool_size, stride=None)`` -> the sum of each window (or ``(out, cache)``)."""
    rng = np.random.default_rng(8)
    cases = [
        ((rng.standard_normal((1, 4, 4, 2)),), {"pool_size": 2}),
        ((rng.standard_normal((2, 5, 5, 1)),), {"pool_size": 3, "stride": 2}),
    ]
    check_function(fn, F.sum_pool_forward, cases, name=name_of(fn), output=first_output)


@learner_facing
def check_pool_backward(forward: Callable, backward: Callable, mode: str = "max") -> None:
    """``backward(dout, cache)`` -> ``dx`` for max or average pooling.

    Cases include overlapping windows (stride < pool_size: gradients add up) and, for max
    pooling, tied maxima (the gradient goes to the first, as ``np.argmax`` picks it);
    ``=`` instead of ``+=`` and a gradient sent to every (or the last) tie get a hint."""
    ref_forward = {"max": F.max_pool_forward, "avg": F.avg_pool_forward}[mode]
    cases = _pool_backward_cases()
    for case in cases:
        check_backward(
            forward,
            backward,
            ref_forward,
            F.pool_backward,
            {"x": case.args[0]},
            forward_kwargs=case.kwargs,
            name=name_of(backward),
            quiet=True,
            note=case.note,
            diagnose=_pool_backward_diagnose(mode),
        )
    passed(name_of(backward), len(cases), f"dx of {mode} pooling")


def _global_pool_cases() -> list[Case]:
    rng = np.random.default_rng(9)
    return [
        Case((rng.standard_normal((2, 3, 3, 4)),)),
        Case((rng.standard_normal((1, 5, 2, 3)),), note="height and width differ"),
        Case((rng.standard_normal((3, 1, 1, 2)),), note="1 x 1 maps"),
        Case((rng.standard_normal((2, 4, 4, 2)).astype(np.float32),)),
    ]


@learner_facing
def check_global_avg_pool_forward(fn: Callable) -> None:
    """``fn(x)`` -> ``(out, cache)``: the mean of each feature map, ``out (N, C)`` in x's
    dtype (a float32 case checks it), for square, non-square and 1 x 1 maps."""
    check_function(
        fn,
        F.global_avg_pool_forward,
        _global_pool_cases(),
        name=name_of(fn),
        output=lambda r: first_output(r, name_of(fn)),
    )


def _global_pool_backward_diagnose(grads, dout, inputs, kwargs) -> str:
    """A hint when dx is dout copied to every position without dividing by H * W."""
    n, h, w, c = inputs["x"].shape
    undivided = np.broadcast_to(dout[:, None, None, :], (n, h, w, c))
    if h * w > 1 and outputs_match(grads["dx"], undivided):
        return (
            f"your dx is dout copied to all {h} x {w} positions of the map; each position "
            f"makes up 1/{h * w} of the mean, so it gets dout / (H * W)"
        )
    return ""


@learner_facing
def check_global_avg_pool_backward(forward: Callable, backward: Callable) -> None:
    """``backward(dout, cache)`` -> ``dx (N, H, W, C)`` for the cache of ``forward``: every
    position of a map gets its map's ``dout / (H * W)``; a dx not divided gets a hint."""
    cases = [c for c in _global_pool_cases() if c.args[0].dtype == np.float64]
    for case in cases:
        check_backward(
            forward,
            backward,
            F.global_avg_pool_forward,
            F.global_avg_pool_backward,
            {"x": case.args[0]},
            name=name_of(backward),
            quiet=True,
            note=case.note,
            diagnose=_global_pool_backward_diagnose,
        )
    passed(name_of(backward), len(cases), "dx of global average pooling")
