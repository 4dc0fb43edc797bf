"""Checks of the capstone (``14_capstone``): convolution forward and backward with integer
padding and strides 1 to 3, He initialisation, Adam on a dict of parameters, a gradient
checker, a whole CNN's forward and backward pass, its training run and its copy in Keras.
(Its pooling, dense, ReLU and softmax cross-entropy parts use the chapters' checks.)

The network is fixed by the notebook: ``conv 3x3 (padding 1) -> ReLU -> max pool 2 ->
conv 3x3 (padding 1) -> ReLU -> max pool 2 -> flatten -> dense``, with parameters
``{"w1", "b1", "w2", "b2", "w3", "b3"}``. The references here are built from
:mod:`cnncourse.nn`; the Keras check imports :mod:`cnncourse.keras.bridge` only when it
runs, so importing the checks never loads TensorFlow.

When a whole-network check fails, its message also names the learner's layer functions
that fail their own checks (found in the namespace the learner's function was defined
in), so a learner knows which earlier part to fix first.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from cnncourse.nn import functional as F
from cnncourse.nn import gradcheck, optim
from cnncourse.nn import init as nn_init

from ..checking import (
    Case,
    _failure_line,
    assert_close,
    assert_shape,
    check_function,
    first_output,
    learner_facing,
    name_of,
    passed,
    score_backward,
)
from .activations import check_relu_backward, check_relu_forward
from .convolution import _conv_backward_diagnose, _conv_forward_diagnose
from .dense import check_dense_backward, check_dense_forward, check_softmax_cross_entropy
from .pooling import check_max_pool_forward, check_pool_backward

__all__ = [
    "TrainingResult",
    "check_adam_step",
    "check_capstone_conv2d_forward",
    "check_gradient_checker",
    "check_he_normal",
    "check_init_params",
    "check_keras_model",
    "score_capstone_conv2d_backward",
    "score_network",
    "score_training",
]

PARAM_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")
GRADIENT_TOLERANCE = 1e-6  # the largest relative error of a right backward pass (float64)
KERAS_TOLERANCE = 1e-5  # Keras computes in float32
# (input_shape, channels, num_classes, batch, seed) of the networks the public checks use
NETWORK_SPECS = (((8, 8, 1), (2, 3), 4, 3, 0), ((12, 8, 2), (3, 2), 5, 2, 1))
KERAS_SPECS = (((28, 28, 1), (8, 16), 10, 4, 0),)


# --------------------------------------------------------------------------- references


def _he_normal_reference(shape, rng) -> np.ndarray:
    return nn_init.he_normal(shape, rng, dtype=np.float64)


def _init_params_reference(input_shape, channels, num_classes, seed) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w, c = input_shape
    c1, c2 = channels
    return {
        "w1": _he_normal_reference((3, 3, c, c1), rng),
        "b1": np.zeros(c1),
        "w2": _he_normal_reference((3, 3, c1, c2), rng),
        "b2": np.zeros(c2),
        "w3": _he_normal_reference(((h // 4) * (w // 4) * c2, num_classes), rng),
        "b3": np.zeros(num_classes),
    }


def _network_forward_reference(params, x):
    h, conv1 = F.conv2d_forward(x, params["w1"], params["b1"], padding=1)
    h, relu1 = F.relu_forward(h)
    h, pool1 = F.max_pool_forward(h, 2)
    h, conv2 = F.conv2d_forward(h, params["w2"], params["b2"], padding=1)
    h, relu2 = F.relu_forward(h)
    h, pool2 = F.max_pool_forward(h, 2)
    logits, dense = F.dense_forward(h.reshape(len(h), -1), params["w3"], params["b3"])
    return logits, (conv1, relu1, pool1, conv2, relu2, pool2, h.shape, dense)


def _loss_and_grads_reference(params, x, y):
    logits, (conv1, relu1, pool1, conv2, relu2, pool2, pooled_shape, dense) = _network_forward_reference(
        params, x
    )
    loss, dlogits = F.softmax_cross_entropy(logits, y)
    grads = {}
    dflat, grads["w3"], grads["b3"] = F.dense_backward(dlogits, dense)
    dh = F.relu_backward(F.pool_backward(dflat.reshape(pooled_shape), pool2), relu2)
    dh, grads["w2"], grads["b2"] = F.conv2d_backward(dh, conv2)
    dh = F.relu_backward(F.pool_backward(dh, pool1), relu1)
    _, grads["w1"], grads["b1"] = F.conv2d_backward(dh, conv1)
    return loss, grads


def _network_case(spec) -> tuple[dict, np.ndarray, np.ndarray, str]:
    """Parameters (with non-zero biases, so bias gradients matter), a batch and labels."""
    input_shape, channels, num_classes, batch, seed = spec
    rng = np.random.default_rng(100 + seed)
    params = _init_params_reference(input_shape, channels, num_classes, seed)
    for name in ("b1", "b2", "b3"):
        params[name] = 0.1 * rng.standard_normal(params[name].shape)
    x = rng.standard_normal((batch, *input_shape))
    y = rng.integers(0, num_classes, batch)
    label = f"params for channels={channels}, num_classes={num_classes}; x {x.shape} float64, y {y.shape}"
    return params, x, y, label


def _copy(params: dict) -> dict:
    return {name: np.array(value, copy=True) for name, value in params.items()}


# --------------------------------------------------------------------------- prerequisites


def _all_right(scores: dict[str, float]) -> None:
    if not all(score == 1 for score in scores.values()):
        raise AssertionError("partly wrong")


# Each learner function a whole-network check builds on, with the check of its own part.
_PREREQUISITES: dict[str, Callable[[dict], None]] = {
    "conv2d_forward": lambda ns: check_capstone_conv2d_forward(ns["conv2d_forward"]),
    "conv2d_backward": lambda ns: _all_right(
        score_capstone_conv2d_backward(ns["conv2d_forward"], ns["conv2d_backward"])
    ),
    "max_pool_forward": lambda ns: check_max_pool_forward(ns["max_pool_forward"]),
    "max_pool_backward": lambda ns: check_pool_backward(ns["max_pool_forward"], ns["max_pool_backward"]),
    "dense_forward": lambda ns: check_dense_forward(ns["dense_forward"]),
    "dense_backward": lambda ns: check_dense_backward(ns["dense_forward"], ns["dense_backward"]),
    "relu_forward": lambda ns: check_relu_forward(ns["relu_forward"]),
    "relu_backward": lambda ns: check_relu_backward(ns["relu_forward"], ns["relu_backward"]),
    "softmax_cross_entropy": lambda ns: check_softmax_cross_entropy(ns["softmax_cross_entropy"]),
    "he_normal": lambda ns: check_he_normal(ns["he_normal"]),
    "init_params": lambda ns: check_init_params(ns["init_params"]),
    "adam_step": lambda ns: check_adam_step(ns["adam_step"]),
    "network_forward, loss_and_grads": lambda ns: _all_right(
        score_network(ns["network_forward"], ns["loss_and_grads"], quiet=True)
    ),
}
_LAYERS = (
    "conv2d_forward",
    "conv2d_backward",
    "max_pool_forward",
    "max_pool_backward",
    "dense_forward",
    "dense_backward",
    "relu_forward",
    "relu_backward",
    "softmax_cross_entropy",
)


def _broken_prerequisites(fn: Callable, names: Sequence[str]) -> list[str]:
    """Which of ``names`` (keys of ``_PREREQUISITES``) fail their own checks, looked up in
    the namespace ``fn`` was defined in (a learner's notebook); ``[]`` when unknown."""
    namespace = getattr(fn, "__globals__", None)
    if not isinstance(namespace, dict):
        return []
    broken = []
    for name in names:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                _PREREQUISITES[name](namespace)
        except Exception:
            broken.append(name)
    return broken


def _note_prerequisites(exc: BaseException, fn: Callable, names: Sequence[str]) -> BaseException:
    """``exc`` (the same object) with a note naming those of ``names`` that are broken."""
    broken = _broken_prerequisites(fn, names)
    if broken:
        exc.add_note(
            f"{name_of(fn)} builds on parts that fail their own checks; fix them first: {', '.join(broken)}"
        )
    return exc


# --------------------------------------------------------------------------- convolution
# Integer padding only (the capstone's layer), strides 1 to 3.


def _conv_cases(dtypes=(np.float64, np.float32)) -> list[Case]:
    rng = np.random.default_rng(140)
    specs = [  # x shape, w shape, stride, padding, dtype
        ((1, 4, 4, 1), (3, 3, 1, 1), 1, 0, np.float64),
        ((2, 5, 5, 3), (3, 3, 3, 2), 1, 1, np.float64),
        ((1, 7, 6, 2), (3, 2, 2, 3), 2, 1, np.float64),
        ((2, 8, 9, 1), (3, 3, 1, 2), 3, 2, np.float64),
        ((2, 5, 4, 2), (2, 3, 2, 2), 1, 1, np.float32),
    ]
    cases = []
    for xs, ws, stride, padding, dtype in specs:
        x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])
        if dtype in dtypes:
            args = tuple(a.astype(dtype) for a in (x, w, b))
            cases.append(Case(args, {"stride": stride, "padding": padding}))
    return cases


