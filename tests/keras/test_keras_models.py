"""Output shapes and parameter counts of the Keras models, each worked out by hand in
the comments (conv: KH*KW*C_in*C_out + C_out; dense: D_in*D_out + D_out; batch norm:
4*C of which 2*C trainable)."""

import numpy as np
import pytest

keras_mod = pytest.importorskip("cnncourse.keras")
from cnncourse.keras import costs as C  # noqa: E402
from cnncourse.keras import models as M  # noqa: E402
from cnncourse.keras._tf import keras  # noqa: E402


def _block(fn, input_shape, *args, **kwargs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, fn(inputs, *args, **kwargs))


def test_seed_cnn_layers_shapes_and_params():
    model = M.seed_cnn()
    # conv1 3*3*1*32+32 = 320, conv2 3*3*32*64+64 = 18,496, conv3 3*3*64*64+64 = 36,928,
    # flatten 3*3*64 = 576, dense 576*64+64 = 36,928, output 64*10+10 = 650.
    assert [layer.count_params() for layer in model.layers] == [320, 0, 18496, 0, 36928, 0, 36928, 650]
    assert model.count_params() == 93322
    # 28 -conv-> 26 -pool-> 13 -conv-> 11 -pool-> 5 -conv-> 3
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [
        (26, 26, 32),
        (13, 13, 32),
        (11, 11, 64),
        (5, 5, 64),
        (3, 3, 64),
        (576,),
        (64,),
        (10,),
    ]
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    out = np.asarray(model(np.zeros((2, 28, 28, 1), np.float32)))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)


def test_lenet5_params():
    model = M.lenet5()
    # c1 5*5*1*6+6 = 156, c3 5*5*6*16+16 = 2,416, flatten 5*5*16 = 400,
    # c5 400*120+120 = 48,120, f6 120*84+84 = 10,164, output 84*10+10 = 850.
    assert model.count_params() == 156 + 2416 + 48120 + 10164 + 850 == 61706
    assert tuple(model.get_layer("flatten").output.shape[1:]) == (400,)
    assert tuple(model.outputs[0].shape[1:]) == (10,)


@pytest.mark.parametrize(
    "fn, input_shape, args, out_shape, params, trainable",
    [
        # two 3x3 convs: 3*3*3*16+16 = 448 and 3*3*16*16+16 = 2,320; pool halves
        (M.vgg_block, (8, 8, 3), (16,), (4, 4, 16), 2768, 2768),
        # identity: two 3*3*16*16 = 2,304 convs (no bias) + two BN of 4*16 = 64
        (M.residual_block, (8, 8, 16), (16,), (8, 8, 16), 4736, 4736 - 64),
        # projection 16 -> 32, stride 2: 3*3*16*32 = 4,608 + 3*3*32*32 = 9,216 + 1x1 16*32 = 512
        # + three BN of 4*32 = 128
        (M.residual_block, (8, 8, 16), (32, 2), (4, 4, 32), 14720, 14720 - 3 * 64),
        # 1x1: 32*16+16 = 528; 3x3 branch: 528 + 3*3*16*24+24 = 3,480; 5x5 branch:
        # 32*4+4 = 132 + 5*5*4*8+8 = 808; pool branch 32*8+8 = 264; 16+24+8+8 = 56 channels
        (M.inception_block, (8, 8, 32), (16, 16, 24, 4, 8, 8), (8, 8, 56), 5740, 5740),
        # layer with C inputs: BN 4*C + 3*3*C*12; C = 24, 36, 48, 60 -> 2,688 + 4,032 + 5,376
        # + 6,720; channels 24 + 4*12 = 72
        (M.dense_block, (8, 8, 24), (4, 12), (8, 8, 72), 18816, 18816 - 2 * (24 + 36 + 48 + 60)),
        # BN 4*72 = 288 + 1x1 72*36 = 2,592
        (M.transition_block, (8, 8, 72), (), (4, 4, 36), 2880, 2880 - 144),
        # depthwise 3*3*32 = 288 + BN 128 + pointwise 32*64 = 2,048 + BN 256
        (M.separable_block, (8, 8, 32), (64, 2), (4, 4, 64), 2720, 2720 - 64 - 128),
    ],
)
def test_blocks(fn, input_shape, args, out_shape, params, trainable):
    model = _block(fn, input_shape, *args)
    assert tuple(model.output.shape[1:]) == out_shape
    assert model.count_params() == params
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == trainable


def test_residual_block_shortcut_kinds():
    identity = _block(M.residual_block, (8, 8, 16), 16, name="r")
    assert not any("proj" in layer.name for layer in identity.layers)
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 16)).astype(np.float32)
    # with every weight zeroed the residual branch is 0 and BN's beta 0: out = relu(x)
    for w in identity.weights:
        if "kernel" in w.path:
            w.assign(np.zeros(w.shape, np.float32))
    np.testing.assert_allclose(np.asarray(identity(x)), np.maximum(x, 0), atol=1e-6)
    proj = _block(M.residual_block, (8, 8, 16), 16, stride=2, name="p")
    assert proj.get_layer("p_proj_conv").kernel.shape == (1, 1, 16, 16)


