"""What an architecture costs: parameters, multiply-adds (MACs) and depth of the classic
image classifiers, from LeNet-5 to EfficientNet.

The ImageNet models come from ``keras.applications`` with ``weights=None`` (nothing is
downloaded). They are built inside a ``keras.StatelessScope`` that records every
weight's shape but never fills it with random numbers, so even VGG16's 138 million
parameters take about a second and no memory. Such a model can be counted, not run.

>>> rows = architecture_costs(["AlexNet", "ResNet50"])
>>> [(r.name, r.params) for r in rows]
[('AlexNet', 62378344), ('ResNet50', 25636712)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ._tf import keras
from .models import alexnet, count_macs, layer_macs, lenet5

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
    "LeNet-5": Architecture(_own(lenet5), (28, 28, 1), 10, 1998, None,
                            "LeCun et al. 1998 (digits, not ImageNet)"),
    "AlexNet": Architecture(_own(alexnet), (227, 227, 3), 1000, 2012, 62.5,
                            "Krizhevsky et al. 2012 (ILSVRC-2010 test set)"),
    "VGG16": Architecture(_application("VGG16"), (224, 224, 3), 1000, 2014, 71.3, KERAS_DOCS),
    "InceptionV3": Architecture(_application("InceptionV3"), (299, 299, 3), 1000, 2015, 77.9,
                                KERAS_DOCS),
    "ResNet50": Architecture(_application("ResNet50"), (224, 224, 3), 1000, 2015, 74.9,
                             KERAS_DOCS),
    "DenseNet121": Architecture(_application("DenseNet121"), (224, 224, 3), 1000, 2017, 75.0,
                                KERAS_DOCS),
    "MobileNetV2": Architecture(_application("MobileNetV2"), (224, 224, 3), 1000, 2018, 71.3,
                                KERAS_DOCS),
    "EfficientNetB0": Architecture(_application("EfficientNetB0"), (224, 224, 3), 1000, 2019,
                                   77.1, KERAS_DOCS),
}

#: What :func:`architecture_costs` builds when no names are given.
DEFAULT_NAMES = ("LeNet-5", "AlexNet", "VGG16", "ResNet50", "InceptionV3", "MobileNetV2",
                 "EfficientNetB0")


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
            # Keras 3 keeps the graph in each layer's inbound nodes (no public accessor)
            parents = [p.operation for node in layer._inbound_nodes for p in node.parent_nodes]
            memo[id(layer)] = max((depth(p) for p in parents), default=0) + _own_depth(layer)
        return memo[id(layer)]

    return max(depth(layer) for layer in model.layers)


def _own_depth(layer) -> int:
    if isinstance(layer, keras.Model):
        return weight_depth(layer)
    return int(layer_macs(layer) > 0)


def architecture_costs(names: Sequence[str] | None = None,
                       input_shape: tuple[int, int, int] | None = None,
                       num_classes: int | None = None) -> list[ArchitectureCost]:
    """Build each named network (see :data:`ARCHITECTURES`) without initialising its
    weights and count its parameters, MACs (:func:`~cnncourse.keras.models.count_macs`)
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
            rows.append(ArchitectureCost(name, int(model.count_params()), count_macs(model),
                                         weight_depth(model), shape, arch.year, arch.top1,
                                         arch.source))
            del model
    return rows


@contextmanager
def shapes_only():
    """Build models whose weights have shapes but no values: fast and free of memory,
    enough for ``count_params``, :func:`~cnncourse.keras.models.count_macs` and
    :func:`weight_depth`, but such a model cannot be called or trained.

    >>> with shapes_only():
    ...     model = alexnet()
    ...     print(model.count_params())
    62378344

    Inside ``StatelessScope(initialize_variables=False)`` new variables are only queued
    for initialisation; Keras would fill them in at the exit of the next stateless scope
    (which it opens internally, e.g. to infer output shapes), so we take our variables
    off that queue again. ``global_state`` is Keras-internal: no public API does this.
    """
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    queued = list(global_state.get_global_attribute(key) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, queued)

