"""A convolutional network engine written from scratch in NumPy (channels-last, like Keras).

- :mod:`~cnncourse.nn.functional`: vectorised forward/backward pairs (``F.conv2d_forward`` ...)
- :mod:`~cnncourse.nn.naive`: loop versions of convolution and pooling, to read and to check
- :mod:`~cnncourse.nn.layers`, :mod:`~cnncourse.nn.model`: layer classes and ``Sequential``
- :mod:`~cnncourse.nn.optim`, :mod:`~cnncourse.nn.init`: optimisers (SGD, Momentum, Adam,
  AdamW) and initialisers
- :mod:`~cnncourse.nn.schedules`: learning-rate schedules (step, cosine, linear warm-up)
- :mod:`~cnncourse.nn.mixing`: mixup and CutMix on a batch of images and one-hot labels
- :mod:`~cnncourse.nn.checkpoint`: ``save_model`` / ``load_model`` (one ``.npz`` file) and
  the ``ModelCheckpoint`` callback
- :mod:`~cnncourse.nn.gradcheck`: numerical gradients and ``rel_error``

Nothing here imports TensorFlow.
"""

from . import checkpoint, functional, gradcheck, init, mixing, naive, optim, schedules
from .checkpoint import ModelCheckpoint, load_model, save_model
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
from .optim import SGD, Adam, AdamW, Momentum

__all__ = [
    "L1",
    "L2",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
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
    "ModelCheckpoint",
    "Momentum",
    "ReLU",
    "Regularizer",
    "Sequential",
    "Softmax",
    "SumPool2D",
    "check_gradients",
    "checkpoint",
    "functional",
    "gradcheck",
    "init",
    "load_model",
    "mixing",
    "naive",
    "numerical_gradient",
    "optim",
    "rel_error",
    "save_model",
    "schedules",
]
