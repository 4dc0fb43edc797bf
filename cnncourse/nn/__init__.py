"""A convolutional network engine written from scratch in NumPy (channels-last, like Keras).

- :mod:`~cnncourse.nn.functional`: vectorised forward/backward pairs (``F.conv2d_forward`` ...)
- :mod:`~cnncourse.nn.naive`: loop versions of convolution and pooling, to read and to check
- :mod:`~cnncourse.nn.layers`, :mod:`~cnncourse.nn.model`: layer classes and ``Sequential``
- :mod:`~cnncourse.nn.optim`, :mod:`~cnncourse.nn.init`: optimisers and initialisers
- :mod:`~cnncourse.nn.gradcheck`: numerical gradients and ``rel_error``

Nothing here imports TensorFlow.
"""

from . import functional, gradcheck, init, naive, optim
from .gradcheck import check_gradients, numerical_gradient, rel_error
from .layers import (
    L1,
    L2,
    Activation,
    AveragePooling2D,
    AvgPool2D,
    BatchNorm,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    Layer,
    LeakyReLU,
    MaxPool2D,
    MaxPooling2D,
    Regularizer,
    ReLU,
    Softmax,
    SumPool2D,
)
from .model import History, Sequential
from .optim import SGD, Adam, Momentum

__all__ = [
    "L1",
    "L2",
    "SGD",
    "Activation",
    "Adam",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNorm",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "History",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "MaxPooling2D",
    "Momentum",
    "ReLU",
    "Regularizer",
    "Sequential",
    "Softmax",
    "SumPool2D",
    "check_gradients",
    "functional",
    "gradcheck",
    "init",
    "naive",
    "numerical_gradient",
    "optim",
    "rel_error",
]
