"""Keras models of the course: the seed CNN, LeNet-5, AlexNet, and small versions of the classic
architectures built from their characteristic blocks.

Blocks take a Keras tensor and return one (functional API), so they compose:

>>> inputs = keras.Input((32, 32, 3))
>>> x = residual_block(inputs, 16)              # identity shortcut
>>> x = residual_block(x, 32, stride=2)         # projection shortcut

Every classifier ends in ``Dense(num_classes, softmax)``; under a mixed-precision policy
that last layer computes in float32 so the probabilities stay accurate. What a model
costs (parameters, multiply-adds, depth) is counted in :mod:`cnncourse.keras.costs`.
"""

from __future__ import annotations

from ._tf import keras
from .layers import SpatialTransformer

layers = keras.layers


def _input_shape(shape, rank: int = 3) -> tuple:
    shape = tuple(shape)
    if len(shape) != rank or not all(isinstance(s, int) and s > 0 for s in shape):
        axes = "(H, W, C)" if rank == 3 else "(length, channels)"
        raise ValueError(f"input_shape must be {rank} positive ints {axes}; got {shape!r}")
    return shape


def _classifier_head(x, num_classes: int, name: str = "predictions"):
    return _softmax_dense(num_classes, name)(x)


def _softmax_dense(num_classes: int, name: str = "predictions"):
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
    return layers.Dense(num_classes, activation="softmax", dtype=output_dtype(), name=name)


def output_dtype() -> str | None:
    """The ``dtype`` for a model's output layer: ``"float32"`` under a mixed-precision
    global policy (a softmax in float16 loses too much), else None (the policy's own).
    Every model here builds its last layer with it; so does a new head made elsewhere."""
    policy = keras.mixed_precision.global_policy()
    return "float32" if policy.compute_dtype in ("float16", "bfloat16") else None


# --------------------------------------------------------------------------- classics


def seed_cnn(input_shape=(28, 28, 1), num_classes: int = 10, name: str = "seed_cnn") -> keras.Sequential:
    """The course's first Keras model (93,322 parameters on 28x28x1 with 10 classes).

    Conv2D(32, 3x3, relu) -> MaxPool(2) -> Conv2D(64, 3x3, relu) -> MaxPool(2) ->
    Conv2D(64, 3x3, relu) -> Flatten -> Dense(64, relu) -> Dense(num_classes, softmax).
    Input ``(N, 28, 28, 1)``, output ``(N, num_classes)`` probabilities.
    """
    return keras.Sequential(
        [
            keras.Input(_input_shape(input_shape), name="image"),
            layers.Conv2D(32, (3, 3), activation="relu", name="conv1"),
            layers.MaxPooling2D((2, 2), name="pool1"),
            layers.Conv2D(64, (3, 3), activation="relu", name="conv2"),
            layers.MaxPooling2D((2, 2), name="pool2"),
            layers.Conv2D(64, (3, 3), activation="relu", name="conv3"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="dense"),
            _softmax_dense(num_classes),
        ],
        name=name,
    )


def lenet5(
    input_shape=(28, 28, 1), num_classes: int = 10, activation: str = "tanh", name: str = "lenet5"
) -> keras.Sequential:
    """LeCun et al.'s LeNet-5 (1998) for 28x28 digits: 61,706 parameters with 10 classes.

    C1 Conv2D(6, 5x5, same) -> S2 AvgPool(2) -> C3 Conv2D(16, 5x5) -> S4 AvgPool(2) ->
    Flatten -> C5 Dense(120) -> F6 Dense(84) -> Dense(num_classes, softmax). The
    original pads 28x28 digits to 32x32; ``padding="same"`` in C1 does the same job.
    C5 is a 5x5 convolution over a 5x5 map, i.e. a dense layer on the flattened map.
    """
    return keras.Sequential(
        [
            keras.Input(_input_shape(input_shape), name="image"),
            layers.Conv2D(6, 5, padding="same", activation=activation, name="c1"),
            layers.AveragePooling2D(2, name="s2"),
            layers.Conv2D(16, 5, activation=activation, name="c3"),
            layers.AveragePooling2D(2, name="s4"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation=activation, name="c5"),
            layers.Dense(84, activation=activation, name="f6"),
            _softmax_dense(num_classes),
        ],
        name=name,
    )


