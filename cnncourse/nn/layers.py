"""Layer classes over the functional pairs, with Keras' names and weight layouts.

A layer owns its parameters (``params``: dict of arrays, trainable), their gradients
(``grads``, same keys) and, for batch norm, non-trainable ``state``. ``get_weights()``
returns arrays in the order Keras' ``layer.get_weights()`` does, so weights move
between the two without transposes. Shapes passed to ``build`` exclude the batch axis.
``get_config()`` describes a layer as plain data and ``from_config`` rebuilds it (what a
checkpoint stores, see :mod:`cnncourse.nn.checkpoint`).
"""

from __future__ import annotations

import re

import numpy as np

from . import functional as F
from .init import INITIALIZERS, get_initializer
from .validation import output_size, pair, positive_int

ACTIVATIONS = {
    "relu": (F.relu_forward, F.relu_backward),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward),
    "tanh": (F.tanh_forward, F.tanh_backward),
    "softmax": (F.softmax_forward, F.softmax_backward),
}


def _activation_pair(name):
    if name is None or name == "linear":
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)} or None")
    return ACTIVATIONS[name]


class Regularizer:
    """Penalty on a kernel, added to the loss: ``l1 * sum(|w|) + l2 * sum(w**2)``.

    Pass one as ``kernel_regularizer=`` to :class:`Conv2D` or :class:`Dense`;
    :class:`L1` and :class:`L2` are the two halves on their own.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"penalty strengths must be >= 0; got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        """Returns ``(penalty, dpenalty/dw)``."""
        p1, g1 = F.l1_penalty(w, self.l1)
        p2, g2 = F.l2_penalty(w, self.l2)
        return p1 + p2, g1 + g2

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


class L1(Regularizer):
    """``strength * sum(|w|)``, which pushes weights to exactly zero (Keras' L1)."""

    def __init__(self, strength: float = 0.01):
        super().__init__(l1=strength)

    def get_config(self):
        return {"strength": self.l1}

    def __repr__(self):
        return f"L1(strength={self.l1})"


class L2(Regularizer):
    """``strength * sum(w**2)``, weight decay (Keras' L2)."""

    def __init__(self, strength: float = 0.01):
        super().__init__(l2=strength)

    def get_config(self):
        return {"strength": self.l2}

    def __repr__(self):
        return f"L2(strength={self.l2})"


REGULARIZERS = {cls.__name__: cls for cls in (Regularizer, L1, L2)}


def _serialize_regularizer(regularizer):
    if regularizer is None:
        return None
    if type(regularizer) not in REGULARIZERS.values():
        return regularizer  # not plain data: a checkpoint refuses it by name
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def _deserialize_regularizer(data):
    if data is None or isinstance(data, Regularizer):
        return data
    if not isinstance(data, dict) or data.get("class_name") not in REGULARIZERS:
        raise ValueError(f"not a saved regulariser (a class_name among {sorted(REGULARIZERS)}); got {data!r}")
    return REGULARIZERS[data["class_name"]](**data.get("config", {}))


class Layer:
    """Base class of every layer: the whole contract a new layer fulfils.

    :class:`~cnncourse.nn.model.Sequential` calls, in order: :meth:`build` once, when the
    input shape is known; then per batch :meth:`forward` and, when training,
    :meth:`backward` and :meth:`penalty`. A subclass overrides :meth:`forward` and
    :meth:`backward` always, :meth:`build` when it has parameters,
    :meth:`output_shape` when it changes the shape and :meth:`get_config` when its
    constructor takes arguments besides ``name`` (a checkpoint stores them).

    What a layer holds:

    - ``name``: ``"max_pool2d"`` for ``MaxPool2D`` unless given; Sequential numbers
      repeats (``dense``, ``dense_1``).
    - ``params``: trainable arrays by name (``{"w": ..., "b": ...}``), made in
      :meth:`build`; ``grads``: their gradients, same keys, filled by :meth:`backward`.
    - ``state``: non-trainable arrays (batch norm's moving statistics).
    - ``weight_names``: the keys of ``params`` and ``state`` in the order of Keras'
      ``get_weights()``.
    - ``cache``: what :meth:`forward` keeps for :meth:`backward` (usually the cache of a
      :mod:`~cnncourse.nn.functional` forward).
    - ``activation``: the name of the activation the layer applies last (``"relu"``,
      ``"softmax"``...), or None.
    - ``logits``: the input of that activation in the last :meth:`forward` (the scores
      before softmax), or None.

    **Fused softmax + cross-entropy.** When the last layer's ``activation`` is
    ``"softmax"``, :meth:`Sequential.loss <cnncourse.nn.model.Sequential.loss>` does not
    differentiate through the softmax: it computes the loss from that layer's ``logits``
    (with log-sum-exp, stable for huge scores) and its gradient
    ``dlogits = (softmax(logits) - onehot) / N`` in one step, then calls
    ``backward(dlogits, through_activation=False)`` on that layer, which skips the
    activation's backward. So a layer that applies an activation sets ``activation``,
    stores ``logits`` in :meth:`forward` and honours ``through_activation`` (see
    :class:`Dense`, :class:`Activation`); a layer without one leaves both None and
    accepts the flag without using it (its output is its logits).
    """

    weight_names: tuple[str, ...] = ()
    activation: str | None = None
    logits: np.ndarray | None = None

    def __init__(self, name: str | None = None):
        # "MaxPool2D" -> "max_pool2d", as Keras names its layers.
        self.name = name or re.sub(r"(?<=[a-z])(?=[A-Z])", "_", type(self).__name__).lower()
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.input_shape: tuple | None = None
        self.cache = None

    @property
    def built(self) -> bool:
        return self.input_shape is not None

    def build(self, input_shape, rng=None, dtype=np.float32):
        """Create parameters for inputs of ``input_shape`` (no batch axis), drawing random
        values from ``rng`` (a ``numpy.random.Generator``) in ``dtype``. An override
        calls ``super().build(input_shape)``, which records the shape."""
        self.input_shape = tuple(input_shape)

    def output_shape(self, input_shape) -> tuple:
        """The output's shape for inputs of ``input_shape`` (no batch axis); the same by
        default."""
        return tuple(input_shape)

    def forward(self, x, training=False):
        """The output for a batch ``x``; keeps what :meth:`backward` needs in
        ``self.cache`` (and the activation's input in ``self.logits``). ``training``
        switches dropout and batch statistics on."""
        raise NotImplementedError

    def backward(self, dout, through_activation=True):
        """The gradient with respect to the input of the last :meth:`forward`, given
        ``dout``, the gradient with respect to its output; fills ``self.grads``.

        ``through_activation=False``: ``dout`` is already the gradient with respect to
        ``logits``, so the activation's backward is skipped (the fused softmax +
        cross-entropy above). Layers without an activation accept it and ignore it.
        """
        raise NotImplementedError

    def penalty(self) -> float:
        """Regularisation loss this layer adds (its gradient is added in backward)."""
        return 0.0

    def get_config(self) -> dict:
        """The constructor's arguments as plain data (numbers, strings, lists, dicts):
        ``type(self).from_config(config)`` builds the same layer, without weights."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()) + sum(s.size for s in self.state.values()))

    def get_weights(self) -> list[np.ndarray]:
        """Arrays in Keras' order (e.g. ``[kernel, bias]``; batch norm adds its moving stats)."""
        store = {**self.params, **self.state}
        return [store[k].copy() for k in self.weight_names]

    def set_weights(self, weights) -> None:
        store = {**self.params, **self.state}
        if len(weights) != len(self.weight_names):
            raise ValueError(
                f"{self.name} expects {len(self.weight_names)} arrays {self.weight_names}; got {len(weights)}"
            )
        for key, value in zip(self.weight_names, weights, strict=True):
            value = np.asarray(value)
            if value.shape != store[key].shape:
                raise ValueError(f"{self.name}.{key} must have shape {store[key].shape}; got {value.shape}")
            store[key][...] = value

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class _Affine(Layer):
    """Shared logic of Conv2D and Dense: kernel + bias, optional activation and regulariser."""

    weight_names = ("w", "b")

    def __init__(
        self,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        name=None,
    ):
        super().__init__(name)
        self.activation = activation
        self._act = _activation_pair(activation)
        self.use_bias = use_bias
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.kernel_regularizer = kernel_regularizer
        if not use_bias:
            self.weight_names = ("w",)

    def get_config(self):
        init = self.kernel_initializer
        return {
            **super().get_config(),
            "activation": self.activation,
            "use_bias": self.use_bias,
            # A built-in initialiser by its name; one of your own stays a function, which
            # a checkpoint refuses (it cannot store code).
            "kernel_initializer": next((k for k, fn in INITIALIZERS.items() if fn is init), init),
            "kernel_regularizer": _serialize_regularizer(self.kernel_regularizer),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["kernel_regularizer"] = _deserialize_regularizer(config.get("kernel_regularizer"))
        return cls(**config)

    def _init_params(self, kernel_shape, rng, dtype):
        self.params["w"] = self.kernel_initializer(kernel_shape, rng, dtype)
        if self.use_bias:
            self.params["b"] = np.zeros(kernel_shape[-1], dtype=dtype)

    def _bias(self):
        return self.params.get("b")

    def _linear_forward(self, x):
        raise NotImplementedError

    def _linear_backward(self, dz, cache):
        raise NotImplementedError

    def forward(self, x, training=False):
        z, linear_cache = self._linear_forward(x)
        act_cache = None
        out = z
        if self._act is not None:
            out, act_cache = self._act[0](z)
        self.cache = (linear_cache, act_cache)
        self.logits = z
        return out

    def backward(self, dout, through_activation=True):
        """Gradient w.r.t. the input; ``through_activation=False`` treats ``dout`` as the
        gradient of the pre-activation (used for a fused softmax + cross-entropy)."""
        linear_cache, act_cache = self.cache
        dz = dout
        if self._act is not None and through_activation:
            dz = self._act[1](dout, act_cache)
        dx, dw, db = self._linear_backward(dz, linear_cache)
        if self.kernel_regularizer is not None:
            dw = dw + self.kernel_regularizer(self.params["w"])[1]
        self.grads["w"] = dw.astype(self.params["w"].dtype, copy=False)
        if self.use_bias:
            self.grads["b"] = db.astype(self.params["b"].dtype, copy=False)
        return dx

    def penalty(self):
        if self.kernel_regularizer is None:
            return 0.0
        return self.kernel_regularizer(self.params["w"])[0]


class Conv2D(_Affine):
    """``filters`` kernels of ``kernel_size`` sliding over ``(H, W, C_in)`` inputs.

    Kernel ``(KH, KW, C_in, filters)``, bias ``(filters,)``; parameters
    ``KH*KW*C_in*filters + filters``.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        name=None,
    ):
        super().__init__(activation, use_bias, kernel_initializer, kernel_regularizer, name)
        self.filters = positive_int(filters, "filters")
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = padding

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
        }

    def build(self, input_shape, rng=None, dtype=np.float32):
        if len(input_shape) != 3:
            raise ValueError(f"Conv2D expects inputs (H, W, C); got shape {tuple(input_shape)}")
        super().build(input_shape)
        self._init_params((*self.kernel_size, input_shape[2], self.filters), rng, dtype)

    def output_shape(self, input_shape):
        kernel = (*self.kernel_size, input_shape[2], self.filters)
        return F.conv_output_shape((1, *input_shape), kernel, self.strides, self.padding)[1:]

    def _linear_forward(self, x):
        return F.conv2d_forward(x, self.params["w"], self._bias(), self.strides, self.padding)

    def _linear_backward(self, dz, cache):
        return F.conv2d_backward(dz, cache)


class Dense(_Affine):
    """Fully connected: ``x @ w + b`` with w ``(D_in, units)``; parameters ``D_in*units + units``."""

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        name=None,
    ):
        super().__init__(activation, use_bias, kernel_initializer, kernel_regularizer, name)
        self.units = positive_int(units, "units")

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def build(self, input_shape, rng=None, dtype=np.float32):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs (D,); got shape {tuple(input_shape)}; add a Flatten layer first"
            )
        super().build(input_shape)
        self._init_params((input_shape[0], self.units), rng, dtype)

    def output_shape(self, input_shape):
        return (self.units,)

    def _linear_forward(self, x):
        return F.dense_forward(x, self.params["w"], self._bias())

    def _linear_backward(self, dz, cache):
        return F.dense_backward(dz, cache)


class _Pool(Layer):
    mode = "max"

    def __init__(self, pool_size=2, strides=None, name=None):
        super().__init__(name)
        self.pool_size = pair(pool_size, "pool_size")
        self.strides = pair(strides if strides is not None else pool_size, "strides")

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides}

    def output_shape(self, input_shape):
        h, w, c = input_shape
        return (
            output_size(h, self.pool_size[0], self.strides[0], 0, "height"),
            output_size(w, self.pool_size[1], self.strides[1], 0, "width"),
            c,
        )

    def forward(self, x, training=False):
        out, self.cache = F.pool_forward(x, self.pool_size, self.strides, self.mode)
        return out

    def backward(self, dout, through_activation=True):
        return F.pool_backward(dout, self.cache)


class MaxPool2D(_Pool):
    """Largest value of each window."""

    mode = "max"


class AvgPool2D(_Pool):
    """Mean of each window."""

    mode = "avg"


class SumPool2D(_Pool):
    """Sum of each window."""

    mode = "sum"


MaxPooling2D, AveragePooling2D = MaxPool2D, AvgPool2D


class GlobalAvgPool2D(Layer):
    """Mean over height and width: ``(H, W, C)`` -> ``(C,)``."""

    def output_shape(self, input_shape):
        return (input_shape[-1],)

    def forward(self, x, training=False):
        out, self.cache = F.global_avg_pool_forward(x)
        return out

    def backward(self, dout, through_activation=True):
        return F.global_avg_pool_backward(dout, self.cache)


GlobalAveragePooling2D = GlobalAvgPool2D


class Flatten(Layer):
    """``(H, W, C)`` -> ``(H*W*C,)`` in C order, as Keras does for channels-last."""

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        out, self.cache = F.flatten_forward(x)
        return out

    def backward(self, dout, through_activation=True):
        return F.flatten_backward(dout, self.cache)


class Activation(Layer):
    """An element-wise non-linearity by name: relu, leaky_relu, sigmoid, tanh, softmax
    (None or "linear": the identity). ``kwargs`` go to the forward function
    (``alpha=`` for leaky_relu). :class:`ReLU`, :class:`LeakyReLU` and :class:`Softmax`
    are the common ones by class."""

    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name or activation)
        self.activation = activation
        self._act = _activation_pair(activation)
        self.kwargs = kwargs

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, **self.kwargs}

    def forward(self, x, training=False):
        self.logits = x
        if self._act is None:
            return x
        out, self.cache = self._act[0](x, **self.kwargs)
        return out

    def backward(self, dout, through_activation=True):
        """``dout`` through the activation's derivative; unchanged when
        ``through_activation=False`` (``dout`` is then the gradient of ``logits``)."""
        if self._act is None or not through_activation:
            return dout
        return self._act[1](dout, self.cache)

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"Activation({self.activation!r}, name={self.name!r}{extra})"


class ReLU(Activation):
    """``max(0, x)`` as a layer: ``Activation("relu")``."""

    def __init__(self, name=None):
        super().__init__("relu", name=name)

    get_config = Layer.get_config  # the activation is fixed: only the name to store

    def __repr__(self):
        return f"ReLU(name={self.name!r})"


class LeakyReLU(Activation):
    """``x`` where positive, ``alpha * x`` elsewhere: ``Activation("leaky_relu", alpha=alpha)``.

    The default slope 0.01 is :func:`~cnncourse.nn.functional.leaky_relu_forward`'s
    (Keras' ``LeakyReLU`` layer defaults to 0.3).
    """

    def __init__(self, alpha=0.01, name=None):
        super().__init__("leaky_relu", name=name, alpha=alpha)

    def get_config(self):
        return {"alpha": self.alpha, "name": self.name}

    @property
    def alpha(self) -> float:
        """The slope for negative inputs (kept in ``kwargs``, which the forward receives)."""
        return self.kwargs["alpha"]

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha!r}, name={self.name!r})"


class Softmax(Activation):
    """Probabilities over the last axis: ``Activation("softmax")``. As a model's last layer
    it trains with the fused softmax + cross-entropy (see :class:`Layer`)."""

    def __init__(self, name=None):
        super().__init__("softmax", name=name)

    get_config = Layer.get_config  # the activation is fixed: only the name to store

    def __repr__(self):
        return f"Softmax(name={self.name!r})"


class Dropout(Layer):
    """Inverted dropout at ``rate`` while training; identity at inference.

    The masks come from a generator seeded by ``seed`` (or by the model), so runs repeat.
    """

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1); got {rate}")
        self.rate = rate
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._seeded = seed is not None

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape)
        if not self._seeded and rng is not None:
            self.rng = np.random.default_rng(rng.integers(2**63))

    def forward(self, x, training=False):
        out, self.cache = F.dropout_forward(x, self.rate, training, self.rng)
        return out

    def backward(self, dout, through_activation=True):
        return F.dropout_backward(dout, self.cache)


class BatchNorm(Layer):
    """Batch normalisation over the last axis (channels), with Keras' defaults.

    Trainable ``gamma``, ``beta``; running ``moving_mean``, ``moving_var`` (non-trainable,
    counted in the parameters as Keras does).
    """

    weight_names = ("gamma", "beta", "moving_mean", "moving_var")

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None):
        super().__init__(name)
        self.momentum, self.epsilon = momentum, epsilon

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape)
        c = input_shape[-1]
        self.params = {"gamma": np.ones(c, dtype), "beta": np.zeros(c, dtype)}
        self.state = {"moving_mean": np.zeros(c, dtype), "moving_var": np.ones(c, dtype)}

    def forward(self, x, training=False):
        out, self.cache = F.batchnorm_forward(
            x,
            self.params["gamma"],
            self.params["beta"],
            self.state["moving_mean"],
            self.state["moving_var"],
            training=training,
            momentum=self.momentum,
            eps=self.epsilon,
        )
        return out

    def backward(self, dout, through_activation=True):
        dx, self.grads["gamma"], self.grads["beta"] = F.batchnorm_backward(dout, self.cache)
        return dx


BatchNormalization = BatchNorm