@learner_facing
def check_capstone_conv2d_forward(fn: Callable) -> None:
    """``fn(x, w, b, stride, padding)`` -> ``(out, cache)`` for an integer ``padding``:
    x ``(N, H, W, C_in)``, w ``(KH, KW, C_in, C_out)``, b ``(C_out,)``, out ``(N, OH, OW,
    C_out)`` in x's dtype; strides 1 to 3. A flipped or transposed kernel gets a hint."""
    check_function(
        fn,
        F.conv2d_forward,
        _conv_cases(),
        name=name_of(fn),
        output=lambda r: first_output(r, name_of(fn)),
        diagnose=_conv_forward_diagnose,
    )


@learner_facing
def score_capstone_conv2d_backward(forward: Callable, backward: Callable) -> dict[str, float]:
    """Each of ``dx``, ``dw``, ``db``'s share of right cases (float64, integer padding,
    strides 1 to 3), as :func:`cnncourse.grading.checking.score_backward` gives them."""
    __tracebackhide__ = True
    return score_backward(
        forward,
        backward,
        F.conv2d_forward,
        F.conv2d_backward,
        _conv_cases(dtypes=(np.float64,)),
        name_of(backward),
        _conv_backward_diagnose,
    )


# --------------------------------------------------------------------------- initialisation


