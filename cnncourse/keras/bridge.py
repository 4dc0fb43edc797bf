"""Move networks between Keras and the NumPy engine :mod:`cnncourse.nn`, and check that
the two compute the same numbers.

Both store weights channels-last in the same order (conv ``(KH, KW, C_in, C_out)``,
dense ``(D_in, D_out)``, batch norm ``[gamma, beta, moving_mean, moving_variance]``),
so weights move as they are, without transposes.

>>> net = to_numpy(keras_model)            # a cnncourse.nn.Sequential, same weights
>>> back = to_keras(net)                   # and the reverse
>>> compare_outputs(keras_model, net, x)   # largest absolute difference
"""

from __future__ import annotations

import numpy as np

from cnncourse import nn
from cnncourse.nn import layers as nn_layers

from . import compat
from ._tf import keras, tf

L = keras.layers

# Activations that the NumPy affine layers apply themselves; others become a layer.
_INLINE = {"relu", "sigmoid", "tanh", "softmax"}
_KERAS_LEAKY_SLOPE = 0.2  # keras.activations.leaky_relu's default negative slope


# --------------------------------------------------------------------------- Keras -> NumPy


def to_numpy(model: keras.Model, dtype=np.float32, seed: int = 0) -> nn.Sequential:
    """A :class:`cnncourse.nn.Sequential` with the architecture and weights of ``model``.

    model: a Keras ``Sequential`` (or a functional model that is a plain chain) of
    Conv2D, Dense, MaxPooling2D / AveragePooling2D (valid padding), Flatten, Dropout,
    BatchNormalization, GlobalAveragePooling2D, Activation, ReLU, LeakyReLU, Softmax and
    symmetric ZeroPadding2D before a valid Conv2D. Anything else raises ``TypeError``.
    dtype: float32 (fast) or float64 (for gradient checks); seed: for dropout masks.
    """
    _check_keras_model(model)
    net_layers = []
    pending_pad = None
    for layer in _chain(model):
        if pending_pad is not None and not (isinstance(layer, L.Conv2D) and layer.padding == "valid"):
            raise TypeError(
                f"ZeroPadding2D is supported only right before a Conv2D with "
                f"padding='valid'; it is followed by {_describe(layer)}"
            )
        if isinstance(layer, L.ZeroPadding2D):
            pending_pad = _symmetric_padding(layer)
            continue
        converted = _layer_to_numpy(layer, pending_pad)
        pending_pad = None
        net_layers.extend(converted)
    if pending_pad is not None:
        raise TypeError("the model ends with ZeroPadding2D, which has no NumPy equivalent")
    net = nn.Sequential(
        net_layers, input_shape=model.inputs[0].shape[1:], seed=seed, dtype=dtype, name=model.name
    )
    copy_weights(model, net)
    return net


def _chain(model):
    """The layers of ``model`` in order, checking that it is a simple chain."""
    chain = [layer for layer in model.layers if not isinstance(layer, L.InputLayer)]
    if not isinstance(model, keras.Sequential):
        previous = model.inputs[0]
        for layer in chain:
            if compat.times_called(layer) != 1 or layer.input is not previous:
                raise TypeError(
                    f"{model.name} is not a plain chain of layers (at "
                    f"{_describe(layer)}); only sequential models convert"
                )
            previous = layer.output
    return chain


