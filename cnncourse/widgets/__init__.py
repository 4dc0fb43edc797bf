"""Interactive explorers for the book (ipywidgets).

Each is a widget you display and also an object whose attributes hold what it computed,
so it can be driven from code (``explorer.stride.value = 2; explorer.result``). The
convolution, pooling and activation explorers also compute in the browser
(:mod:`.live`, ``js/``), so they stay live in the static book, without a kernel:

- :class:`ConvolutionExplorer`: input, kernel, stride, padding -> output
- :class:`PoolingExplorer`: max / average / sum pooling
- :class:`ActivationExplorer`: an activation, its derivative, vanishing gradients
- :class:`FeatureMapViewer`: every channel of a layer of a NumPy or Keras model
- :class:`TrainingMonitor`: live loss and accuracy curves during ``fit``
- :class:`AugmentationExplorer`: random rotations, shifts, zooms and flips of an image
- :class:`ArchitectureExplorer`: parameters, MACs, depth and accuracy of famous networks
- :class:`SaliencyExplorer`: saliency, Grad-CAM and occlusion maps of a trained model
- :class:`Quiz`: multiple-choice questions with feedback
"""

from .activations import ActivationExplorer, activation_and_derivative
from .architectures import ArchitectureExplorer
from .augmentation import AugmentationExplorer
from .convolution import KERNELS, ConvolutionExplorer
from .feature_maps import FeatureMapViewer, layer_outputs
from .interpret import SaliencyExplorer
from .pooling import PoolingExplorer
from .quiz import Question, Quiz
from .training import TrainingMonitor

__all__ = [
    "KERNELS",
    "ActivationExplorer",
    "ArchitectureExplorer",
    "AugmentationExplorer",
    "ConvolutionExplorer",
    "FeatureMapViewer",
    "PoolingExplorer",
    "Question",
    "Quiz",
    "SaliencyExplorer",
    "TrainingMonitor",
    "activation_and_derivative",
    "layer_outputs",
]
