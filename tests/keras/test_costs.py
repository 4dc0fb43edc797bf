"""architecture_costs: parameters, MACs and depth of the classic networks, built with
``weights=None`` and without initialising their weights."""

import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse.keras import compat
from cnncourse.keras import costs as C
from cnncourse.keras import models as M
from cnncourse.keras._tf import keras


def test_published_sizes_and_depths():
    rows = {
        r.name: r for r in C.architecture_costs(["LeNet-5", "AlexNet", "VGG16", "ResNet50", "MobileNetV2"])
    }
    # parameter counts in the Keras Applications table and in our hand-checked builders
    assert {n: r.params for n, r in rows.items()} == {
        "LeNet-5": 61706,
        "AlexNet": 62378344,
        "VGG16": 138357544,
        "ResNet50": 25636712,
        "MobileNetV2": 3538984,
    }
    # the depth in each network's name: 13 conv + 3 dense; 49 conv + 1 dense on the main path
    assert {n: r.depth for n, r in rows.items()} == {
        "LeNet-5": 5,
        "AlexNet": 8,
        "VGG16": 16,
        "ResNet50": 50,
        "MobileNetV2": 53,
    }
    assert rows["AlexNet"].macs == 1135256096 and rows["AlexNet"].flops == 2 * 1135256096
    # VGG16 MACs: 13 convs at 224, 112, 56, 28, 14 pixels plus 25088*4096 + 4096*4096 + 4096*1000
    convs = [
        (224, 3, 64),
        (224, 64, 64),
        (112, 64, 128),
        (112, 128, 128),
        (56, 128, 256),
        (56, 256, 256),
        (56, 256, 256),
        (28, 256, 512),
        (28, 512, 512),
        (28, 512, 512),
        (14, 512, 512),
        (14, 512, 512),
        (14, 512, 512),
    ]
    vgg = sum(s * s * 9 * ci * co for s, ci, co in convs) + 25088 * 4096 + 4096 * 4096 + 4096000
    assert rows["VGG16"].macs == vgg == 15470264320
    assert rows["AlexNet"].input_shape == (227, 227, 3) and rows["AlexNet"].top1 == 62.5
    assert rows["LeNet-5"].top1 is None


def test_same_input_for_all_and_classes():
    rows = C.architecture_costs(["LeNet-5", "AlexNet"], input_shape=(96, 96, 3), num_classes=10)
    lenet = M.lenet5((96, 96, 3), 10)
    assert rows[0].params == lenet.count_params() and rows[0].macs == C.count_macs(lenet)
    assert rows[1].input_shape == (96, 96, 3)
    # 96 -> 22 -> 10 -> 4 -> 1: fc6 sees 1*1*256; output 4096*10+10
    assert rows[1].params == 62378344 - (9216 - 256) * 4096 - 990 * 4096 - 990


def test_weights_are_never_initialised():
    before = compat.uninitialized_variables()
    C.architecture_costs(["VGG16"])
    assert compat.uninitialized_variables() == before
    model = M.seed_cnn()  # ordinary models still build and run afterwards
    assert model(keras.ops.zeros((1, 28, 28, 1))).shape == (1, 10)


def test_weight_depth_ignores_shortcuts_and_branches():
    inputs = keras.Input((8, 8, 16))
    x = M.residual_block(inputs, 32, stride=2)  # 2 convs on the main path, 1x1 beside it
    x = M.inception_block(x, 8, 8, 8, 4, 8, 8)  # at most 2 convs deep
    assert C.weight_depth(keras.Model(inputs, x)) == 4
    assert C.weight_depth(M.seed_cnn()) == 5


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: C.architecture_costs(["ResNet18"]), ValueError, r"unknown architectures \['ResNet18'\]"),
        (lambda: C.architecture_costs("VGG16"), TypeError, "names must be a list"),
        (lambda: C.weight_depth("vgg"), TypeError, "expects a keras.Model; got str"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_shapes_only_counts_without_values():
    with C.shapes_only():
        model = M.alexnet()
    assert model.count_params() == 62378344 and C.count_macs(model) == 1135256096
    assert C.weight_depth(model) == 8
    assert all(getattr(v, "_value", None) is None for v in model.weights)  # never filled in