def _layer_to_numpy(layer, padding=None) -> list:
    name = layer.name
    if type(layer) is L.Conv2D:
        if tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1:
            raise TypeError(f"{_describe(layer)}: dilation and groups are not supported")
        _check_channels_last(layer)
        act, extra = _split_activation(layer)
        return [
            nn.Conv2D(
                layer.filters,
                tuple(layer.kernel_size),
                tuple(layer.strides),
                padding if padding is not None else layer.padding,
                activation=act,
                use_bias=layer.use_bias,
                kernel_regularizer=_regularizer_to_numpy(layer),
                name=name,
            ),
            *extra,
        ]
    if type(layer) is L.Dense:
        act, extra = _split_activation(layer)
        return [
            nn.Dense(
                layer.units,
                activation=act,
                use_bias=layer.use_bias,
                kernel_regularizer=_regularizer_to_numpy(layer),
                name=name,
            ),
            *extra,
        ]
    if type(layer) in (L.MaxPooling2D, L.AveragePooling2D):
        if layer.padding != "valid":
            raise TypeError(f"{_describe(layer)}: only padding='valid' pooling converts")
        _check_channels_last(layer)
        cls = nn.MaxPool2D if isinstance(layer, L.MaxPooling2D) else nn.AvgPool2D
        return [cls(tuple(layer.pool_size), tuple(layer.strides), name=name)]
    if type(layer) is L.Flatten:
        return [nn.Flatten(name=name)]
    if type(layer) is L.GlobalAveragePooling2D:
        if layer.keepdims:
            raise TypeError(f"{_describe(layer)}: keepdims=True is not supported")
        return [nn.GlobalAvgPool2D(name=name)]
    if type(layer) is L.Dropout:
        return [nn.Dropout(layer.rate, seed=layer.seed, name=name)]
    if type(layer) is L.BatchNormalization:
        if layer.axis not in (-1, len(layer.input.shape) - 1) or not (layer.center and layer.scale):
            raise TypeError(f"{_describe(layer)}: only axis=-1 with center and scale converts")
        return [nn.BatchNorm(momentum=layer.momentum, epsilon=layer.epsilon, name=name)]
    if type(layer) is L.Activation:
        act = keras.activations.serialize(layer.activation)
        if act == "leaky_relu":
            return [nn.LeakyReLU(_KERAS_LEAKY_SLOPE, name=name)]
        if act not in _INLINE | {"linear"}:
            raise TypeError(f"{_describe(layer)}: activation {act!r} has no NumPy version")
        return [nn.Activation(act, name=name)]
    if type(layer) is L.ReLU:
        if layer.max_value is not None or layer.negative_slope or layer.threshold:
            raise TypeError(f"{_describe(layer)}: only the plain ReLU converts")
        return [nn.Activation("relu", name=name)]
    if type(layer) is L.LeakyReLU:
        return [nn.LeakyReLU(float(layer.negative_slope), name=name)]
    if type(layer) is L.Softmax:
        if layer.axis not in (-1, len(layer.input.shape) - 1):
            raise TypeError(f"{_describe(layer)}: only softmax over the last axis converts")
        return [nn.Activation("softmax", name=name)]
    raise TypeError(
        f"{_describe(layer)} has no NumPy equivalent; supported: Conv2D, Dense, "
        "MaxPooling2D, AveragePooling2D, Flatten, GlobalAveragePooling2D, Dropout, "
        "BatchNormalization, Activation, ReLU, LeakyReLU, Softmax, ZeroPadding2D"
    )


def _split_activation(layer):
    """(activation for the NumPy affine layer, [extra activation layers])."""
    act = keras.activations.serialize(layer.activation)
    if act == "linear":
        return None, []
    if act in _INLINE:
        return act, []
    if act == "leaky_relu":
        return None, [nn.LeakyReLU(_KERAS_LEAKY_SLOPE, name=f"{layer.name}_leaky_relu")]
    raise TypeError(
        f"{_describe(layer)}: activation {act!r} has no NumPy version; use one of "
        f"{sorted(_INLINE | {'linear', 'leaky_relu'})}"
    )


def _regularizer_to_numpy(layer):
    reg = layer.kernel_regularizer
    if reg is None:
        return None
    config = reg.get_config()
    if not set(config) <= {"l1", "l2"}:
        raise TypeError(f"{_describe(layer)}: only L1 / L2 kernel regularizers convert")
    return nn_layers.Regularizer(l1=config.get("l1", 0.0), l2=config.get("l2", 0.0))


def _symmetric_padding(layer) -> int:
    (top, bottom), (left, right) = layer.padding
    if len({top, bottom, left, right}) != 1:
        raise TypeError(
            f"{_describe(layer)}: only the same padding on every side converts; got {layer.padding}"
        )
    return int(top)


