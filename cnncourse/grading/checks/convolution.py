"""Checks of chapters 2 and 6: cross-correlation and convolution by hand, blur and Sobel
kernels, output sizes, a multi-channel convolution forward, and its backward pass (with
computed hints for a flipped kernel, an uncropped ``dx`` and a flipped ``dw``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnncourse.nn import functional as F
from cnncourse.nn.validation import output_size as _reference_output_size

from ..checking import (
    Case,
    assert_close,
    assert_shape,
    check_backward,
    check_function,
    first_output,
    learner_facing,
    name_of,
    outputs_match,
    passed,
    score_backward,
)

__all__ = [
    "check_box_blur_kernel",
    "check_conv2d_backward",
    "check_conv2d_forward",
    "check_convolve2d",
    "check_correlate2d",
    "check_edge_strength",
    "check_output_size",
    "check_sobel_kernels",
    "score_conv2d_backward",
]


def _conv_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    specs = [  # x shape, w shape, stride, padding, dtype
        ((1, 4, 4, 1), (3, 3, 1, 1), 1, 0, np.float64),
        ((2, 5, 5, 3), (3, 3, 3, 2), 1, 1, np.float64),
        ((1, 7, 6, 2), (3, 2, 2, 3), 2, 1, np.float64),
        ((2, 5, 4, 2), (2, 3, 2, 2), 1, 1, np.float32),
    ]
    cases = []
    for xs, ws, stride, padding, dtype in specs:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[-1]).astype(dtype)
        cases.append(Case((x, w, b), {"stride": stride, "padding": padding}))
    return cases


def _conv_backward_cases(strided: bool) -> list[Case]:
    rng = np.random.default_rng(6)
    cases = [c for c in _conv_cases() if c.kwargs["stride"] == 1 and c.args[0].dtype == np.float64]
    specs = [((1, 5, 6, 2), (3, 2, 2, 2), 1, 2)]  # x shape, w shape, stride, padding
    if strided:  # "same" with stride 2 pads 1 on each side of 7, but only 1 after 6 (Keras' rule)
        specs += [
            ((1, 7, 6, 2), (3, 2, 2, 3), 2, 1),
            ((2, 6, 6, 1), (3, 3, 1, 2), 2, 1),
            ((1, 7, 7, 2), (3, 3, 2, 2), 2, "same"),
            ((2, 6, 8, 2), (3, 3, 2, 3), 2, "same"),
        ]
    for xs, ws, stride, padding in specs:
        x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])
        cases.append(Case((x, w, b), {"stride": stride, "padding": padding}))
    return cases


def _conv_forward_diagnose(got, case: Case) -> str:
    """A hint when ``got`` is the output of a flipped or transposed kernel (computed)."""
    x, w, b = case.args
    variants = [
        (
            w[::-1, ::-1],
            "your output is the true convolution, with the kernel flipped on both axes "
            "(w[::-1, ::-1]); this layer computes a cross-correlation: multiply "
            "xp[n, i*s + di, j*s + dj, c] by w[di, dj, c, f] as it is, without flipping",
        ),
        (
            w[::-1, :],
            "your output is what the kernel gives with its rows reversed (w[::-1, :]); the "
            "kernel is not flipped (cross-correlation): window row di goes with w[di]",
        ),
        (
            w[:, ::-1],
            "your output is what the kernel gives with its columns reversed (w[:, ::-1]); "
            "the kernel is not flipped (cross-correlation): window column dj goes with w[:, dj]",
        ),
    ]
    if w.shape[0] == w.shape[1]:
        variants.append(
            (
                w.transpose(1, 0, 2, 3),
                "your output is what the kernel gives with its rows and columns swapped "
                "(w transposed): window row di and column dj go with w[di, dj]",
            )
        )
    for variant, hint in variants:
        if not np.array_equal(variant, w) and outputs_match(
            got, F.conv2d_forward(x, variant, b, **case.kwargs)[0]
        ):
            return hint
    return ""


@learner_facing
def check_output_size(fn: Callable) -> None:
    """``fn(n, k, stride, padding)``: output length of a window of size ``k`` sliding
    over ``n`` values padded by ``padding`` on each side: ``(n + 2p - k) // s + 1``."""
    cases = [(5, 3, 1, 0), (5, 3, 1, 1), (7, 3, 2, 1), (28, 5, 1, 2), (6, 2, 2, 0)]
    check_function(fn, lambda n, k, s, p: _reference_output_size(n, k, s, 2 * p), cases, name=name_of(fn))