def _he_cases() -> list[Case]:
    shapes = [(3, 3, 1, 8), (3, 3, 8, 16), (784, 10)]
    return [
        Case((shape, np.random.default_rng(seed)), label=f"shape={shape}, rng=np.random.default_rng({seed})")
        for seed, shape in enumerate(shapes)
    ]


@learner_facing
def check_he_normal(fn: Callable) -> None:
    """``fn(shape, rng)`` -> He-normal weights in float64: one draw of
    ``rng.standard_normal(shape)`` scaled by ``sqrt(2 / fan_in)``, where ``fan_in`` is
    ``D_in`` for a dense ``(D_in, D_out)`` kernel and ``KH * KW * C_in`` for a conv one."""
    check_function(fn, _he_normal_reference, _he_cases(), name=name_of(fn))


@learner_facing
def check_init_params(fn: Callable, specs: Sequence | None = None, quiet: bool = False) -> None:
    """``fn(input_shape, channels, num_classes, seed)`` -> the network's parameters: a
    dict with ``w1 (3, 3, C, C1)``, ``w2 (3, 3, C1, C2)``, ``w3 (H/4 * W/4 * C2,
    num_classes)`` drawn in that order by He-normal from ``default_rng(seed)``, and zero
    biases. specs: ``(input_shape, channels, num_classes, seed)`` tuples."""
    name = name_of(fn)
    specs = specs or [((28, 28, 1), (8, 16), 10, 0), ((12, 16, 3), (4, 6), 5, 3)]
    for input_shape, channels, num_classes, seed in specs:
        call = (
            f"{name}(input_shape={input_shape}, channels={channels}, num_classes={num_classes}, seed={seed})"
        )
        got = fn(input_shape, channels, num_classes, seed)
        expected = _init_params_reference(input_shape, channels, num_classes, seed)
        if not isinstance(got, dict) or sorted(got) != sorted(expected):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise AssertionError(f"{call}: expected a dict with keys {sorted(expected)}, got {keys}")
        for key in PARAM_NAMES:
            assert_close(got[key], expected[key], f"{call}[{key!r}]")
    if not quiet:
        passed(name, len(specs), "shapes, zero biases, He-normal weights drawn w1, w2, w3 in order")