def alexnet(
    input_shape=(227, 227, 3), num_classes: int = 1000, dropout: float = 0.5, name: str = "alexnet"
) -> keras.Sequential:
    """Krizhevsky, Sutskever and Hinton's AlexNet (2012), with the original layer sizes:
    62,378,344 parameters on 227x227x3 with 1000 classes.

    conv1 Conv2D(96, 11x11, stride 4) -> pool1 MaxPool(3, stride 2) ->
    conv2 Conv2D(256, 5x5, same) -> pool2 -> conv3 Conv2D(384, 3x3, same) ->
    conv4 Conv2D(384, 3x3, same) -> conv5 Conv2D(256, 3x3, same) -> pool5 ->
    Flatten -> fc6 Dense(4096) -> Dropout -> fc7 Dense(4096) -> Dropout ->
    Dense(num_classes, softmax); ReLU everywhere. On 227x227 the maps are 55, 27, 13
    and 6 pixels wide, so fc6 sees 6*6*256 = 9,216 numbers.

    Single tower: the original split conv2, conv4 and conv5 into two groups (one per
    GPU, each seeing half the channels); here every conv sees all its input channels,
    which is why the count is above the paper's "60 million". Local response
    normalisation after conv1 and conv2 is left out (Keras has no such layer, and it
    was later found to add little; batch normalisation took its place in newer
    networks). Input ``(N, H, W, 3)`` with H, W >= 67, output ``(N, num_classes)``.
    """
    input_shape = _input_shape(input_shape)
    side = min(input_shape[:2])
    if (side - 11) // 4 + 1 < 15:  # the three 3x3/2 poolings need 15 -> 7 -> 3 -> 1
        raise ValueError(f"AlexNet needs images of at least 67x67 pixels; got {input_shape}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")
    return keras.Sequential(
        [
            keras.Input(input_shape, name="image"),
            layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1"),
            layers.MaxPooling2D(3, strides=2, name="pool1"),
            layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(3, strides=2, name="pool2"),
            layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3"),
            layers.Conv2D(384, 3, padding="same", activation="relu", name="conv4"),
            layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5"),
            layers.MaxPooling2D(3, strides=2, name="pool5"),
            layers.Flatten(name="flatten"),
            layers.Dense(4096, activation="relu", name="fc6"),
            layers.Dropout(dropout, name="drop6"),
            layers.Dense(4096, activation="relu", name="fc7"),
            layers.Dropout(dropout, name="drop7"),
            _softmax_dense(num_classes),
        ],
        name=name,
    )


# --------------------------------------------------------------------------- blocks


