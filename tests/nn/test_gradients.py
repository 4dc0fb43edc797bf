"""Every backward pass agrees with central differences: relative error < 1e-7 in float64."""

import numpy as np
import pytest

from cnncourse.nn import functional as F
from cnncourse.nn.gradcheck import check_gradients, numerical_gradient, rel_error

TOL = 1e-7


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(*shape, seed=0):
    """Random values with |v| >= 0.1, so kinks (ReLU at 0) are not crossed by +-h."""
    x = rand(*shape, seed=seed)
    return np.where(np.abs(x) < 0.1, np.sign(x) * 0.1 + x, x)


def assert_grads_ok(errors):
    worst = max(errors.values())
    assert worst < TOL, f"relative errors {errors}"


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    assert x.tolist() == [[1.0, -2.0], [0.5, 3.0]]  # restored after the perturbations


def test_rel_error_hand_worked():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)  # |1-3| / (1+3)
    assert rel_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        rel_error(np.ones(2), np.ones(3))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "padding"),
    [
        ((2, 5, 5, 3), (3, 3, 3, 4), 1, 0),
        ((2, 6, 5, 3), (3, 3, 3, 4), 2, "same"),  # stride 2 with "same" padding
        ((1, 6, 7, 3), (3, 2, 3, 4), 1, "same"),  # non-square kernel
        ((2, 7, 6, 3), (2, 3, 3, 4), (2, 1), 1),
        ((1, 5, 5, 3), (3, 3, 3, 4), 2, "valid"),
    ],
)
def test_conv2d(x_shape, w_shape, stride, padding):
    inputs = {"x": rand(*x_shape), "w": rand(*w_shape, seed=1), "b": rand(w_shape[-1], seed=2)}
    errors = check_gradients(
        lambda x, w, b: F.conv2d_forward(x, w, b, stride, padding), F.conv2d_backward, inputs
    )
    assert_grads_ok(errors)


@pytest.mark.parametrize("mode", ["max", "avg", "sum"])
@pytest.mark.parametrize(("pool_size", "stride"), [(2, None), (3, 1), (3, 2), ((2, 3), (1, 2))])
def test_pooling_including_overlapping_windows(mode, pool_size, stride):
    errors = check_gradients(
        lambda x: F.pool_forward(x, pool_size, stride, mode), F.pool_backward, {"x": rand(2, 7, 7, 3)}
    )
    assert_grads_ok(errors)


def test_global_average_pooling():
    assert_grads_ok(
        check_gradients(F.global_avg_pool_forward, F.global_avg_pool_backward, {"x": rand(2, 4, 5, 3)})
    )


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (F.relu_forward, F.relu_backward),
        (lambda x: F.leaky_relu_forward(x, 0.1), F.leaky_relu_backward),
        (F.sigmoid_forward, F.sigmoid_backward),
        (F.tanh_forward, F.tanh_backward),
        (F.softmax_forward, F.softmax_backward),
        (F.flatten_forward, F.flatten_backward),
    ],
    ids=["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "flatten"],
)
def test_elementwise_and_reshaping_layers(forward, backward):
    assert_grads_ok(check_gradients(forward, backward, {"x": away_from_zero(3, 4, 5)}))


def test_dense():
    inputs = {"x": rand(4, 6), "w": rand(6, 3, seed=1), "b": rand(3, seed=2)}
    assert_grads_ok(check_gradients(F.dense_forward, F.dense_backward, inputs))


def test_dropout_with_a_fixed_mask():
    def forward(x):
        return F.dropout_forward(x, 0.4, training=True, rng=7)  # same mask every call

    assert_grads_ok(check_gradients(forward, F.dropout_backward, {"x": rand(5, 6)}))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 3, 2)], ids=["dense", "conv"])
def test_batchnorm(training, shape):
    c = shape[-1]

    def forward(x, gamma, beta):
        # Fresh running statistics per call: the in-place update must not leak between
        # the +h and -h evaluations.
        running_mean, running_var = np.full(c, 0.3), np.full(c, 1.7)
        return F.batchnorm_forward(x, gamma, beta, running_mean, running_var, training=training)

    inputs = {"x": rand(*shape), "gamma": rand(c, seed=1), "beta": rand(c, seed=2)}
    # dx sums to zero over each channel, so a few true entries are ~1e-5; float64
    # differences resolve those only to ~1e-6 relative. The reference is taken in
    # extended precision with a smaller step; the backward under test stays float64.
    errors = check_gradients(forward, F.batchnorm_backward, inputs, h=1e-6, reference_dtype=np.longdouble)
    assert_grads_ok(errors)


@pytest.mark.parametrize("labels", ["indices", "one_hot"])
def test_softmax_cross_entropy(labels):
    logits = rand(6, 4)
    y = np.array([0, 3, 1, 2, 3, 0])
    if labels == "one_hot":
        y = np.eye(4)[y]
    _, dlogits = F.softmax_cross_entropy(logits, y)
    numeric = numerical_gradient(lambda z: F.softmax_cross_entropy(z, y)[0], logits)
    assert rel_error(dlogits, numeric) < TOL


@pytest.mark.parametrize("penalty", [F.l1_penalty, F.l2_penalty])
def test_weight_penalties(penalty):
    w = away_from_zero(3, 4)
    _, dw = penalty(w, 0.05)
    assert rel_error(dw, numerical_gradient(lambda v: penalty(v, 0.05)[0], w)) < TOL


def test_whole_network_parameter_gradients():
    """Sequential.loss fills grads that match the numerical gradient of the loss."""
    from cnncourse import nn

    model = nn.Sequential(
        [
            nn.Conv2D(3, 3, strides=2, padding="same", activation="relu"),
            nn.BatchNorm(),
            nn.MaxPool2D(2, strides=1),
            nn.Flatten(),
            nn.Dense(5, activation="tanh"),
            nn.Dense(4, activation="softmax", kernel_regularizer=nn.L2(0.01)),
        ],
        input_shape=(6, 6, 2),
        seed=3,
        dtype=np.float64,
    )
    x = rand(5, 6, 6, 2, seed=4)
    y = np.array([0, 1, 2, 3, 1])
    model.loss(x, y)
    grads = {k: v.copy() for k, v in model.grads.items()}
    for key, param in model.params.items():
        numeric = numerical_gradient(lambda _p: model.loss(x, y)[0], param)
        assert rel_error(grads[key], numeric) < TOL, key