# --------------------------------------------------------------------------- Adam


@learner_facing
def check_adam_step(fn: Callable, settings: Sequence[dict] | None = None, steps: int = 5) -> None:
    """``fn(params, grads, state, lr, beta1, beta2, eps)`` updates each array of the dict
    ``params`` in place by one Adam step, keeping its moments and step count in the dict
    ``state`` (empty before the first step). Compared with :class:`cnncourse.nn.optim.Adam`
    after every one of ``steps`` steps; settings: keyword arguments, one dict per case."""
    name = name_of(fn)
    settings = settings or [{}, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7}]
    for case, kwargs in enumerate(settings):
        rng = np.random.default_rng(20 + case)
        params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
        reference_params = _copy(params)
        reference = optim.Adam(**kwargs)
        state: dict = {}
        options = "".join(f", {key}={value!r}" for key, value in kwargs.items())
        call = f"{name}(params {{'w': (3, 4), 'b': (4,)}}, grads, state{options})"
        for step in range(1, steps + 1):
            grads = {key: rng.standard_normal(value.shape) for key, value in params.items()}
            fn(params, _copy(grads), state, **kwargs)
            reference.step(reference_params, grads)
            for key in params:
                assert_close(
                    params[key],
                    reference_params[key],
                    f"{call}: params[{key!r}] after step {step} (update the arrays in params; "
                    "keep m, v and the step count in state)",
                    rtol=1e-9,
                    atol=1e-12,
                )
    passed(name, len(settings), f"{steps} steps each, params compared after every step")


# --------------------------------------------------------------------------- gradient checker


