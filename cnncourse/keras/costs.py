"""What an architecture costs: parameters, multiply-adds (MACs) and depth, for any Keras
model (:func:`count_macs`, :func:`layer_macs`, :func:`weight_depth`) and as a table of
the classic image classifiers, from LeNet-5 to EfficientNet (:func:`architecture_costs`).

The ImageNet models come from ``keras.applications`` with ``weights=None`` (nothing is
downloaded). They are built inside a ``keras.StatelessScope`` that records every
weight's shape but never fills it with random numbers, so even VGG16's 138 million
parameters take about a second and no memory. Such a model can be counted, not run.

>>> rows = architecture_costs(["AlexNet", "ResNet50"])
>>> [(r.name, r.params) for r in rows]
[('AlexNet', 62378344), ('ResNet50', 25636712)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from . import compat
from ._tf import keras
from .layers import SpatialTransformer
from .models import alexnet, lenet5

layers = keras.layers


# --------------------------------------------------------------------------- counting


_PER_OUTPUT = (
    layers.Conv1D,
    layers.Conv2D,
    layers.Conv3D,
    layers.DepthwiseConv1D,
    layers.DepthwiseConv2D,
    layers.Dense,
)
_SEPARABLE = (layers.SeparableConv1D, layers.SeparableConv2D)
_TRANSPOSED = (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)


def layer_macs(layer) -> int:
    """Multiply-accumulate operations of one built layer for one example (0 for layers
    without a kernel: pooling, activations, batch norm, add, concatenate ...).

    Conv (1D/2D/3D): ``output positions * KH*KW*C_in*C_out`` (e.g. ``OH*OW*KH*KW*C_in*C_out``);
    DepthwiseConv: ``positions * KH*KW*C_in*mult``; SeparableConv: depthwise plus pointwise,
    ``positions * (KH*KW*C_in*mult + C_in*mult*C_out)``; transposed conv: ``input positions
    * KH*KW*C_in*C_out`` (each input pixel paints a window); Dense: ``D_in*D_out`` (per
    position, if applied to a sequence or image). Nested models are summed.
    """
    if isinstance(layer, keras.Model):
        return count_macs(layer)
    if isinstance(layer, SpatialTransformer):
        return count_macs(layer.localization)
    if isinstance(layer, _TRANSPOSED):
        return math.prod(layer.input.shape[1:-1]) * math.prod(layer.kernel.shape)
    if isinstance(layer, _SEPARABLE):
        per_position = math.prod(layer.depthwise_kernel.shape) + math.prod(layer.pointwise_kernel.shape)
        return math.prod(layer.output.shape[1:-1]) * per_position
    if isinstance(layer, _PER_OUTPUT):  # one kernel application per output position
        return math.prod(layer.output.shape[1:-1]) * math.prod(layer.kernel.shape)
    return 0


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulate operations for one example through the conv and dense layers
    (roughly half the FLOPs): the sum of :func:`layer_macs` over the model's layers.
    Pooling, activations, batch norm and biases are not counted.

    Conv2D: ``OH*OW*KH*KW*C_in*C_out``; DepthwiseConv2D: ``OH*OW*KH*KW*C_in*mult``;
    SeparableConv2D: depthwise + ``OH*OW*C_in*mult*C_out``; Conv2DTranspose:
    ``H_in*W_in*KH*KW*C_in*C_out``; Conv1D: ``L_out*K*C_in*C_out``; Dense: ``D_in*D_out``.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"count_macs expects a keras.Model; got {type(model).__name__}")
    return int(sum(layer_macs(layer) for layer in model.layers))


def weight_depth(model: keras.Model) -> int:
    """Number of layers with weights that multiply (conv, depthwise, separable, dense) on
    the longest path from the input to the output; shortcuts and parallel branches do
    not add to it. VGG16 -> 16 (13 conv + 3 dense), ResNet50 -> 50."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"weight_depth expects a keras.Model; got {type(model).__name__}")
    if isinstance(model, keras.Sequential):
        return sum(_own_depth(layer) for layer in model.layers)
    memo: dict[int, int] = {}

    def depth(layer) -> int:
        if id(layer) not in memo:
            parents = compat.inbound_layers(layer)
            memo[id(layer)] = max((depth(p) for p in parents), default=0) + _own_depth(layer)
        return memo[id(layer)]

    return max(depth(layer) for layer in model.layers)


def _own_depth(layer) -> int:
    if isinstance(layer, keras.Model):
        return weight_depth(layer)
    return int(layer_macs(layer) > 0)


# --------------------------------------------------------------------------- the classics


KERAS_DOCS = "Keras Applications documentation (ImageNet validation, single centre crop)"


@dataclass(frozen=True)
class Architecture:
    """How to build one classic network, and what its authors or Keras report."""

    build: Callable[..., keras.Model]  # build(input_shape=..., num_classes=...)
    input_shape: tuple[int, int, int]  # the resolution it was designed for
    num_classes: int
    year: int
    top1: float | None  # published ImageNet top-1 accuracy in %, None if not an ImageNet model
    source: str  # where top1 is published


