"""A spatial transformer layer (Jaderberg et al., 2015): a small network predicts an
affine transform for each image, and the image is resampled through it, so the model
learns to undo shifts, rotations and zooms before classifying.
"""

from __future__ import annotations

from ._tf import keras

ops = keras.ops


def affine_grid_sample(images, theta, output_size=None):
    """Resample ``images`` through affine transforms with bilinear interpolation.

    images: ``(N, H, W, C)``. theta: ``(N, 2, 3)``; output pixel ``(x_t, y_t)``, in
    coordinates normalised to [-1, 1] (corners at -1 and 1), reads the input at
    ``(x_s, y_s) = theta @ (x_t, y_t, 1)``. The identity ``[[1, 0, 0], [0, 1, 0]]``
    returns the image unchanged. Points outside the input read zeros.
    output_size: ``(OH, OW)``, default ``(H, W)``. Returns ``(N, OH, OW, C)``.
    """
    h, w, c = images.shape[1:]
    if None in (h, w, c):
        raise ValueError(f"images need a known height, width and channels; got {images.shape}")
    oh, ow = output_size or (h, w)
    theta = ops.cast(theta, images.dtype)
    gx, gy = ops.meshgrid(ops.linspace(-1.0, 1.0, ow), ops.linspace(-1.0, 1.0, oh))
    grid = ops.stack([ops.reshape(gx, (-1,)), ops.reshape(gy, (-1,)), ops.ones((oh * ow,))])
    src = ops.matmul(theta, ops.cast(grid, images.dtype))  # (N, 2, OH*OW)
    sx = (src[:, 0] + 1.0) * (w - 1) / 2.0  # pixel coordinates in the input
    sy = (src[:, 1] + 1.0) * (h - 1) / 2.0
    x0, y0 = ops.floor(sx), ops.floor(sy)

    batch = ops.shape(images)[0]
    flat = ops.reshape(images, (-1, c))
    base = ops.expand_dims(ops.arange(batch) * (h * w), 1)
    out = 0.0
    for dx in (0, 1):
        for dy in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            # Bilinear weight of this corner: 1 - distance along each axis.
            weight = (1.0 - ops.abs(sx - xi)) * (1.0 - ops.abs(sy - yi))
            valid = (xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1)
            weight = weight * ops.cast(valid, images.dtype)
            index = (
                ops.cast(ops.clip(yi, 0, h - 1), "int32") * w
                + ops.cast(ops.clip(xi, 0, w - 1), "int32")
                + base
            )
            out = out + ops.take(flat, index, axis=0) * ops.expand_dims(weight, -1)
    return ops.reshape(out, (-1, oh, ow, c))


def default_localization(input_shape) -> keras.Sequential:
    """Localisation network: two conv + pool stages and two dense layers -> 6 numbers.

    The last layer starts at zero weights and the identity bias, so training begins
    from "do not transform". Needs inputs of at least 16x16.
    """
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(8, 5, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(10, 5, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(
                6,
                kernel_initializer="zeros",
                bias_initializer=keras.initializers.Constant([1, 0, 0, 0, 1, 0]),
            ),
        ],
        name="localization",
    )


@keras.saving.register_keras_serializable(package="cnncourse")
class SpatialTransformer(keras.layers.Layer):
    """Predicts an affine transform per image and resamples the image through it.

    Input ``(N, H, W, C)``; output ``(N, OH, OW, C)`` with ``output_size=(OH, OW)``
    (default: the input size). localization: a model mapping the images to ``(N, 6)``
    (the rows of theta); default :func:`default_localization`. :meth:`theta` gives the
    ``(N, 2, 3)`` transforms the layer applies, to look at what it learned.
    """

    def __init__(self, output_size=None, localization=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = tuple(output_size) if output_size is not None else None
        self.localization = localization

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"SpatialTransformer expects images (N, H, W, C); got {input_shape}")
        if self.localization is None:
            self.localization = default_localization(tuple(input_shape[1:]))
        if not self.localization.built:
            self.localization.build((None, *input_shape[1:]))

    def theta(self, images):
        """The affine transforms for ``images``: ``(N, 2, 3)``."""
        return ops.reshape(self.localization(images), (-1, 2, 3))

    def call(self, images):
        return affine_grid_sample(images, self.theta(images), self.output_size)

    def compute_output_shape(self, input_shape):
        oh, ow = self.output_size or input_shape[1:3]
        return (input_shape[0], oh, ow, input_shape[3])

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "localization": keras.saving.serialize_keras_object(self.localization),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["localization"] = keras.saving.deserialize_keras_object(config["localization"])
        return cls(**config)
