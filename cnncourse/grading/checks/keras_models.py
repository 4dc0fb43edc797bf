"""Checks of chapters 8, 10 and 11: parameter and multiply-add counts by formula, the
chapter 8 model built in Keras, a residual block with a projection shortcut, counting
trainable parameters, a new head on a frozen body and two-stage fine-tuning.

The references are Keras models of :mod:`cnncourse.keras`; TensorFlow is imported only
when a check that needs it runs (the notebooks that call them have imported it already).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from ..checking import Case, assert_close, check_function, learner_facing, name_of, passed

__all__ = [
    "check_conv_cost",
    "check_count_trainable",
    "check_param_formulas",
    "check_residual_block",
    "check_seed_cnn_macs",
    "check_seed_cnn_model",
    "check_seed_cnn_params",
    "check_separable_cost",
    "check_stacked_vs_single",
    "check_transfer_model",
    "check_two_stage_fine_tune",
]


def _keras():
    from cnncourse.keras._tf import keras

    return keras


# --------------------------------------------------------------------------- counting by formula


def _conv_params(kh, kw, c_in, c_out):
    return kh * kw * c_in * c_out + c_out


def _dense_params(d_in, d_out):
    return d_in * d_out + d_out


@learner_facing
def check_param_formulas(conv_params: Callable, dense_params: Callable) -> None:
    """``conv_params(kh, kw, c_in, c_out)`` and ``dense_params(d_in, d_out)``, biases counted."""
    check_function(conv_params, _conv_params, [(3, 3, 1, 32), (5, 3, 16, 8), (1, 1, 64, 10)], quiet=True)
    check_function(dense_params, _dense_params, [(576, 64), (64, 10), (3, 1)], quiet=True)
    passed(f"{name_of(conv_params)} and {name_of(dense_params)}", 6, "weights plus biases")


def _seed_cnn_params(size, channels, num_classes):
    from cnncourse.keras.models import seed_cnn

    return seed_cnn((size, size, channels), num_classes=num_classes).count_params()


@learner_facing
def check_seed_cnn_params(fn: Callable) -> None:
    """``fn(size, channels, num_classes)``: the chapter 8 model's parameter count."""
    cases = [Case((28, 1, 10)), Case((32, 3, 5), note="another size, colour, 5 classes")]
    check_function(fn, _seed_cnn_params, cases, quiet=True)
    passed(name_of(fn), len(cases), "sizes, channels and classes")


def _seed_cnn_macs(size):
    from cnncourse.keras.costs import count_macs
    from cnncourse.keras.models import seed_cnn

    return count_macs(seed_cnn((size, size, 1)))


@learner_facing
def check_seed_cnn_macs(fn: Callable) -> None:
    """``fn(size)``: multiply-adds of the chapter 8 model for one image."""
    check_function(fn, _seed_cnn_macs, [Case((28,)), Case((32,))], quiet=True)
    passed(name_of(fn), 2)


def _conv_cost(h, w, c_in, c_out, k, stride=1, padding=0):
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    return _conv_params(k, k, c_in, c_out), oh * ow * k * k * c_in * c_out


@learner_facing
def check_conv_cost(fn: Callable) -> None:
    """``fn(h, w, c_in, c_out, k, stride=1, padding=0)`` -> ``(params, macs)``."""
    cases = [
        Case((227, 227, 3, 96, 11), {"stride": 4}, note="AlexNet's first layer"),
        Case((32, 32, 16, 32, 3), {"padding": 1}),
        Case((20, 12, 4, 8, 3), {"stride": 2, "padding": 1}, note="height and width differ"),
    ]
    check_function(fn, _conv_cost, cases, outputs=("params", "macs"), quiet=True)
    passed(name_of(fn), len(cases), "biases, stride, padding, H != W")


