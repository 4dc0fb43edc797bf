"""Small examples worked out by hand, as in the book."""

import numpy as np
import pytest

from cnncourse.nn import functional as F
from cnncourse.nn import naive as N


def as_batch(image):
    """(H, W) -> (1, H, W, 1)."""
    return np.asarray(image, dtype=np.float64)[None, :, :, None]


@pytest.mark.parametrize(("mode", "expected"), [("max", 4.0), ("avg", 2.5), ("sum", 10.0)])
@pytest.mark.parametrize("impl", [F, N], ids=["fast", "naive"])
def test_two_by_two_pooling(impl, mode, expected):
    out, _ = impl.pool_forward(as_batch([[1, 3], [2, 4]]), 2, None, mode)
    assert out.shape == (1, 1, 1, 1)
    assert out[0, 0, 0, 0] == expected


def test_max_pool_backward_routes_to_the_winner():
    x = as_batch([[1, 3, 0, 1], [2, 4, 5, 2], [0, 0, 1, 1], [7, 1, 1, 6]])
    out, cache = F.max_pool_forward(x, 2)
    assert out[0, :, :, 0].tolist() == [[4, 5], [7, 6]]
    dx = F.max_pool_backward(np.ones_like(out), cache)[0, :, :, 0]
    assert dx.tolist() == [[0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1]]


@pytest.mark.parametrize("impl", [F, N], ids=["fast", "naive"])
def test_vertical_edge_kernel(impl):
    # A dark left half and a bright right half; the kernel responds where brightness
    # rises from left to right.
    image = [[0, 0, 9, 9]] * 4
    kernel = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float)
    out, _ = impl.conv2d_forward(as_batch(image), kernel[:, :, None, None])
    # Each output: sum over 3 rows of (right column - left column) = 3 * (9 - 0) = 27.
    assert out[0, :, :, 0].tolist() == [[27, 27], [27, 27]]


def test_convolution_is_cross_correlation():
    """The kernel is not flipped: its top-left weight multiplies the window's top-left pixel."""
    image = np.zeros((3, 3))
    image[0, 0] = 1.0
    kernel = np.arange(1.0, 10.0).reshape(3, 3)
    out, _ = F.conv2d_forward(as_batch(image), kernel[:, :, None, None])
    assert out[0, 0, 0, 0] == 1.0  # a true (flipped) convolution would give 9


def test_same_padding_blur_keeps_size_and_mean_inside():
    image = np.full((5, 5), 2.0)
    kernel = np.full((3, 3, 1, 1), 1 / 9)
    out, _ = F.conv2d_forward(as_batch(image), kernel, padding="same")
    assert out.shape == (1, 5, 5, 1)
    assert out[0, 2, 2, 0] == pytest.approx(2.0)
    assert out[0, 0, 0, 0] == pytest.approx(2.0 * 4 / 9)  # corner: 4 of 9 taps inside


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (28, 3, 1, "valid", 26),  # (28 - 3) / 1 + 1
        (28, 3, 1, "same", 28),
        (28, 3, 2, "same", 14),  # ceil(28 / 2)
        (32, 5, 1, 2, 32),  # (32 + 4 - 5) / 1 + 1
        (7, 3, 2, 0, 3),  # (7 - 3) / 2 + 1
        (7, 3, 2, 1, 4),  # (7 + 2 - 3) / 2 + 1
        (224, 11, 4, 2, 55),  # AlexNet's first layer: floor((224 + 4 - 11) / 4) + 1
        (5, 2, 2, 0, 2),  # floor((5 - 2) / 2) + 1: the last column is dropped
    ],
)
def test_output_size(size, kernel, stride, padding, expected):
    shape = F.conv_output_shape((1, size, size, 3), (kernel, kernel, 3, 8), stride, padding)
    assert shape == (1, expected, expected, 8)
    out, _ = F.conv2d_forward(
        np.zeros((1, size, size, 3)), np.zeros((kernel, kernel, 3, 8)), stride=stride, padding=padding
    )
    assert out.shape == shape