@learner_facing
def check_conv2d_forward(fn: Callable) -> None:
    """``fn(x, w, b, stride, padding)`` -> ``out`` or ``(out, cache)``; x ``(N, H, W, C_in)``,
    w ``(KH, KW, C_in, C_out)``, b ``(C_out,)``, out ``(N, OH, OW, C_out)`` in x's dtype
    (a float32 case checks it). A flipped or transposed kernel gets a hint."""
    check_function(
        fn,
        F.conv2d_forward,
        _conv_cases(),
        name=name_of(fn),
        output=lambda r: first_output(r, name_of(fn)),
        diagnose=_conv_forward_diagnose,
    )


def _conv_backward_diagnose(grads, dout, inputs, kwargs) -> str:
    """A hint for an uncropped dx, a dx from the unflipped kernel or a flipped dw (computed)."""
    x, w, b = inputs["x"], inputs["w"], inputs["b"]
    p = kwargs.get("padding", 0)
    n, h, width, c = x.shape
    dx, dw = grads.get("dx"), grads.get("dw")
    if isinstance(p, int) and p > 0 and np.shape(dx) == (n, h + 2 * p, width + 2 * p, c):
        return (
            f"dx has the shape of the padded input {(n, h + 2 * p, width + 2 * p, c)}: crop the "
            f"padding, {p} from each side: dx = dx_padded[:, {p}:{p} + H, {p}:{p} + W, :]"
        )
    _, flipped_cache = F.conv2d_forward(x, w[::-1, ::-1].copy(), b, **kwargs)
    if outputs_match(dx, F.conv2d_backward(dout, flipped_cache)[0]):
        return (
            "dx is the full correlation of dout with the kernel as it is; flip it on both "
            "spatial axes first (w[::-1, ::-1])"
        )
    _, dw_ref, _ = F.conv2d_backward(dout, F.conv2d_forward(x, w, b, **kwargs)[1])
    if outputs_match(dw, dw_ref[::-1, ::-1]):
        return (
            "dw is the right dw flipped on both axes: dw is the correlation of the padded "
            "input with dout, dw[di, dj] = sum of xp[n, i*s + di, j*s + dj] * dout[n, i, j]"
        )
    return ""


@learner_facing
def check_conv2d_backward(forward: Callable, backward: Callable, *, strided: bool = False) -> None:
    """``backward(dout, cache)`` -> ``(dx, dw, db)`` for the cache of ``forward``.

    Cases with padding 0, 1 and 2 and stride 1; ``strided=True`` adds stride-2 cases with
    padding 1 and ``"same"`` (for a forward that takes a stride and ``"same"``). Each gradient is
    checked on its own; an uncropped dx, a dx from the unflipped kernel and a flipped dw
    get a hint."""
    cases = _conv_backward_cases(strided)
    for case in cases:
        x, w, b = case.args
        check_backward(
            forward,
            backward,
            F.conv2d_forward,
            F.conv2d_backward,
            {"x": x, "w": w, "b": b},
            forward_kwargs=case.kwargs,
            name=name_of(backward),
            quiet=True,
            note=case.note,
            diagnose=_conv_backward_diagnose,
        )
    passed(name_of(backward), len(cases), "dx, dw and db")