@learner_facing
def check_stacked_vs_single(stacked: Callable, single: Callable) -> None:
    """``stacked(c)``: two 3x3 convs, ``single(c)``: one 5x5 conv, c channels in and out."""
    check_function(stacked, lambda c: 2 * _conv_params(3, 3, c, c), [(64,), (3,)], quiet=True)
    check_function(single, lambda c: _conv_params(5, 5, c, c), [(64,), (3,)], quiet=True)
    passed(f"{name_of(stacked)} and {name_of(single)}", 4)


def _separable_cost(h, w, c_in, c_out, k):
    depthwise, pointwise = h * w * k * k * c_in, h * w * c_in * c_out
    return k * k * c_in + c_in * c_out + c_out, depthwise + pointwise


@learner_facing
def check_separable_cost(cost: Callable, saving: Callable) -> None:
    """``cost(h, w, c_in, c_out, k)`` -> ``(params, macs)`` of a stride-1 'same'
    depthwise-separable conv; ``saving(...)``: standard MACs over separable MACs, a float."""
    cases = [Case((16, 16, 64, 128, 3)), Case((8, 12, 32, 16, 5), note="height and width differ")]
    check_function(cost, _separable_cost, cases, outputs=("params", "macs"), quiet=True)

    def ratio(h, w, c_in, c_out, k):
        return h * w * k * k * c_in * c_out / _separable_cost(h, w, c_in, c_out, k)[1]

    check_function(saving, ratio, cases, quiet=True)
    for case in cases:
        got = saving(*case.args)
        if not isinstance(got, float):
            raise AssertionError(
                f"{case.describe(name_of(saving))}: expected a float, got {type(got).__name__}"
            )
    passed(f"{name_of(cost)} and {name_of(saving)}", 2 * len(cases))


# --------------------------------------------------------------------------- Keras models


def _layer_summary(layer) -> dict:
    config = layer.get_config()
    summary = {
        "type": type(layer).__name__,
        "output shape": tuple(layer.output.shape),
        "parameters": layer.count_params(),
    }
    for key in ("activation", "padding", "strides", "kernel_size", "pool_size", "use_bias"):
        if key in config:
            summary[key] = config[key] if not isinstance(config[key], list) else tuple(config[key])
    return summary


def _call_builder(fn: Callable, what: str, *args):
    try:
        return fn(*args)
    except Exception as exc:
        exc.add_note(f"(raised by {what})")
        raise


@learner_facing
def check_seed_cnn_model(fn: Callable) -> None:
    """``fn(input_shape, num_classes)`` -> the chapter 8 ``keras.Sequential``, compared
    layer by layer with the reference (type, output shape, activation, padding, strides,
    parameters); its outputs are probabilities."""
    from cnncourse.keras.models import seed_cnn

    keras = _keras()
    name = name_of(fn)
    configs = [((28, 28, 1), 10), ((32, 32, 3), 4)]
    for input_shape, num_classes in configs:
        what = f"{name}(input_shape={input_shape}, num_classes={num_classes})"
        model = _call_builder(fn, what, input_shape, num_classes)
        if not isinstance(model, keras.Model):
            raise AssertionError(f"{what}: expected a keras model, got {type(model).__name__}")
        reference = seed_cnn(input_shape, num_classes=num_classes)
        if len(model.layers) != len(reference.layers):
            raise AssertionError(
                f"{what}: expected {len(reference.layers)} layers, got {len(model.layers)} "
                f"({', '.join(type(layer).__name__ for layer in model.layers)})"
            )
        for i, (mine, ref) in enumerate(zip(model.layers, reference.layers, strict=True)):
            got, expected = _layer_summary(mine), _layer_summary(ref)
            for key, value in expected.items():
                if got.get(key) != value:
                    raise AssertionError(
                        f"{what}: layer {i + 1} ({expected['type']}): {key} expected {value!r}, "
                        f"got {got.get(key)!r}"
                    )
        probs = np.asarray(model.predict(np.zeros((2, *input_shape), "float32"), verbose=0))
        assert_close(probs.sum(axis=1), [1.0, 1.0], f"{what}: outputs per image sum to (softmax)", rtol=1e-5)
    passed(name, len(configs), "layers, shapes, activations, parameters")


