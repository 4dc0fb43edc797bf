"""cnncourse: a course on convolutional neural networks.

``cnncourse.nn`` is a from-scratch NumPy engine; ``cnncourse.keras`` is the same
networks in Keras 3 (loaded on first use, so importing this package stays fast and
never imports TensorFlow).
"""

__version__ = "0.1.0"