def conv_bn_relu(x, filters: int, kernel_size=3, strides=1, name: str | None = None):
    """Conv2D (no bias: batch norm's beta replaces it) -> BatchNorm -> ReLU."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", use_bias=False, name=_sub(name, "conv")
    )(x)
    x = layers.BatchNormalization(name=_sub(name, "bn"))(x)
    return layers.ReLU(name=_sub(name, "relu"))(x)


def vgg_block(x, filters: int, convs: int = 2, name: str | None = None):
    """VGG: ``convs`` stacked 3x3 'same' convolutions with ReLU, then 2x2 max pooling.

    Two 3x3 convolutions see a 5x5 window with fewer parameters than one 5x5.
    ``(N, H, W, C)`` -> ``(N, H/2, W/2, filters)``.
    """
    for i in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=_sub(name, f"conv{i + 1}"))(x)
    return layers.MaxPooling2D(2, name=_sub(name, "pool"))(x)


def residual_block(x, filters: int, stride: int = 1, name: str | None = None):
    """ResNet's basic block: ``relu(F(x) + shortcut(x))``, F = two 3x3 conv-BN layers.

    The shortcut is the identity when the shape is kept (stride 1, same channels);
    otherwise a 1x1 convolution with the stride and batch norm (a projection).
    ``(N, H, W, C)`` -> ``(N, H/stride, W/stride, filters)``.
    """
    shortcut = x
    y = conv_bn_relu(x, filters, 3, stride, name=_sub(name, "a"))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=_sub(name, "b_conv"))(y)
    y = layers.BatchNormalization(name=_sub(name, "b_bn"))(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=_sub(name, "proj_conv"))(x)
        shortcut = layers.BatchNormalization(name=_sub(name, "proj_bn"))(shortcut)
    y = layers.Add(name=_sub(name, "add"))([y, shortcut])
    return layers.ReLU(name=_sub(name, "out"))(y)


def inception_block(
    x, f1: int, f3_reduce: int, f3: int, f5_reduce: int, f5: int, pool_proj: int, name: str | None = None
):
    """GoogLeNet's inception module: 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool
    side by side (1x1 convolutions shrink the channels first), concatenated.

    ``(N, H, W, C)`` -> ``(N, H, W, f1 + f3 + f5 + pool_proj)``.
    """

    def conv(t, f, k, part):
        return layers.Conv2D(f, k, padding="same", activation="relu", name=_sub(name, part))(t)

    b1 = conv(x, f1, 1, "1x1")
    b3 = conv(conv(x, f3_reduce, 1, "3x3_reduce"), f3, 3, "3x3")
    b5 = conv(conv(x, f5_reduce, 1, "5x5_reduce"), f5, 5, "5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=_sub(name, "pool"))(x)
    bp = conv(bp, pool_proj, 1, "pool_proj")
    return layers.Concatenate(name=_sub(name, "concat"))([b1, b3, b5, bp])


def dense_block(x, num_layers: int, growth_rate: int, name: str | None = None):
    """DenseNet: each layer (BN -> ReLU -> 3x3 conv with ``growth_rate`` filters) sees
    the concatenation of all earlier feature maps.

    ``(N, H, W, C)`` -> ``(N, H, W, C + num_layers * growth_rate)``.
    """
    for i in range(num_layers):
        y = layers.BatchNormalization(name=_sub(name, f"l{i + 1}_bn"))(x)
        y = layers.ReLU(name=_sub(name, f"l{i + 1}_relu"))(y)
        y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=_sub(name, f"l{i + 1}_conv"))(
            y
        )
        x = layers.Concatenate(name=_sub(name, f"l{i + 1}_concat"))([x, y])
    return x


def transition_block(x, compression: float = 0.5, name: str | None = None):
    """DenseNet's transition: BN -> ReLU -> 1x1 conv to ``compression * C`` channels ->
    2x2 average pooling. ``(N, H, W, C)`` -> ``(N, H/2, W/2, int(C * compression))``."""
    channels = int(x.shape[-1] * compression)
    x = layers.BatchNormalization(name=_sub(name, "bn"))(x)
    x = layers.ReLU(name=_sub(name, "relu"))(x)
    x = layers.Conv2D(channels, 1, use_bias=False, name=_sub(name, "conv"))(x)
    return layers.AveragePooling2D(2, name=_sub(name, "pool"))(x)


def separable_block(x, filters: int, stride: int = 1, name: str | None = None):
    """MobileNet's depthwise-separable convolution: a 3x3 depthwise convolution (one
    filter per channel) -> BN -> ReLU, then a 1x1 pointwise convolution -> BN -> ReLU.

    Costs ``9*C + C*filters`` weights instead of ``9*C*filters`` for a full 3x3 conv.
    ``(N, H, W, C)`` -> ``(N, H/stride, W/stride, filters)``.
    """
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=_sub(name, "dw"))(x)
    x = layers.BatchNormalization(name=_sub(name, "dw_bn"))(x)
    x = layers.ReLU(name=_sub(name, "dw_relu"))(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=_sub(name, "pw"))(x)
    x = layers.BatchNormalization(name=_sub(name, "pw_bn"))(x)
    return layers.ReLU(name=_sub(name, "pw_relu"))(x)


def _sub(name, part):
    return None if name is None else f"{name}_{part}"


# --------------------------------------------------------------------------- small models


def small_vgg(
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    filters=(32, 64),
    dense: int = 128,
    name: str = "small_vgg",
) -> keras.Model:
    """VGG in miniature: one :func:`vgg_block` (two convs) per entry of ``filters``,
    Flatten, Dense(dense, relu), softmax."""
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = vgg_block(x, f, name=f"block{i + 1}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense, activation="relu", name="fc")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name=name)


def small_resnet(
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    filters=(16, 32, 64),
    blocks_per_stage: int = 1,
    name: str = "small_resnet",
) -> keras.Model:
    """ResNet in miniature: a 3x3 conv-BN-ReLU stem with ``filters[0]`` channels, then
    one stage per entry of ``filters`` (the first keeps the resolution and uses identity
    shortcuts; the others halve it through a projection shortcut), global average
    pooling, softmax."""
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = conv_bn_relu(inputs, filters[0], name="stem")
    for s, f in enumerate(filters):
        for b in range(blocks_per_stage):
            stride = 2 if s > 0 and b == 0 else 1
            x = residual_block(x, f, stride, name=f"stage{s + 1}_block{b + 1}")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name=name)


def small_inception(
    input_shape=(32, 32, 3), num_classes: int = 10, name: str = "small_inception"
) -> keras.Model:
    """Inception in miniature: Conv2D(32, 3x3) stem, two inception modules with a max
    pool between them, global average pooling, softmax."""
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="stem")(inputs)
    x = inception_block(x, 16, 16, 24, 4, 8, 8, name="inception1")  # 56 channels
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = inception_block(x, 32, 24, 48, 8, 16, 16, name="inception2")  # 112 channels
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name=name)


def small_densenet(
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    growth_rate: int = 12,
    blocks=(4, 4),
    name: str = "small_densenet",
) -> keras.Model:
    """DenseNet in miniature: Conv2D(2 * growth_rate, 3x3) stem, dense blocks of
    ``blocks[i]`` layers with a transition (halving channels and size) between them,
    BN -> ReLU -> global average pooling, softmax."""
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = layers.Conv2D(2 * growth_rate, 3, padding="same", use_bias=False, name="stem")(inputs)
    for i, n in enumerate(blocks):
        x = dense_block(x, n, growth_rate, name=f"dense{i + 1}")
        if i < len(blocks) - 1:
            x = transition_block(x, name=f"transition{i + 1}")
    x = layers.BatchNormalization(name="final_bn")(x)
    x = layers.ReLU(name="final_relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name=name)


def small_mobilenet(
    input_shape=(32, 32, 3), num_classes: int = 10, filters=(64, 128, 128), name: str = "small_mobilenet"
) -> keras.Model:
    """MobileNet in miniature: a 3x3 conv-BN-ReLU stem with 32 channels, one
    :func:`separable_block` per entry of ``filters`` (stride 2 from the second on),
    global average pooling, softmax."""
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = conv_bn_relu(inputs, 32, name="stem")
    for i, f in enumerate(filters):
        x = separable_block(x, f, stride=2 if i > 0 else 1, name=f"sep{i + 1}")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name=name)


def shapes_cnn(input_shape=(32, 32, 3), num_classes: int = 6, name: str = "shapes_cnn") -> keras.Sequential:
    """The architecture of the pretrained shapes network
    (:func:`~cnncourse.keras.pretrained.load_pretrained`): 60,902 parameters with 6 classes.

    Four 3x3 'same' Conv2D + ReLU layers with 16, 32, 64, 64 filters, 2x2 max pooling
    after the first three, global average pooling (the 64 "features"), then
    Dense(num_classes, softmax). Input ``(N, H, W, C)``, output ``(N, num_classes)``.
    """
    input_shape = _input_shape(input_shape)
    if not isinstance(num_classes, int) or num_classes < 2:  # before anything is built
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
    convs = []
    for i, f in enumerate((16, 32, 64, 64)):
        convs.append(layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i + 1}"))
        if i < 3:
            convs.append(layers.MaxPooling2D(2, name=f"pool{i + 1}"))
    # A layer's initialisers draw their seeds when it is created: create the layers in
    # model order, so that a seeded build always starts from the same weights.
    return keras.Sequential(
        [
            keras.Input(input_shape, name="image"),
            *convs,
            layers.GlobalAveragePooling2D(name="features"),
            _softmax_dense(num_classes),
        ],
        name=name,
    )


# --------------------------------------------------------------------------- beyond


def fcn_segmenter(
    input_shape=(32, 32, 3), num_classes: int = 7, filters=(16, 32), name: str = "fcn_segmenter"
) -> keras.Model:
    """A fully convolutional segmentation net (a small U-Net): one class per pixel.

    Encoder: per entry of ``filters``, two 3x3 convs then 2x2 max pooling. Bottleneck:
    two 3x3 convs with ``2 * filters[-1]``. Decoder: 2x2 transposed convolutions back up,
    each concatenated with the encoder map of the same size (skip connection) and two
    3x3 convs. A 1x1 conv with softmax gives ``(N, H, W, num_classes)``; H and W must be
    divisible by ``2 ** len(filters)``. With :func:`~cnncourse.data.make_shapes` masks,
    ``num_classes`` is the number of shapes + 1 (background).
    """
    input_shape = _input_shape(input_shape)
    factor = 2 ** len(filters)
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ValueError(f"height and width must be divisible by {factor}; got {input_shape}")
    inputs = keras.Input(input_shape, name="image")

    def double_conv(t, f, part):
        for i in (1, 2):
            t = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{part}_conv{i}")(t)
        return t

    x, skips = inputs, []
    for i, f in enumerate(filters):
        x = double_conv(x, f, f"down{i + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{i + 1}_pool")(x)
    x = double_conv(x, 2 * filters[-1], "bottleneck")
    for i, (f, skip) in reversed(list(enumerate(zip(filters, skips, strict=True)))):
        x = layers.Conv2DTranspose(f, 2, strides=2, name=f"up{i + 1}_upconv")(x)
        x = layers.Concatenate(name=f"up{i + 1}_concat")([x, skip])
        x = double_conv(x, f, f"up{i + 1}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", dtype=output_dtype(), name="pixel_classes")(
        x
    )
    return keras.Model(inputs, outputs, name=name)


def box_regressor(input_shape=(32, 32, 3), num_classes: int = 6, name: str = "box_regressor") -> keras.Model:
    """Classify and localise one object: a shared conv body with two heads.

    Outputs ``{"class": (N, num_classes) probabilities, "box": (N, 4)}``, the box as
    ``(y_min, x_min, y_max, x_max)`` divided by the image size (sigmoid, in [0, 1]).
    Train with ``loss={"class": "sparse_categorical_crossentropy", "box": "mse"}``.
    """
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = inputs
    for i, f in enumerate((16, 32, 64)):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="shared")(x)
    box = layers.Dense(4, activation="sigmoid", dtype=output_dtype(), name="box")(x)
    return keras.Model(inputs, {"class": _classifier_head(x, num_classes, "class"), "box": box}, name=name)


def conv1d_classifier(
    input_shape=(128, 1),
    num_classes: int = 2,
    filters=(16, 32),
    kernel_size: int = 5,
    name: str = "conv1d_classifier",
) -> keras.Model:
    """A 1D CNN for sequences (time series, signals, embedded text): per entry of
    ``filters``, Conv1D(kernel_size, relu) and MaxPool1D(2); then global max pooling
    (the strongest response anywhere in the sequence) and softmax.

    Input ``(N, length, channels)``, output ``(N, num_classes)``.
    """
    inputs = keras.Input(_input_shape(input_shape, rank=2), name="sequence")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv1D(f, kernel_size, activation="relu", name=f"conv{i + 1}")(x)
        x = layers.MaxPooling1D(2, name=f"pool{i + 1}")(x)
    x = layers.GlobalMaxPooling1D(name="gmp")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name=name)


def stn_classifier(
    input_shape=(28, 28, 1), num_classes: int = 10, name: str = "stn_classifier"
) -> keras.Model:
    """A :class:`~cnncourse.keras.layers.SpatialTransformer` in front of the seed CNN:
    the model learns to straighten and centre its input before classifying it."""
    inputs = keras.Input(_input_shape(input_shape), name="image")
    x = SpatialTransformer(name="stn")(inputs)
    body = seed_cnn(input_shape, num_classes, name="classifier")
    return keras.Model(inputs, body(x), name=name)