@pytest.mark.parametrize(
    "build, input_shape, out_shape, params",
    [
        # 27*32+32 + 9*32*32+32 + 9*32*64+64 + 9*64*64+64 = 65,568; 8*8*64*128+128 = 524,416;
        # 128*10+10 = 1,290
        (M.small_vgg, (32, 32, 3), (10,), 65568 + 524416 + 1290),
        # stem 27*16 + 64 = 496, identity block 4,736, projection 16->32 14,720, projection
        # 32->64: 3*3*32*64 + 3*3*64*64 + 32*64 + 3*4*64 = 58,112; head 650
        (M.small_resnet, (32, 32, 3), (10,), 496 + 4736 + 14720 + 58112 + 650),
        # Conv1D 5*1*16+16 = 96 (L 124 -> 62), 5*16*32+32 = 2,592 (58 -> 29), head 32*2+2 = 66
        (M.conv1d_classifier, (128, 1), (2,), 96 + 2592 + 66),
        # localisation: 5*5*1*8+8 = 208, 5*5*8*10+10 = 2,010, 4*4*10*32+32 = 5,152,
        # 32*6+6 = 198; then the seed CNN
        (M.stn_classifier, (28, 28, 1), (10,), 208 + 2010 + 5152 + 198 + 93322),
    ],
)
def test_small_models(build, input_shape, out_shape, params):
    model = build(input_shape)
    assert tuple(model.output.shape[1:]) == out_shape
    assert model.count_params() == params


def test_fcn_segmenter_shape_and_params():
    model = M.fcn_segmenter((32, 32, 3), num_classes=7)
    # down: 448 + 2,320, 3*3*16*32+32 = 4,640 + 9,248; bottleneck 64: 18,496 + 36,928;
    # up2: transposed 2*2*64*32+32 = 8,224, concat 64 -> 3*3*64*32+32 = 18,464 + 9,248;
    # up1: 2*2*32*16+16 = 2,064, concat 32 -> 4,640 - 16 = 4,624 + 2,320; 1x1 16*7+7 = 119
    assert model.count_params() == (
        448 + 2320 + 4640 + 9248 + 18496 + 36928 + 8224 + 18464 + 9248 + 2064 + 4624 + 2320 + 119
    )
    out = np.asarray(model(np.zeros((2, 32, 32, 3), np.float32)))
    assert out.shape == (2, 32, 32, 7)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="divisible by 4"):
        M.fcn_segmenter((30, 30, 3))


@pytest.mark.parametrize("build", [M.small_inception, M.small_densenet, M.small_mobilenet])
def test_other_small_models_classify(build):
    model = build((32, 32, 3), num_classes=6)
    out = np.asarray(model(np.zeros((2, 32, 32, 3), np.float32)))
    assert out.shape == (2, 6)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_box_regressor_heads():
    model = M.box_regressor((32, 32, 3), num_classes=6)
    out = model(np.zeros((3, 32, 32, 3), np.float32))
    assert out["class"].shape == (3, 6) and out["box"].shape == (3, 4)


def test_spatial_transformer_starts_as_identity():
    model = M.stn_classifier()
    x = np.random.default_rng(1).random((2, 28, 28, 1)).astype(np.float32)
    stn = model.get_layer("stn")
    np.testing.assert_allclose(
        np.asarray(stn.theta(x)), np.tile([[1, 0, 0], [0, 1, 0]], (2, 1, 1)), atol=1e-7
    )
    np.testing.assert_allclose(np.asarray(stn(x)), x, atol=1e-5)


def test_affine_grid_sample_shifts_by_exact_pixels():
    from cnncourse.keras.layers import affine_grid_sample

    x = np.random.default_rng(2).random((2, 5, 6, 3)).astype(np.float32)

    def sample(tx, ty=0.0, size=None):
        theta = np.tile(np.array([[1, 0, tx], [0, 1, ty]], np.float32), (2, 1, 1))
        return np.asarray(affine_grid_sample(x, theta, size))

    # Normalised coordinates span W - 1 = 5 pixel steps over [-1, 1]: tx = 2/5 is one pixel,
    # so output column j reads input column j + 1 and the last column falls outside (zeros).
    out = sample(2 / 5)
    np.testing.assert_allclose(out[:, :, :-1], x[:, :, 1:], atol=1e-5)
    np.testing.assert_allclose(out[:, :, -1], 0, atol=1e-6)
    # Half a pixel: bilinear interpolation averages the two neighbours.
    np.testing.assert_allclose(sample(1 / 5)[:, :, :-1], (x[:, :, :-1] + x[:, :, 1:]) / 2, atol=1e-5)
    # One row down (H - 1 = 4 steps): ty = 2/4.
    np.testing.assert_allclose(sample(0, 2 / 4)[:, :-1], x[:, 1:], atol=1e-5)
    # A larger output grid of the identity still hits the four corners exactly.
    big = sample(0, 0, (9, 11))
    assert big.shape == (2, 9, 11, 3)
    np.testing.assert_allclose(
        big[:, [0, 0, -1, -1], [0, -1, 0, -1]], x[:, [0, 0, -1, -1], [0, -1, 0, -1]], atol=1e-5
    )