@learner_facing
def score_conv2d_backward(
    forward: Callable, backward: Callable, *, strided: bool = False
) -> dict[str, float]:
    """Like :func:`check_conv2d_backward`, with partial credit per gradient: returns each
    gradient's fraction of right cases, ``{"dx": 0.0, "dw": 1.0, "db": 1.0}``, prints the
    right ones and the first failure (which names the wrong gradient), and raises only
    when no gradient is right in any case. End the cell with
    ``points(sum(right.values()) / len(right), out_of=P)``."""
    __tracebackhide__ = True
    return score_backward(
        forward,
        backward,
        F.conv2d_forward,
        F.conv2d_backward,
        _conv_backward_cases(strided),
        name_of(backward),
        _conv_backward_diagnose,
    )


def _correlate2d_reference(image, kernel):
    return F.conv2d_forward(image[None, :, :, None], kernel[:, :, None, None])[0][0, :, :, 0]


def _convolve2d_reference(image, kernel):
    return _correlate2d_reference(image, kernel[::-1, ::-1])


def _correlate_cases() -> list:
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((4, 4)), rng.standard_normal((3, 3))),
        (rng.standard_normal((6, 5)), rng.standard_normal((2, 3))),
    ]


@learner_facing
def check_correlate2d(fn: Callable) -> None:
    """``fn(image, kernel)`` -> the valid 2D cross-correlation (kernel not flipped)."""
    check_function(fn, _correlate2d_reference, _correlate_cases(), name=name_of(fn), check_dtype=False)


@learner_facing
def check_convolve2d(fn: Callable) -> None:
    """``fn(image, kernel)`` -> the valid 2D convolution (kernel flipped on both axes)."""
    check_function(fn, _convolve2d_reference, _correlate_cases(), name=name_of(fn), check_dtype=False)


@learner_facing
def check_box_blur_kernel(fn: Callable) -> None:
    """``fn(k)`` -> a ``(k, k)`` kernel whose weights average the window."""
    name = name_of(fn)
    for k in (3, 4):
        blur = fn(k)
        assert_shape(blur, (k, k), f"{name}({k})")
        assert_close(blur, np.full((k, k), 1 / k**2), f"{name}({k}): every weight 1/{k**2}")
    passed(name, 2)


@learner_facing
def check_sobel_kernels(fn: Callable) -> None:
    """``fn()`` -> ``(kx, ky)``: Sobel kernels for left-to-right and top-to-bottom change."""
    name = name_of(fn)
    result = fn()
    assert isinstance(result, tuple) and len(result) == 2, f"{name}() should return (kx, ky)"
    kx, ky = (np.asarray(k) for k in result)
    assert_shape(kx, (3, 3), f"{name}: kx")
    assert_shape(ky, (3, 3), f"{name}: ky")
    ramp = np.tile(np.arange(6.0), (6, 1))[None, :, :, None]  # brightness grows from left to right
    assert_close(
        F.conv2d_forward(ramp, kx[:, :, None, None])[0],
        np.full((1, 4, 4, 1), 8.0),
        f"{name}: kx on a left-to-right ramp (should be 8 everywhere: is kx flipped?)",
    )
    assert_close(
        F.conv2d_forward(ramp, ky[:, :, None, None])[0],
        np.zeros((1, 4, 4, 1)),
        f"{name}: ky on a left-to-right ramp (a top-to-bottom detector sees nothing)",
    )
    assert_close(ky, kx.T, f"{name}: ky (should be kx transposed)")
    passed(name, 5)


def _edges_reference(gray):
    kx = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    gx = _correlate2d_reference(gray, kx)
    gy = _correlate2d_reference(gray, kx.T)
    return np.sqrt(gx**2 + gy**2)


@learner_facing
def check_edge_strength(fn: Callable, image) -> None:
    """``fn(gray)`` -> the Sobel gradient magnitude ``sqrt(gx**2 + gy**2)`` of ``image``."""
    check_function(
        fn, _edges_reference, [(image,)], name=name_of(fn), check_dtype=False, rtol=1e-5, atol=1e-6
    )
