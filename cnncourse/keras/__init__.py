"""The course's networks in Keras 3 on TensorFlow.

Importing this package imports TensorFlow (quietly: see :mod:`cnncourse.keras._tf`);
``import cnncourse`` alone does not.

- :mod:`~cnncourse.keras.models`: ``seed_cnn``, ``lenet5``, VGG / ResNet / Inception /
  DenseNet / MobileNet blocks and small models, FCN segmenter, 1D CNN, box regressor
- :mod:`~cnncourse.keras.layers`: ``SpatialTransformer``
"""

from ._tf import import_log
from .layers import SpatialTransformer, affine_grid_sample
from .models import (
    box_regressor,
    conv1d_classifier,
    conv_bn_relu,
    count_macs,
    dense_block,
    fcn_segmenter,
    inception_block,
    lenet5,
    residual_block,
    seed_cnn,
    separable_block,
    small_densenet,
    small_inception,
    small_mobilenet,
    small_resnet,
    small_vgg,
    stn_classifier,
    transition_block,
    vgg_block,
)

__all__ = [
    "SpatialTransformer", "affine_grid_sample", "box_regressor", "conv1d_classifier",
    "conv_bn_relu", "count_macs", "dense_block", "fcn_segmenter", "import_log",
    "inception_block", "lenet5", "residual_block", "seed_cnn", "separable_block",
    "small_densenet", "small_inception", "small_mobilenet", "small_resnet", "small_vgg",
    "stn_classifier", "transition_block", "vgg_block",
]