def test_spatial_transformer_is_trainable():
    """The loss reaches the localisation net through the bilinear sampler."""
    from cnncourse.keras._tf import tf

    stn = M.SpatialTransformer()
    x = tf.constant(np.random.default_rng(3).random((2, 28, 28, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(stn(x)[:, :, :14] ** 2)  # asks for a shift: left half brighter
    grads = tape.gradient(loss, stn.trainable_weights)
    last_kernel = grads[-2]  # Dense(6): starts at zero, so only the gradient can move it
    assert np.abs(np.asarray(last_kernel)).max() > 0
    assert stn.compute_output_shape((None, 28, 28, 1)) == (None, 28, 28, 1)


def test_stn_classifier_saves_and_loads(tmp_path):
    model = M.stn_classifier()
    x = np.random.default_rng(4).random((2, 28, 28, 1)).astype(np.float32)
    model.save(tmp_path / "stn.keras")
    again = keras.models.load_model(tmp_path / "stn.keras")
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))


def test_count_macs_seed_cnn():
    # conv1 26*26*9*32, conv2 11*11*9*32*64, conv3 3*3*9*64*64, dense 576*64, out 64*10
    assert C.count_macs(M.seed_cnn()) == 194688 + 2230272 + 331776 + 36864 + 640


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: M.seed_cnn((28, 28)), r"input_shape must be 3 positive ints .*got \(28, 28\)"),
        (lambda: M.seed_cnn(num_classes=1), "num_classes must be an int >= 2; got 1"),
        (lambda: M.conv1d_classifier((28, 28, 1)), "input_shape must be 2 positive ints"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_alexnet_params_and_shapes():
    model = M.alexnet()
    # conv1 11*11*3*96+96 = 34,944, conv2 5*5*96*256+256 = 614,656, conv3 3*3*256*384+384
    # = 885,120, conv4 3*3*384*384+384 = 1,327,488, conv5 3*3*384*256+256 = 884,992,
    # fc6 6*6*256*4096+4096 = 37,752,832, fc7 4096*4096+4096 = 16,781,312,
    # output 4096*1000+1000 = 4,097,000
    per_layer = {
        "conv1": 34944,
        "conv2": 614656,
        "conv3": 885120,
        "conv4": 1327488,
        "conv5": 884992,
        "fc6": 37752832,
        "fc7": 16781312,
        "predictions": 4097000,
    }
    assert {k: model.get_layer(k).count_params() for k in per_layer} == per_layer
    assert model.count_params() == sum(per_layer.values()) == 62378344
    # 227 -conv1 (11, /4)-> 55 -pool(3, /2)-> 27 -conv2 same-> 27 -pool-> 13 -> 13 -> 13 -> 13
    # -pool-> 6; flatten 6*6*256 = 9,216
    shapes = {
        k: tuple(model.get_layer(k).output.shape[1:])
        for k in ("conv1", "pool1", "conv2", "pool2", "conv5", "pool5", "flatten")
    }
    assert shapes == {
        "conv1": (55, 55, 96),
        "pool1": (27, 27, 96),
        "conv2": (27, 27, 256),
        "pool2": (13, 13, 256),
        "conv5": (13, 13, 256),
        "pool5": (6, 6, 256),
        "flatten": (9216,),
    }
    assert tuple(model.outputs[0].shape[1:]) == (1000,)
    # MACs: 55*55*11*11*3*96 + 27*27*25*96*256 + 13*13*9*(256*384 + 384*384 + 384*256)
    # + 9216*4096 + 4096*4096 + 4096*1000
    assert (
        C.count_macs(model)
        == (105415200 + 447897600 + 169 * 9 * 344064 + 37748736 + 16777216 + 4096000)
        == 1135256096
    )


def test_alexnet_small_input_runs():
    model = M.alexnet((67, 67, 3), num_classes=5, dropout=0.0)
    assert tuple(model.get_layer("pool5").output.shape[1:]) == (1, 1, 256)  # 67 -> 15 -> 7 -> 3 -> 1
    out = np.asarray(model(np.zeros((2, 67, 67, 3), np.float32)))
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match=r"at least 67x67 pixels; got \(66, 100, 3\)"):
        M.alexnet((66, 100, 3))
    with pytest.raises(ValueError, match="dropout must be in"):
        M.alexnet(dropout=1.0)


def test_layer_macs_separable_depthwise_and_pooling():
    inputs = keras.Input((8, 8, 4))
    sep = keras.layers.SeparableConv2D(6, 3, strides=2, padding="same")
    dw = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    pool = keras.layers.MaxPooling2D(2)
    model = keras.Model(inputs, [sep(inputs), pool(dw(inputs))])
    # separable, output 4x4: depthwise 16*3*3*4 = 576 + pointwise 16*4*6 = 384
    assert C.layer_macs(sep) == 576 + 384 == 960
    # depthwise with multiplier 2, output 8x8: 64*3*3*4*2 = 4,608; pooling costs nothing
    assert C.layer_macs(dw) == 4608
    assert C.layer_macs(pool) == 0
    assert C.count_macs(model) == 960 + 4608