@learner_facing
def check_gradient_checker(fn: Callable, specs: Sequence | None = None, quiet: bool = False) -> None:
    """``fn(loss_and_grads, params, x, y)`` -> ``{name: relative error}``, one entry per
    array in ``params``, between ``loss_and_grads``'s gradient and central differences of
    its loss; ``params`` must be as it was afterwards. A right network must give errors
    below 1e-6, and a wrong gradient (here: ``b2`` doubled, ``w1`` flipped) above 1e-3."""
    name = name_of(fn)
    specs = specs or NETWORK_SPECS[:1]

    def buggy(params, x, y):
        loss, grads = _loss_and_grads_reference(params, x, y)
        return loss, {**grads, "b2": 2 * grads["b2"], "w1": grads["w1"][::-1, ::-1]}

    for spec in specs:
        params, x, y, label = _network_case(spec)
        before = _copy(params)
        errors = fn(_loss_and_grads_reference, params, x, y)
        call = f"{name}(a right loss_and_grads, {label})"
        if not isinstance(errors, dict) or sorted(errors) != sorted(params):
            keys = sorted(errors) if isinstance(errors, dict) else type(errors).__name__
            raise AssertionError(f"{call}: expected a dict with keys {sorted(params)}, got {keys}")
        for key in PARAM_NAMES:
            assert_close(
                params[key], before[key], f"{call}: params[{key!r}] afterwards (put every value back)"
            )
            if not np.isscalar(errors[key]) or not errors[key] < GRADIENT_TOLERANCE:
                raise AssertionError(
                    f"{call}: the error of {key!r} is {errors[key]!r}; a right gradient gives a relative "
                    f"error below {GRADIENT_TOLERANCE:g} (central differences with h = 1e-5, and "
                    "max |a - b| / max(1e-8, |a| + |b|))"
                )
        errors = fn(buggy, params, x, y)
        call = f"{name}(a loss_and_grads with wrong 'b2' and 'w1', {label})"
        for key in PARAM_NAMES:
            wrong = key in ("b2", "w1")
            if not np.isscalar(errors.get(key)) or (errors[key] > 1e-3) != wrong:
                expected = "above 1e-3" if wrong else f"below {GRADIENT_TOLERANCE:g}"
                raise AssertionError(
                    f"{call}: the error of {key!r} should be {expected}; got {errors.get(key)!r}"
                )
    if not quiet:
        passed(name, 2 * len(specs), "a right network passes, wrong gradients are caught")


# --------------------------------------------------------------------------- the network


@learner_facing
def score_network(
    network_forward: Callable, loss_and_grads: Callable, specs: Sequence | None = None, quiet: bool = False
) -> dict[str, float]:
    """Partial credit for the whole network: each item's share of right cases, for
    ``"logits"`` (``network_forward(params, x)`` -> ``(logits, cache)``), ``"loss"`` and
    each gradient of ``loss_and_grads(params, x, y)`` -> ``(loss, grads)``.

    Prints ``✓`` for the items right in every case, the ``✗`` message of the first wrong
    one (with the learner's layer functions that fail their own checks), and the largest
    relative error of a numerical gradient check of the learner's network; raises that
    failure when nothing is right. specs: ``(input_shape, channels, num_classes, batch,
    seed)`` tuples."""
    specs = specs or NETWORK_SPECS
    items = ("logits", "loss", *PARAM_NAMES)
    scores = dict.fromkeys(items, 0.0)
    failure: BaseException | None = None
    for spec in specs:
        params, x, y, label = _network_case(spec)
        expected_logits, _ = _network_forward_reference(params, x)
        expected_loss, expected_grads = _loss_and_grads_reference(params, x, y)
        checks: dict[str, Callable[[], None]] = {}
        forward_call = f"{name_of(network_forward)}({label})"
        backward_call = f"{name_of(loss_and_grads)}({label})"

        def logits_right(call=forward_call, params=params, x=x, expected=expected_logits):
            result = network_forward(_copy(params), x.copy())
            if not isinstance(result, tuple) or len(result) != 2:
                raise AssertionError(f"{call}: expected (logits, cache), got {type(result).__name__}")
            assert_close(result[0], expected, f"{call} -> logits")

        checks["logits"] = logits_right
        outcome: BaseException | tuple
        try:
            outcome = loss_and_grads(_copy(params), x.copy(), y.copy())
        except Exception as exc:
            outcome = exc
        else:
            if not isinstance(outcome, tuple) or len(outcome) != 2:
                outcome = AssertionError(
                    f"{backward_call}: expected (loss, grads), got {type(outcome).__name__}"
                )

        def item_right(item, call=backward_call, outcome=outcome, loss=expected_loss, grads=expected_grads):
            if isinstance(outcome, BaseException):
                raise outcome
            got_loss, got_grads = outcome
            if item == "loss":
                assert_close(got_loss, loss, f"{call} -> loss")
                return
            if not isinstance(got_grads, dict) or item not in got_grads:
                raise AssertionError(f"{call} -> grads: expected a dict with keys {sorted(grads)}")
            assert_close(got_grads[item], grads[item], f"{call} -> grads[{item!r}]")

        for item in items[1:]:
            checks[item] = lambda item=item, check=item_right: check(item)
        for item, check in checks.items():
            try:
                check()
            except Exception as exc:
                failure = failure or exc
            else:
                scores[item] += 1 / len(specs)
    scores = {item: round(score, 6) for item, score in scores.items()}
    if failure is not None and not quiet:
        _note_prerequisites(failure, loss_and_grads, _LAYERS)
    if failure is not None and not any(scores.values()):
        raise failure
    if quiet:
        return scores
    right = [item for item, score in scores.items() if score == 1]
    if right:
        passed(
            f"{name_of(network_forward)} and {name_of(loss_and_grads)}",
            len(specs),
            ", ".join(right) + " right",
        )
    if failure is not None:
        print(_failure_line(name_of(loss_and_grads), failure))
    if all(scores[name] == 1 for name in PARAM_NAMES):
        error = _gradient_check_error(loss_and_grads)
        print(f"  whole-network gradient check: largest relative error {error:.1e}")
    return scores