def _check_channels_last(layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise TypeError(f"{_describe(layer)}: only channels_last data converts")


# --------------------------------------------------------------------------- NumPy -> Keras


def to_keras(net: nn.Sequential, name: str | None = None) -> keras.Sequential:
    """A Keras ``Sequential`` with the architecture and weights of a built
    :class:`cnncourse.nn.Sequential`. Integer padding becomes ``ZeroPadding2D`` + a
    valid convolution; inline leaky ReLU becomes a ``LeakyReLU`` layer. Sum pooling has
    no Keras layer and raises ``TypeError``."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"to_keras expects a cnncourse.nn.Sequential; got {type(net).__name__}")
    if net.input_shape is None:
        raise ValueError(
            "the NumPy model has no input shape yet: build it first "
            "(pass input_shape=(H, W, C) or call predict)"
        )
    keras_layers = [keras.Input(net.input_shape)]
    for layer in net.layers:
        keras_layers.extend(_layer_to_keras(layer))
    model = keras.Sequential(keras_layers, name=name or net.name)
    copy_weights(net, model)
    return model


def _layer_to_keras(layer) -> list:
    name = layer.name
    if isinstance(layer, nn.Conv2D | nn.Dense):
        out = []
        inline, after = _activation_to_keras(layer)
        common = {
            "activation": inline,
            "use_bias": layer.use_bias,
            "name": name,
            "kernel_regularizer": _regularizer_to_keras(layer.kernel_regularizer),
        }
        if isinstance(layer, nn.Conv2D):
            padding = layer.padding
            if not isinstance(padding, str):
                out.append(L.ZeroPadding2D(int(padding), name=f"{name}_pad"))
                padding = "valid"
            out.append(L.Conv2D(layer.filters, layer.kernel_size, layer.strides, padding=padding, **common))
        else:
            out.append(L.Dense(layer.units, **common))
        return out + after
    if isinstance(layer, nn_layers.SumPool2D):
        raise TypeError(f"{name} (SumPool2D) has no Keras layer; use AvgPool2D and scale by the window size")
    if isinstance(layer, nn.MaxPool2D | nn.AvgPool2D):
        cls = L.MaxPooling2D if isinstance(layer, nn.MaxPool2D) else L.AveragePooling2D
        return [cls(layer.pool_size, layer.strides, name=name)]
    if isinstance(layer, nn.Flatten):
        return [L.Flatten(name=name)]
    if isinstance(layer, nn.GlobalAvgPool2D):
        return [L.GlobalAveragePooling2D(name=name)]
    if isinstance(layer, nn.Dropout):
        return [L.Dropout(layer.rate, name=name)]
    if isinstance(layer, nn.BatchNorm):
        return [L.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, name=name)]
    if isinstance(layer, nn.Activation):
        if layer.activation == "leaky_relu":
            return [L.LeakyReLU(negative_slope=layer.kwargs.get("alpha", 0.01), name=name)]
        return [L.Activation(layer.activation or "linear", name=name)]
    raise TypeError(f"{name} ({type(layer).__name__}) has no Keras equivalent")


def _activation_to_keras(layer):
    """(inline Keras activation, [extra layers]) for a NumPy Conv2D / Dense."""
    if layer.activation == "leaky_relu":  # the NumPy default slope differs from Keras'
        return None, [L.LeakyReLU(negative_slope=0.01, name=f"{layer.name}_leaky_relu")]
    return layer.activation, []


def _regularizer_to_keras(reg):
    if reg is None:
        return None
    return keras.regularizers.L1L2(l1=reg.l1, l2=reg.l2)


# --------------------------------------------------------------------------- weights


def copy_weights(source, target) -> None:
    """Copy every weight array from ``source`` to ``target`` (a Keras model and a
    :class:`cnncourse.nn.Sequential`, either way round), layer by layer, checking
    shapes. The two must list their weighted layers in the same order."""
    src, dst = _weighted_layers(source), _weighted_layers(target)
    if len(src) != len(dst):
        raise ValueError(
            f"the models have different numbers of layers with weights: "
            f"{len(src)} in the source, {len(dst)} in the target"
        )
    for (s_name, s_layer), (d_name, d_layer) in zip(src, dst, strict=True):
        weights = s_layer.get_weights()
        expected = [w.shape for w in d_layer.get_weights()]
        got = [np.shape(w) for w in weights]
        if got != expected:
            raise ValueError(f"layer {s_name} has weights of shapes {got}, but {d_name} expects {expected}")
        if isinstance(d_layer, nn.Layer):
            d_layer.set_weights(weights)
        else:
            d_layer.set_weights(
                [np.asarray(w, dtype=v.dtype) for w, v in zip(weights, d_layer.get_weights(), strict=True)]
            )


def _weighted_layers(model):
    if isinstance(model, nn.Sequential):
        return [(layer.name, layer) for layer in model.layers if layer.weight_names]
    if isinstance(model, keras.Model):
        return [(layer.name, layer) for layer in model.layers if layer.weights]
    raise TypeError(f"expected a keras.Model or a cnncourse.nn.Sequential; got {type(model).__name__}")


# --------------------------------------------------------------------------- parity


def compare_outputs(keras_model: keras.Model, net: nn.Sequential, x) -> float:
    """Largest absolute difference between the two models' outputs on ``x`` (inference
    mode). x: ``(N, H, W, C)``."""
    x = np.asarray(x, dtype=net.dtype)
    ours = net.predict(x)
    theirs = np.asarray(keras_model(x, training=False))
    return float(np.max(np.abs(ours.astype(np.float64) - theirs)))


def relative_difference(a, b) -> float:
    """``max|a - b| / max(max|a|, max|b|)``: the largest gap relative to the arrays'
    scale (element-wise ratios blow up on entries that are nearly zero in both)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