def test_relu_and_friends():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert F.relu_forward(x)[0].tolist() == [0, 0, 0, 0.5, 2]
    assert F.leaky_relu_forward(x, 0.1)[0].tolist() == pytest.approx([-0.2, -0.05, 0, 0.5, 2])
    assert F.relu_backward(np.ones(5), F.relu_forward(x)[1]).tolist() == [0, 0, 0, 1, 1]
    assert F.sigmoid_forward(np.array([0.0]))[0][0] == 0.5
    assert F.tanh_forward(np.array([0.0]))[0][0] == 0.0


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise"):
        s, _ = F.sigmoid_forward(np.array([-1000.0, 1000.0]))
    assert s.tolist() == [0.0, 1.0]


def test_softmax_of_huge_logits():
    with np.errstate(over="raise", invalid="raise"):
        p = F.softmax(np.array([[1000.0, 1000.0], [1000.0, 0.0], [-1000.0, -1000.0]]))
        loss, dlogits = F.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    np.testing.assert_allclose(p, [[0.5, 0.5], [1.0, 0.0], [0.5, 0.5]])
    assert loss == pytest.approx(1000.0)  # -log softmax = 1000 - 0 + log(1 + e^-1000)
    np.testing.assert_allclose(dlogits, [[1.0, -1.0]])


def test_softmax_cross_entropy_hand_worked():
    # Two equal logits: p = (0.5, 0.5); loss = ln 2; gradient = p - onehot.
    loss, dlogits = F.softmax_cross_entropy(np.array([[0.0, 0.0]]), np.array([0]))
    assert loss == pytest.approx(np.log(2))
    np.testing.assert_allclose(dlogits, [[-0.5, 0.5]])
    # Batch of two: the mean loss and a gradient divided by N.
    logits = np.array([[np.log(3.0), 0.0], [0.0, 0.0]])  # p = (0.75, 0.25) and (0.5, 0.5)
    loss, dlogits = F.softmax_cross_entropy(logits, np.array([0, 1]))
    assert loss == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2)
    np.testing.assert_allclose(dlogits, [[-0.125, 0.125], [0.25, -0.25]])


def test_accuracy_is_argmax_agreement():
    assert F.accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), [1, 0, 0]) == 2 / 3


def test_dense_hand_worked():
    out, _ = F.dense_forward(
        np.array([[1.0, 2.0]]), np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]), np.array([0.5, 0.0, -1.0])
    )
    assert out.tolist() == [[1.5, 2.0, 3.0]]


def test_global_average_pool_and_flatten():
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    assert F.global_avg_pool_forward(x)[0].tolist() == [[3.0, 4.0]]
    flat, _ = F.flatten_forward(x)
    assert flat.tolist() == [list(range(8))]  # C order: (h, w, c) with c fastest


def test_dropout_scales_kept_values_and_is_seeded():
    x = np.ones((200, 50))
    out, _ = F.dropout_forward(x, 0.25, training=True, rng=3)
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.01
    again, _ = F.dropout_forward(x, 0.25, training=True, rng=3)
    np.testing.assert_array_equal(out, again)
    assert F.dropout_forward(x, 0.25, training=False)[0] is x


def test_batchnorm_normalises_and_tracks_running_statistics():
    x = np.array([[1.0, 10.0], [3.0, 30.0]])  # means (2, 20), variances (1, 100)
    mean, var = np.zeros(2), np.ones(2)
    out, _ = F.batchnorm_forward(x, np.ones(2), np.zeros(2), mean, var, training=True, momentum=0.9, eps=0.0)
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]])
    np.testing.assert_allclose(mean, [0.2, 2.0])  # 0.9 * 0 + 0.1 * batch mean
    np.testing.assert_allclose(var, [1.0, 10.9])  # 0.9 * 1 + 0.1 * batch variance
    out, _ = F.batchnorm_forward(
        np.array([[0.2, 2.0]]), np.ones(2), np.zeros(2), mean, var, training=False, eps=0.0
    )
    np.testing.assert_allclose(out, [[0.0, 0.0]], atol=1e-12)


def test_weight_penalties_hand_worked():
    w = np.array([1.0, -2.0])
    assert F.l2_penalty(w, 0.1)[0] == pytest.approx(0.5)  # 0.1 * (1 + 4)
    np.testing.assert_allclose(F.l2_penalty(w, 0.1)[1], [0.2, -0.4])
    assert F.l1_penalty(w, 0.1)[0] == pytest.approx(0.3)
    np.testing.assert_allclose(F.l1_penalty(w, 0.1)[1], [0.1, -0.1])