def _application(fn_name: str) -> Callable[..., keras.Model]:
    def build(input_shape, num_classes):
        fn = getattr(keras.applications, fn_name)
        return fn(weights=None, input_shape=input_shape, classes=num_classes)

    build.__name__ = fn_name
    return build


def _own(fn) -> Callable[..., keras.Model]:
    def build(input_shape, num_classes):
        return fn(input_shape=input_shape, num_classes=num_classes)

    build.__name__ = fn.__name__
    return build


#: The networks :func:`architecture_costs` knows, oldest first.
ARCHITECTURES: dict[str, Architecture] = {
    "LeNet-5": Architecture(
        _own(lenet5), (28, 28, 1), 10, 1998, None, "LeCun et al. 1998 (digits, not ImageNet)"
    ),
    "AlexNet": Architecture(
        _own(alexnet), (227, 227, 3), 1000, 2012, 62.5, "Krizhevsky et al. 2012 (ILSVRC-2010 test set)"
    ),
    "VGG16": Architecture(_application("VGG16"), (224, 224, 3), 1000, 2014, 71.3, KERAS_DOCS),
    "InceptionV3": Architecture(_application("InceptionV3"), (299, 299, 3), 1000, 2015, 77.9, KERAS_DOCS),
    "ResNet50": Architecture(_application("ResNet50"), (224, 224, 3), 1000, 2015, 74.9, KERAS_DOCS),
    "DenseNet121": Architecture(_application("DenseNet121"), (224, 224, 3), 1000, 2017, 75.0, KERAS_DOCS),
    "MobileNetV2": Architecture(_application("MobileNetV2"), (224, 224, 3), 1000, 2018, 71.3, KERAS_DOCS),
    "EfficientNetB0": Architecture(
        _application("EfficientNetB0"), (224, 224, 3), 1000, 2019, 77.1, KERAS_DOCS
    ),
}

#: What :func:`architecture_costs` builds when no names are given.
DEFAULT_NAMES = ("LeNet-5", "AlexNet", "VGG16", "ResNet50", "InceptionV3", "MobileNetV2", "EfficientNetB0")


@dataclass(frozen=True)
class ArchitectureCost:
    """One row of the cost table: ``params`` weights, ``macs`` multiply-adds for one image,
    ``depth`` weight layers on the longest input-to-output path, at ``input_shape``."""

    name: str
    params: int
    macs: int
    depth: int
    input_shape: tuple[int, int, int]
    year: int
    top1: float | None = None
    source: str = ""

    @property
    def flops(self) -> int:
        """Floating-point operations, counting a multiply-add as two."""
        return 2 * self.macs


def architecture_costs(
    names: Sequence[str] | None = None,
    input_shape: tuple[int, int, int] | None = None,
    num_classes: int | None = None,
) -> list[ArchitectureCost]:
    """Build each named network (see :data:`ARCHITECTURES`) without initialising its
    weights and count its parameters, MACs (:func:`count_macs`)
    and :func:`weight_depth`.

    input_shape: ``(H, W, C)`` for all of them, or None for each one's native size
    (227x227x3 for AlexNet, 299x299x3 for InceptionV3, 28x28x1 for LeNet-5, else
    224x224x3). num_classes: None for each one's own (1000, LeNet-5 10).
    Takes about a second per ImageNet model on a laptop CPU.
    """
    if names is None:
        names = DEFAULT_NAMES
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a list of architecture names; got {names!r}")
    unknown = [n for n in names if n not in ARCHITECTURES]
    if unknown:
        raise ValueError(f"unknown architectures {unknown}; expected some of {list(ARCHITECTURES)}")
    rows = []
    for name in names:
        arch = ARCHITECTURES[name]
        shape = tuple(input_shape) if input_shape is not None else arch.input_shape
        classes = num_classes if num_classes is not None else arch.num_classes
        with shapes_only():
            model = arch.build(input_shape=shape, num_classes=classes)
            rows.append(
                ArchitectureCost(
                    name,
                    int(model.count_params()),
                    count_macs(model),
                    weight_depth(model),
                    shape,
                    arch.year,
                    arch.top1,
                    arch.source,
                )
            )
            del model
    return rows


@contextmanager
def shapes_only():
    """Build models whose weights have shapes but no values: fast and free of memory,
    enough for ``count_params``, :func:`count_macs` and
    :func:`weight_depth`, but such a model cannot be called or trained.

    >>> with shapes_only():
    ...     model = alexnet()
    ...     print(model.count_params())
    62378344

    Inside ``StatelessScope(initialize_variables=False)`` new variables are only queued
    for initialisation; Keras would fill them in at the exit of the next stateless scope
    (which it opens internally, e.g. to infer output shapes), so we take our variables
    off that queue again (no public API does this: see :mod:`cnncourse.keras.compat`).
    """
    queued = compat.uninitialized_variables()
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        compat.set_uninitialized_variables(queued)