def gradients(keras_model: keras.Model, net: nn.Sequential, x, y):
    """One training step's gradients of the mean cross-entropy (plus any weight
    penalties), computed by NumPy backpropagation and by ``tf.GradientTape``.

    x: ``(N, H, W, C)``; y: ``(N,)`` integer labels. Both models run in training mode
    (batch norm uses the batch statistics; dropout masks differ between the two, so
    compare models without dropout). Where a ReLU's input is within float32 rounding of
    0 the two sides may take different sides of the kink and legitimately disagree;
    compare on inputs away from it (or with ``dtype=np.float64`` in :func:`to_numpy`).
    Returns ``(numpy_grads, keras_grads, names)``:
    lists in Keras' ``trainable_weights`` order.
    """
    x = np.asarray(x, dtype=net.dtype)
    y = np.asarray(y)
    net.loss(x, y, training=True)
    ours = [layer.grads[k] for layer in net.layers for k in layer.weight_names if k in layer.params]
    with tf.GradientTape() as tape:
        probs = keras_model(x, training=True)
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, probs))
        if keras_model.losses:
            loss = loss + keras.ops.sum(keras_model.losses)
    variables = keras_model.trainable_weights
    theirs = [np.asarray(g) for g in tape.gradient(loss, variables)]
    if len(ours) != len(theirs):
        raise ValueError(
            f"the NumPy model has {len(ours)} trainable arrays, the Keras model "
            f"{len(theirs)}; are they the same architecture?"
        )
    return ours, theirs, [v.path for v in variables]


def compare_gradients(keras_model: keras.Model, net: nn.Sequential, x, y) -> dict[str, float]:
    """:func:`relative_difference` of each trainable array's gradient, NumPy vs Keras,
    keyed by the Keras variable path (``"conv1/kernel"``...)."""
    ours, theirs, names = gradients(keras_model, net, x, y)
    return {n: relative_difference(a, b) for n, a, b in zip(names, ours, theirs, strict=True)}


def _check_keras_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model; got {type(model).__name__}")
    if not model.built or not model.inputs:
        raise ValueError(f"{model.name} has no input shape yet: build it with keras.Input")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise TypeError(
            f"{model.name} has {len(model.inputs)} inputs and "
            f"{len(model.outputs)} outputs; only single-input, single-output "
            "chains convert"
        )


def _describe(layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})"