def _reference_block(x, filters, stride):
    from cnncourse.keras.models import residual_block

    return residual_block(x, filters, stride)


def _block_layers(model) -> Counter:
    """What a block is made of, order aside: a Counter of layer descriptions."""
    found = Counter()
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        summary = _layer_summary(layer)
        if summary.get("kernel_size") == (1, 1):
            summary.pop("padding")  # the same output either way
        found[", ".join(f"{k} {v}" if k != "type" else str(v) for k, v in summary.items())] += 1
    return found


@learner_facing
def check_residual_block(fn: Callable) -> None:
    """``fn(x, filters, stride)`` on a Keras tensor -> the block's output tensor: two 3x3
    'same' conv-BN layers (the first with the stride, ReLU between), a shortcut that is
    the identity when the shape is kept and a 1x1 conv (with the stride) plus BN
    otherwise, their sum, ReLU. Compared by output shape, parameters and layers."""
    keras = _keras()
    name = name_of(fn)
    configs = [
        ((16, 16, 16), 16, 1, "shape kept: identity shortcut"),
        ((16, 16, 16), 32, 1, "more channels: projection"),
        ((16, 16, 16), 32, 2, "stride 2 and more channels: projection"),
        ((15, 15, 8), 8, 2, "stride 2 on an odd size, same channels: projection"),
    ]
    for shape, filters, stride, note in configs:
        what = Case((), {"filters": filters, "stride": stride}, note=note).describe(name)
        what = what.replace(f"{name}(", f"{name}(x (None, {', '.join(map(str, shape))}), ", 1)
        inputs = keras.Input(shape)
        try:
            out = fn(inputs, filters, stride)
            model = keras.Model(inputs, out)
        except Exception as exc:
            first_line = (str(exc).splitlines() or [""])[0]
            raise AssertionError(
                f"{what}: building the block raised {type(exc).__name__}: {first_line} "
                "(the two branches of the sum must have the same shape)"
            ) from None
        ref_inputs = keras.Input(shape)
        reference = keras.Model(ref_inputs, _reference_block(ref_inputs, filters, stride))
        got_shape, expected_shape = tuple(model.output.shape), tuple(reference.output.shape)
        if got_shape != expected_shape:
            raise AssertionError(f"{what}: output shape expected {expected_shape}, got {got_shape}")
        for label, count in [
            ("parameters", lambda m: m.count_params()),
            ("trainable parameters", _trainable),
        ]:
            if count(model) != count(reference):
                raise AssertionError(f"{what}: {label} expected {count(reference):,}, got {count(model):,}")
        missing = _block_layers(reference) - _block_layers(model)
        extra = _block_layers(model) - _block_layers(reference)
        if missing or extra:
            detail = (
                f"missing a layer ({next(iter(missing))})"
                if missing
                else f"an extra layer ({next(iter(extra))})"
            )
            raise AssertionError(f"{what}: {detail}")
    passed(name, len(configs), "shapes, parameters, identity and projection shortcuts")


# --------------------------------------------------------------------------- transfer learning


