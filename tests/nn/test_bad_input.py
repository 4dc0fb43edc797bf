"""Bad input raises ValueError/TypeError naming what was expected and what was given."""

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.nn import functional as F
from cnncourse.nn import naive as N
from cnncourse.nn.validation import check_dense_inputs

X = np.zeros((2, 8, 8, 3))
W = np.zeros((3, 3, 3, 4))


@pytest.mark.parametrize("impl", [F, N], ids=["fast", "naive"])
def test_conv_wrong_ndim(impl):
    with pytest.raises(ValueError, match=r"x must be a 4-D array \(N, H, W, C\); got shape \(8, 8\)"):
        impl.conv2d_forward(np.zeros((8, 8)), W)
    with pytest.raises(ValueError, match=r"w must be a 4-D array .*got shape \(3, 3\)"):
        impl.conv2d_forward(X, np.zeros((3, 3)))


@pytest.mark.parametrize("impl", [F, N], ids=["fast", "naive"])
def test_conv_channel_mismatch(impl):
    with pytest.raises(ValueError, match=r"x has 3 channels .* w expects C_in=1"):
        impl.conv2d_forward(X, np.zeros((3, 3, 1, 4)))


def test_conv_bias_shape():
    with pytest.raises(ValueError, match=r"b must have shape \(4,\).*got \(3,\)"):
        F.conv2d_forward(X, W, np.zeros(3))


@pytest.mark.parametrize("impl", [F, N], ids=["fast", "naive"])
def test_kernel_larger_than_padded_input(impl):
    with pytest.raises(ValueError, match=r"window \(9\) is larger than the padded input \(8"):
        impl.conv2d_forward(X, np.zeros((9, 9, 3, 1)))
    # With enough padding the same kernel fits.
    assert impl.conv2d_forward(X, np.zeros((9, 9, 3, 1)), padding=1)[0].shape == (2, 2, 2, 1)


@pytest.mark.parametrize("stride", [0, -1, (1, 0)])
def test_stride_must_be_positive(stride):
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d_forward(X, W, stride=stride)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.max_pool_forward(X, 2, stride)


@pytest.mark.parametrize("stride", [1.5, "2", None])
def test_stride_must_be_an_int(stride):
    with pytest.raises(TypeError, match="stride must be an int or a pair of ints"):
        F.conv2d_forward(X, W, stride=stride)


def test_bad_padding():
    with pytest.raises(ValueError, match=r'padding must be an int, "valid" or "same"; got \'full\''):
        F.conv2d_forward(X, W, padding="full")
    with pytest.raises(ValueError, match="padding must be >= 0; got -1"):
        F.conv2d_forward(X, W, padding=-1)


def test_pool_errors():
    with pytest.raises(ValueError, match=r"x must be a 4-D array .*got shape \(8, 8, 3\)"):
        F.max_pool_forward(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pool_forward(X, 2, None, "median")
    with pytest.raises(ValueError, match=r"window \(9\) is larger"):
        F.max_pool_forward(X, 9)


def test_non_numeric_input():
    with pytest.raises(TypeError, match="x must hold real numbers; got an array of dtype <U1"):
        F.relu_forward(np.array(["a", "b"]))


def test_dense_mismatch_suggests_flatten():
    with pytest.raises(ValueError, match=r"x has 5 features .* D_in=4 .*flatten"):
        F.dense_forward(np.zeros((2, 5)), np.zeros((4, 3)))


def test_dense_wrong_ndim():
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(N, D_in\); got shape \(5,\) \(1-D\)$"):
        F.dense_forward(np.zeros(5), np.zeros((5, 3)))
    with pytest.raises(
        ValueError,
        match=r"x must be a 2-D array \(N, D_in\); got shape \(2, 4, 4, 1\) "
        r"\(4-D\); flatten images first",
    ):
        F.dense_forward(np.zeros((2, 4, 4, 1)), np.zeros((16, 3)))
    with pytest.raises(ValueError, match=r"w must be a 2-D array \(D_in, D_out\); got shape \(5,\)"):
        F.dense_forward(np.zeros((2, 5)), np.zeros(5))


def test_dense_feature_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"feature mismatch: x has 5 features \(shape \(2, 5\)\) but w "
        r"expects D_in=4 \(shape \(4, 3\), layout \(D_in, D_out\)\)",
    ):
        F.dense_forward(np.zeros((2, 5)), np.zeros((4, 3)))


def test_dense_bias_shape():
    with pytest.raises(ValueError, match=r"b must have shape \(3,\) to match w's D_out; got \(2,\)"):
        F.dense_forward(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"b must be a 1-D array \(D_out,\); got shape \(1, 3\)"):
        F.dense_forward(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros((1, 3)))


def test_check_dense_inputs_casts_to_the_dtype_of_x():
    x, w, b = check_dense_inputs(np.zeros((2, 4), np.float32), np.zeros((4, 3)), np.zeros(3))
    assert (x.dtype, w.dtype, b.dtype) == (np.float32,) * 3
    assert check_dense_inputs(np.zeros((2, 4), int), np.zeros((4, 3)), None)[2] is None
    out, _ = F.dense_forward(np.ones((2, 4), np.float32), np.ones((4, 3)), np.ones(3))
    assert out.dtype == np.float32 and out.tolist() == [[5.0] * 3] * 2


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\] for 3 classes; got 3 at index 1"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"got -1 at index 0"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([-1, 0]))


def test_labels_wrong_shape_or_type():
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\) or \(2, 3\); got \(3,\)"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_nan_reaching_the_loss():
    logits = np.zeros((2, 3))
    logits[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"logits contain nan at index \(1, 2\).*diverged"):
        F.softmax_cross_entropy(logits, np.array([0, 1]))
    logits[1, 2] = np.inf
    with pytest.raises(ValueError, match="logits contain inf"):
        F.softmax_cross_entropy(logits, np.array([0, 1]))


def test_dropout_rate_range():
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\); got 1"):
        F.dropout_forward(np.ones(3), 1)


def test_batchnorm_parameter_shapes():
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\) for x of shape"):
        F.batchnorm_forward(np.ones((4, 3)), np.ones(2), np.zeros(3), np.zeros(3), np.ones(3))


def test_model_input_shape_mismatch():
    model = nn.Sequential([nn.Flatten(), nn.Dense(2)], input_shape=(4, 4, 1))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(N, 4, 4, 1\); got \(3, 4, 4, 3\)"):
        model.predict(np.zeros((3, 4, 4, 3)))


def test_model_fit_arguments():
    model = nn.Sequential([nn.Flatten(), nn.Dense(2)], input_shape=(2, 2, 1))
    x, y = np.zeros((4, 2, 2, 1)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="x has 4 examples but y has 3 labels"):
        model.fit(x, y[:3], verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="optimizer must be an Optimizer or one of"):
        model.fit(x, y, optimizer="rmsprop", verbose=0)


def test_layer_construction_errors():
    with pytest.raises(ValueError, match="filters must be a positive int; got 0"):
        nn.Conv2D(0, 3)
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        nn.Dense(3, activation="relu6")
    with pytest.raises(ValueError, match=r"Dense expects flat inputs \(D,\); got shape \(4, 4, 1\)"):
        nn.Sequential([nn.Dense(3)], input_shape=(4, 4, 1))
    with pytest.raises(ValueError, match=r"learning rate must be a positive number; got -0\.1"):
        nn.SGD(-0.1)