def _gradient_check_error(loss_and_grads: Callable) -> float:
    """The largest relative error between ``loss_and_grads``'s gradients and central
    differences of its loss, on the first public network case (float64)."""
    params, x, y, _ = _network_case(NETWORK_SPECS[0])
    _, grads = loss_and_grads(_copy(params), x, y)
    errors = []
    for key in PARAM_NAMES:

        def loss_of(value, key=key):
            return loss_and_grads({**params, key: value}, x, y)[0]

        numerical = gradcheck.numerical_gradient(loss_of, params[key].copy())
        errors.append(gradcheck.rel_error(grads[key], numerical))
    return max(errors)


# --------------------------------------------------------------------------- training


@dataclass
class TrainingResult:
    """What :func:`score_training` measured: the trained ``params``, the mini-batch
    ``losses``, the test ``accuracy``, the training time in ``seconds`` and the
    ``fraction`` of the points earned."""

    params: dict
    losses: list = field(repr=False)
    accuracy: float
    seconds: float
    fraction: float


def _accuracy_fraction(accuracy: float, target: float, floor: float) -> float:
    """0 at ``floor`` or below, 1 at ``target`` or above, linear in between."""
    return float(np.clip((accuracy - floor) / (target - floor), 0.0, 1.0))


@learner_facing
def score_training(
    train: Callable,
    network_forward: Callable,
    data,
    *,
    target: float = 0.97,
    floor: float = 0.8,
    max_seconds: float = 60.0,
) -> TrainingResult:
    """Train once with ``train(data.train.x, data.train.y)`` (the learner's defaults) ->
    ``(params, losses)``, and measure the test accuracy of ``network_forward(params,
    data.test.x)``'s logits.

    Full credit for at least ``target`` accuracy within ``max_seconds``; below it, credit
    falls linearly to 0 at ``floor``; over the time limit, half. Training runs on one BLAS
    thread, as in the grader's kernels. Raises (naming the learner's parts that fail their
    own checks) when training fails or earns nothing."""
    name = name_of(train)
    try:
        # One BLAS thread, as in the grader's kernels: the time is the one grading measures
        # (and the network's small matrix products gain nothing from more threads).
        with threadpool_limits(1):
            start = time.perf_counter()
            result = train(data.train.x, data.train.y)
            seconds = time.perf_counter() - start
        if not isinstance(result, tuple) or len(result) != 2:
            raise AssertionError(
                f"{name}(x_train, y_train): expected (params, losses), got {type(result).__name__}"
            )
        params, losses = result
        logits = network_forward(params, data.test.x)[0]
        assert_shape(
            logits, (len(data.test.x), len(data.class_names)), f"{name_of(network_forward)}(params, x_test)"
        )
    except Exception as exc:
        _note_prerequisites(exc, train, list(_PREREQUISITES))
        raise
    accuracy = float(np.mean(np.argmax(logits, axis=1) == data.test.y))
    fraction = _accuracy_fraction(accuracy, target, floor)
    timing = f"in {seconds:.1f} s (limit {max_seconds:g} s)"
    if seconds > max_seconds:
        fraction /= 2
        timing += ": too slow, half the points; vectorise the layers or train for fewer epochs"
    report = f"{name}: test accuracy {accuracy:.1%} (target {target:.0%}) {timing}"
    losses = list(np.asarray(losses, dtype=np.float64).ravel())
    if fraction == 0:
        raise _note_prerequisites(AssertionError(report), train, list(_PREREQUISITES))
    if accuracy >= target and seconds <= max_seconds:
        print(f"\u2713 {report}")
    else:
        broken = _broken_prerequisites(train, list(_PREREQUISITES))
        hint = f"; parts that fail their own checks: {', '.join(broken)}" if broken else ""
        print(f"\u2717 {report}{hint}")
    return TrainingResult(params, losses, accuracy, seconds, round(fraction, 6))


