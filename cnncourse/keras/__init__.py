"""The course's networks in Keras 3 on TensorFlow.

Importing this package imports TensorFlow (quietly: see :mod:`cnncourse.keras._tf`);
``import cnncourse`` alone does not.

- :mod:`~cnncourse.keras.models`: ``seed_cnn``, ``lenet5``, ``shapes_cnn``, VGG / ResNet /
  Inception / DenseNet / MobileNet blocks and small models, FCN segmenter, 1D CNN, box
  regressor
- :mod:`~cnncourse.keras.layers`: ``SpatialTransformer``
- :mod:`~cnncourse.keras.training`: ``train``, ``device_report``, ``make_dataset``,
  ``augmentation``, ``cosine_with_warmup``, ``seed_everything``, ``use_mixed_precision``,
  ``LiveCurves``
  (``cnncourse.keras.train`` is the function ``training.train``)
- :mod:`~cnncourse.keras.distributed`: ``read_tf_config``, ``multi_worker_strategy`` and
  ``fit_multi_worker`` (training across machines; ``get_strategy("multi_worker")``)
- :mod:`~cnncourse.keras.bridge`: ``to_numpy`` / ``to_keras`` / ``copy_weights`` and parity
- :mod:`~cnncourse.keras.pretrained`: ``load_pretrained`` (offline), ``imagenet_model``
- :mod:`~cnncourse.keras.costs`: ``count_macs``, ``layer_macs``, ``weight_depth`` for any
  model; ``architecture_costs`` (parameters, MACs, depth of LeNet-5, AlexNet and the Keras
  Applications, built without weights)
- :mod:`~cnncourse.keras.interpret`: ``saliency_map``, ``grad_cam``, ``occlusion_map``
- :mod:`~cnncourse.keras.compat`: the only module that touches Keras internals

Dependencies: ``keras`` builds on :mod:`cnncourse.nn` (the bridge, the NumPy saliency map)
and :mod:`cnncourse.common`; it never imports :mod:`cnncourse.data`, and ``data`` never
imports ``keras`` (or TensorFlow). The two meet only in what they exchange: ``train``
accepts a ``cnncourse.data.Split`` because a split unpacks to ``(x, y)``.
"""

from ._tf import import_log
from .bridge import compare_gradients, compare_outputs, copy_weights, to_keras, to_numpy
from .costs import architecture_costs, count_macs, layer_macs, weight_depth
from .interpret import grad_cam, occlusion_map, saliency_map
from .layers import SpatialTransformer, affine_grid_sample
from .models import (
    alexnet,
    box_regressor,
    conv1d_classifier,
    conv_bn_relu,
    dense_block,
    fcn_segmenter,
    inception_block,
    lenet5,
    residual_block,
    seed_cnn,
    separable_block,
    shapes_cnn,
    small_densenet,
    small_inception,
    small_mobilenet,
    small_resnet,
    small_vgg,
    stn_classifier,
    transition_block,
    vgg_block,
)
from .pretrained import PretrainedUnavailableError, imagenet_model, load_pretrained
from .training import (
    DeviceReport,
    LiveCurves,
    StopAtAccuracy,
    augmentation,
    cosine_with_warmup,
    device_report,
    get_strategy,
    make_dataset,
    seed_everything,
    train,
    use_mixed_precision,
)

__all__ = [
    "DeviceReport",
    "LiveCurves",
    "PretrainedUnavailableError",
    "SpatialTransformer",
    "StopAtAccuracy",
    "affine_grid_sample",
    "alexnet",
    "architecture_costs",
    "augmentation",
    "box_regressor",
    "compare_gradients",
    "compare_outputs",
    "conv1d_classifier",
    "conv_bn_relu",
    "copy_weights",
    "cosine_with_warmup",
    "count_macs",
    "dense_block",
    "device_report",
    "fcn_segmenter",
    "get_strategy",
    "grad_cam",
    "imagenet_model",
    "import_log",
    "inception_block",
    "layer_macs",
    "lenet5",
    "load_pretrained",
    "make_dataset",
    "occlusion_map",
    "residual_block",
    "saliency_map",
    "seed_cnn",
    "seed_everything",
    "separable_block",
    "shapes_cnn",
    "small_densenet",
    "small_inception",
    "small_mobilenet",
    "small_resnet",
    "small_vgg",
    "stn_classifier",
    "to_keras",
    "to_numpy",
    "train",
    "transition_block",
    "use_mixed_precision",
    "vgg_block",
    "weight_depth",
]