def _trainable(model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


@learner_facing
def check_count_trainable(fn: Callable) -> None:
    """``fn(model)`` -> the number of trainable parameters, an int (frozen layers and
    batch norm's moving statistics do not count)."""
    from cnncourse.keras.pretrained import load_pretrained

    name = name_of(fn)
    frozen_body = load_pretrained(num_classes=3, freeze=True)
    models = [
        (load_pretrained(), "the pretrained model, every layer trainable"),
        (frozen_body, "load_pretrained(num_classes=3, freeze=True): frozen body"),
    ]
    for model, label in models:
        what = f"{name}({label})"
        got = _call_builder(fn, what, model)
        expected = _trainable(model)
        if not isinstance(got, int | np.integer) or isinstance(got, bool):
            raise AssertionError(f"{what}: expected the int {expected}, got {type(got).__name__} {got!r}")
        if got != expected:
            raise AssertionError(f"{what}: expected {expected:,}, got {got:,}")
        if not isinstance(got, int):
            raise AssertionError(
                f"{what}: expected a Python int, got {type(got).__name__} (convert with int(...))"
            )
    passed(name, len(models), "frozen layers left out")


@learner_facing
def check_transfer_model(fn: Callable) -> None:
    """``fn(num_classes)`` -> the pretrained model with a new head for ``num_classes``,
    every layer but the head frozen, the body's pretrained weights kept."""
    from cnncourse.keras.pretrained import load_pretrained

    name = name_of(fn)
    pretrained = load_pretrained()
    for k in (5, 3):
        what = f"{name}(num_classes={k})"
        model = _call_builder(fn, what, k)
        if tuple(model.output_shape) != (None, k):
            raise AssertionError(f"{what}: output shape expected (None, {k}), got {model.output_shape}")
        if _trainable(model) != 65 * k:
            raise AssertionError(
                f"{what}: {_trainable(model):,} trainable parameters, expected {65 * k} (only the new "
                "head: freeze every layer but the last)"
            )
        if not model.layers[-1].trainable:
            raise AssertionError(f"{what}: the new head (the last layer) must stay trainable")
        if not np.array_equal(model.layers[0].get_weights()[0], pretrained.layers[0].get_weights()[0]):
            raise AssertionError(f"{what}: the body should keep the pretrained weights")
    passed(name, 2, "head size, frozen body, pretrained weights")


def _feature_extraction_accuracy(train, test, num_classes: int) -> float:
    """Test accuracy of the frozen pretrained body with a new head trained for 30 epochs
    at learning rate 1e-2 (stage 1 alone), as the learner's part 3 does it."""
    from cnncourse.keras.pretrained import load_pretrained

    keras = _keras()
    keras.utils.set_random_seed(0)
    model = load_pretrained(num_classes=num_classes, freeze=True, seed=0)
    model.compile(keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train.x, train.y, epochs=30, batch_size=10, verbose=0)
    return float(model.evaluate(test.x, test.y, verbose=0)[1])


@learner_facing
def check_two_stage_fine_tune(model, train, test, call: str) -> None:
    """``model``, what ``call`` (the learner's two-stage fine-tuning on ``train``) returned:
    every layer trainable, compiled for stage 2 with Adam at learning rate 1e-3, and a test
    accuracy at least 0.03 above feature extraction's (stage 1 alone)."""
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise AssertionError(f"{call}: expected the model, got {type(model).__name__}")
    frozen = [layer.name for layer in model.layers if not layer.trainable and layer.weights]
    if frozen:
        raise AssertionError(f"{call}: stage 2 trains every layer; still frozen: {', '.join(frozen)}")
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, keras.optimizers.Adam):
        raise AssertionError(
            f"{call}: compile stage 2 with keras.optimizers.Adam; got {type(optimizer).__name__}"
        )
    lr = float(np.asarray(optimizer.learning_rate))
    if abs(lr - 1e-3) > 1e-9:
        raise AssertionError(
            f"{call}: stage 2's learning rate expected 0.001, got {lr:g} (recompile after unfreezing)"
        )
    accuracy = float(model.evaluate(test.x, test.y, verbose=0)[1])
    baseline = _feature_extraction_accuracy(train, test, int(model.output_shape[-1]))
    print(f"two-stage fine-tuning: test accuracy {accuracy:.3f}; feature extraction alone {baseline:.3f}")
    if accuracy < baseline + 0.03:
        raise AssertionError(
            f"{call}: test accuracy {accuracy:.3f}, expected at least {baseline + 0.03:.3f} "
            "(feature extraction alone + 0.03)"
        )
    passed(call.split("(")[0], 3, "every layer trainable, Adam 1e-3, beats feature extraction")