# --------------------------------------------------------------------------- Keras


@learner_facing
def check_keras_model(
    build_keras_model: Callable, specs: Sequence | None = None, quiet: bool = False
) -> None:
    """``build_keras_model(params, input_shape)`` -> a Keras model with the network's
    layers and ``params``'s weights, whose outputs (the logits) match the NumPy network's
    to a relative ``1e-5``. The model is also read back into :mod:`cnncourse.nn` with
    :func:`cnncourse.keras.bridge.to_numpy`, which must give the same outputs.
    specs: ``(input_shape, channels, num_classes, batch, seed)`` tuples."""
    from cnncourse.keras import bridge

    name = name_of(build_keras_model)
    specs = specs or KERAS_SPECS
    for spec in specs:
        params, x, _, label = _network_case(spec)
        input_shape = spec[0]
        call = f"{name}({label.split(';')[0]}, input_shape={input_shape})"
        expected, _ = _network_forward_reference(params, x)
        model = build_keras_model(_copy(params), input_shape)
        if not isinstance(model, bridge.keras.Model):
            raise AssertionError(f"{call}: expected a Keras model, got {type(model).__name__}")
        got = np.asarray(model(x.astype(np.float32), training=False))
        assert_shape(got, expected.shape, f"{call} -> model(x {x.shape})")
        gap = bridge.relative_difference(got, expected)
        if gap > KERAS_TOLERANCE:
            hint = ""
            if bridge.relative_difference(got, F.softmax(expected)) < KERAS_TOLERANCE:
                hint = (
                    " Hint: your model ends with a softmax; return the logits (a Dense layer "
                    "without activation)"
                )
            raise AssertionError(
                f"{call} -> model(x {x.shape}): outputs differ from the NumPy network's logits by "
                f"{gap:.2g} (relative), more than {KERAS_TOLERANCE:g}: check the layers (padding, "
                f"pooling, flatten) and that every weight is loaded.{hint}"
            )
        try:
            net = bridge.to_numpy(model, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise AssertionError(
                f"{call}: the bridge cannot read your model ({exc}); use only Conv2D, "
                "MaxPooling2D, Flatten and Dense layers (and ZeroPadding2D before a valid Conv2D)"
            ) from None
        gap = bridge.relative_difference(net.predict(x), expected)
        if gap > KERAS_TOLERANCE:
            raise AssertionError(
                f"{call}: read back with bridge.to_numpy, it differs by {gap:.2g} (relative)"
            )
    if not quiet:
        passed(
            name,
            len(specs),
            f"outputs match the NumPy network's to {KERAS_TOLERANCE:g}, read back by the bridge",
        )
