"""The engine's contracts: named caches, the Layer protocol, activation and regulariser classes."""

import inspect

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.nn import functional as F
from cnncourse.nn import layers as L
from cnncourse.nn import naive as N


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------- caches


def test_conv_cache_fields_for_a_hand_sized_example():
    # x (2, 5, 5, 3), w (3, 3, 3, 4), stride 2, padding 1: OH = OW = (5 + 2 - 3) // 2 + 1 = 3.
    x, w = rand(2, 5, 5, 3), rand(3, 3, 3, 4, seed=1)
    out, cache = F.conv2d_forward(x, w, np.zeros(4), stride=2, padding=1)
    assert out.shape == (2, 3, 3, 4)
    assert isinstance(cache, F.ConvCache) and isinstance(cache, tuple)
    assert cache._fields == ("x_shape", "x_padded", "pads", "stride", "w", "cols")
    assert cache.x_shape == (2, 5, 5, 3)
    assert cache.pads == (1, 1, 1, 1)
    assert cache.stride == (2, 2)
    assert cache.w is w
    # The padded input: one ring of zeros around each image, the image inside.
    np.testing.assert_array_equal(cache.x_padded, np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
    # A batch this small is one block: its im2col matrix is kept, one row per output
    # pixel; the first is the padded input's top-left 3x3 window.
    assert cache.cols.shape == (2 * 3 * 3, 3 * 3 * 3)
    np.testing.assert_array_equal(cache.cols[0], cache.x_padded[0, :3, :3, :].ravel())
    # Without padding the cache holds the input itself, not a copy.
    _, valid = F.conv2d_forward(x, w, np.zeros(4), stride=2, padding=0)
    assert valid.x_padded is x and valid.pads == (0, 0, 0, 0)


def test_conv_cache_same_padding_is_asymmetric():
    # "same", stride 2 on 4 pixels: output 2, total padding (2-1)*2 + 3 - 4 = 1, after.
    _, cache = F.conv2d_forward(rand(1, 4, 4, 1), rand(3, 3, 1, 2), stride=2, padding="same")
    assert cache.pads == (0, 1, 0, 1)
    assert cache.x_padded.shape == (1, 5, 5, 1)


def test_naive_conv_cache_matches_the_fast_one_where_they_hold_the_same_thing():
    x, w = rand(1, 6, 5, 2), rand(3, 2, 2, 3, seed=1)
    _, fast = F.conv2d_forward(x, w, stride=(2, 1), padding="same")
    _, slow = N.conv2d_forward(x, w, stride=(2, 1), padding="same")
    assert isinstance(slow, N.NaiveConvCache)
    assert slow._fields == ("x", "x_padded", "w", "stride", "pads")
    assert slow.stride == fast.stride and slow.pads == fast.pads
    assert slow.x_padded.shape == fast.x_padded.shape and slow.x.shape == fast.x_shape
    np.testing.assert_array_equal(slow.w, fast.w)


@pytest.mark.parametrize("mode", ["max", "avg", "sum"])
def test_pool_cache_fields(mode):
    x = rand(2, 4, 6, 3).astype(np.float32)
    _, cache = F.pool_forward(x, 2, mode=mode)
    assert isinstance(cache, F.PoolCache)
    assert cache._fields == ("x_shape", "dtype", "pool_size", "stride", "mode", "argmax")
    assert (cache.x_shape, cache.dtype, cache.pool_size, cache.stride, cache.mode) == (
        (2, 4, 6, 3),
        np.float32,
        (2, 2),
        (2, 2),
        mode,
    )
    if mode == "max":
        assert cache.argmax.shape == (2, 2, 3, 3) and cache.argmax.dtype.kind == "i"
    else:
        assert cache.argmax is None
    _, slow = N.pool_forward(x, 2, mode=mode)
    assert isinstance(slow, N.NaivePoolCache)
    assert slow._fields == ("x", "pool_size", "stride", "mode")
    assert (slow.pool_size, slow.stride, slow.mode) == (cache.pool_size, cache.stride, mode)


def test_max_pool_argmax_is_the_flat_index_in_the_window():
    x = np.array([[1.0, 2.0], [4.0, 3.0]])[None, :, :, None]  # winner at (1, 0): index 1*2 + 0
    _, cache = F.max_pool_forward(x, 2)
    assert cache.argmax.tolist() == [[[[2]]]]


def test_dense_cache_fields_and_unpacking():
    x, w = rand(4, 3), rand(3, 2, seed=1)
    _, cache = F.dense_forward(x, w, np.zeros(2))
    assert isinstance(cache, F.DenseCache) and cache._fields == ("x", "w")
    assert cache.x is x and cache.w is w
    x_again, w_again = cache  # a named tuple still unpacks by position
    assert x_again is x and w_again is w


@pytest.mark.parametrize(
    ("forward", "cache_type", "fields"),
    [
        (F.relu_forward, F.ReluCache, ("x",)),
        (lambda x: F.leaky_relu_forward(x, 0.2), F.LeakyReluCache, ("x", "alpha")),
        (F.sigmoid_forward, F.SigmoidCache, ("out",)),
        (F.tanh_forward, F.TanhCache, ("out",)),
        (F.softmax_forward, F.SoftmaxCache, ("out",)),
        (F.flatten_forward, F.FlattenCache, ("x_shape",)),
        (F.global_avg_pool_forward, F.GlobalAvgPoolCache, ("x_shape",)),
        (lambda x: F.dropout_forward(x, 0.5, rng=0), F.DropoutCache, ("mask",)),
    ],
    ids=["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "flatten", "global_avg_pool", "dropout"],
)
def test_small_caches_are_named(forward, cache_type, fields):
    x = rand(2, 3, 4, 5)
    out, cache = forward(x)
    assert isinstance(cache, cache_type) and cache._fields == fields
    for name in fields:
        value = getattr(cache, name)
        if name == "x":
            assert value is x
        elif name == "out":
            assert value is out
        elif name == "x_shape":
            assert value == x.shape
        elif name == "mask":
            assert value.shape == x.shape
        else:
            assert value == 0.2


def test_dropout_cache_in_evaluation_mode_holds_no_mask():
    x = rand(3, 4)
    out, cache = F.dropout_forward(x, 0.5, training=False)
    assert out is x and cache == F.DropoutCache(mask=None)
    dout = rand(3, 4, seed=1)
    assert F.dropout_backward(dout, cache) is dout


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_cache_fields(training):
    x, gamma = rand(6, 3), np.array([1.0, 2.0, 0.5])
    _, cache = F.batchnorm_forward(x, gamma, np.zeros(3), np.zeros(3), np.ones(3), training)
    assert isinstance(cache, F.BatchNormCache)
    assert cache._fields == ("x_hat", "gamma", "inv_std", "training")
    assert cache.x_hat.shape == (6, 3) and cache.inv_std.shape == (3,)
    assert cache.gamma is gamma and cache.training is training
    if training:  # normalised with the batch's statistics
        np.testing.assert_allclose(cache.x_hat.mean(axis=0), 0, atol=1e-12)


def test_a_cache_built_from_its_fields_drives_the_backward_pass():
    """A cache built by hand with the documented fields is all a backward pass needs."""
    x, w = rand(2, 3), rand(3, 4, seed=1)
    dout = rand(2, 4, seed=2)
    dx, dw, db = F.dense_backward(dout, F.DenseCache(x=x, w=w))
    np.testing.assert_allclose(dx, dout @ w.T)
    np.testing.assert_allclose(dw, x.T @ dout)
    np.testing.assert_allclose(db, dout.sum(axis=0))


# --------------------------------------------------------------------------- the Layer protocol


LAYER_CLASSES = [
    L.Conv2D,
    L.Dense,
    L.MaxPool2D,
    L.AvgPool2D,
    L.SumPool2D,
    L.GlobalAvgPool2D,
    L.Flatten,
    L.Activation,
    L.ReLU,
    L.LeakyReLU,
    L.Softmax,
    L.Dropout,
    L.BatchNorm,
]


def test_layer_declares_the_fused_softmax_protocol():
    layer = L.Layer()
    assert layer.activation is None and layer.logits is None
    params = inspect.signature(L.Layer.backward).parameters
    assert list(params) == ["self", "dout", "through_activation"]
    assert params["through_activation"].default is True
    with pytest.raises(NotImplementedError):
        layer.backward(np.ones(2))
    assert "through_activation" in L.Layer.__doc__ and "logits" in L.Layer.__doc__


@pytest.mark.parametrize("cls", LAYER_CLASSES, ids=lambda c: c.__name__)
def test_every_layer_follows_the_base_signatures(cls):
    assert issubclass(cls, L.Layer)
    params = inspect.signature(cls.backward).parameters
    assert list(params) == ["self", "dout", "through_activation"]
    assert params["through_activation"].default is True
    assert list(inspect.signature(cls.forward).parameters) == ["self", "x", "training"]


def test_layers_without_an_activation_leave_logits_unset():
    for layer in [L.MaxPool2D(), L.Flatten(), L.Dropout(0.5), L.BatchNorm()]:
        assert layer.activation is None and layer.logits is None


def test_logits_are_the_input_of_the_activation():
    model = nn.Sequential(
        [nn.Flatten(), nn.Dense(3, activation="softmax")], input_shape=(2, 2, 1), seed=0, dtype=np.float64
    )
    x = rand(4, 2, 2, 1)
    probs = model.forward(x)
    dense = model.layers[-1]
    np.testing.assert_allclose(dense.logits, x.reshape(4, 4) @ dense.params["w"])
    np.testing.assert_allclose(probs, F.softmax(dense.logits))


def test_a_separate_softmax_layer_is_fused_too():
    """Dense + Softmax() trains exactly like Dense(activation="softmax")."""
    x, y = rand(5, 3, 3, 1), np.array([0, 1, 2, 1, 0])
    inline = nn.Sequential(
        [nn.Flatten(), nn.Dense(3, activation="softmax")], input_shape=(3, 3, 1), seed=2, dtype=np.float64
    )
    separate = nn.Sequential(
        [nn.Flatten(), nn.Dense(3), nn.Softmax()], input_shape=(3, 3, 1), seed=2, dtype=np.float64
    )
    assert inline._ends_in_softmax() and separate._ends_in_softmax()
    loss_a, _ = inline.loss(x, y)
    loss_b, _ = separate.loss(x, y)
    assert loss_a == pytest.approx(loss_b)
    np.testing.assert_allclose(inline.grads["1.w"], separate.grads["1.w"])


def test_backward_flag_is_ignored_by_layers_without_an_activation():
    model = nn.Sequential(
        [nn.Conv2D(2, 2), nn.MaxPool2D(2), nn.Flatten()], input_shape=(5, 5, 1), seed=0, dtype=np.float64
    )
    x = rand(3, 5, 5, 1)
    out = model.forward(x, training=True)
    dout = rand(*out.shape, seed=1)
    through = model.backward(dout)
    skipped = model.backward(dout, through_last_activation=False)
    np.testing.assert_array_equal(through, skipped)


# --------------------------------------------------------------------------- activation classes


def test_activation_classes():
    relu, leaky, softmax = nn.ReLU(), nn.LeakyReLU(), nn.Softmax(name="probs")
    for layer, cls, act in [
        (relu, nn.ReLU, "relu"),
        (leaky, nn.LeakyReLU, "leaky_relu"),
        (softmax, nn.Softmax, "softmax"),
    ]:
        assert isinstance(layer, cls) and isinstance(layer, nn.Activation)
        assert layer.activation == act  # what cnncourse.keras.bridge reads
    assert (relu.name, leaky.name, softmax.name) == ("relu", "leaky_relu", "probs")
    assert leaky.alpha == 0.01 and leaky.kwargs == {"alpha": 0.01}  # the bridge reads kwargs
    assert nn.LeakyReLU(0.2).alpha == 0.2 and nn.LeakyReLU(alpha=0.3).kwargs == {"alpha": 0.3}
    assert repr(relu) == "ReLU(name='relu')"
    assert repr(nn.LeakyReLU(0.2, name="lr")) == "LeakyReLU(alpha=0.2, name='lr')"
    assert repr(softmax) == "Softmax(name='probs')"
    assert repr(nn.Activation("tanh")) == "Activation('tanh', name='tanh')"


def test_activation_classes_compute_their_functions():
    x = rand(2, 5)
    np.testing.assert_array_equal(nn.ReLU().forward(x), F.relu_forward(x)[0])
    np.testing.assert_array_equal(nn.LeakyReLU(0.2).forward(x), F.leaky_relu_forward(x, 0.2)[0])
    np.testing.assert_array_equal(nn.Softmax().forward(x), F.softmax(x))


def test_activation_classes_in_a_model_summary():
    model = nn.Sequential(
        [nn.Flatten(), nn.Dense(4), nn.ReLU(), nn.Dense(2), nn.Softmax()], input_shape=(2, 2, 1)
    )
    text = model.summary(print_fn=None)
    assert "relu (ReLU)" in text and "softmax (Softmax)" in text


# --------------------------------------------------------------------------- regulariser classes


def test_regulariser_classes():
    l1, l2 = nn.L1(0.1), nn.L2()
    assert isinstance(l1, nn.L1) and isinstance(l1, nn.Regularizer)
    assert isinstance(l2, nn.L2) and isinstance(l2, L.Regularizer)
    assert (l1.l1, l1.l2) == (0.1, 0.0)  # cnncourse.keras.bridge reads l1 and l2
    assert (l2.l1, l2.l2) == (0.0, 0.01)
    assert repr(l1) == "L1(strength=0.1)" and repr(l2) == "L2(strength=0.01)"
    assert repr(nn.Regularizer(l1=0.1, l2=0.2)) == "Regularizer(l1=0.1, l2=0.2)"
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert l1(w)[0] == pytest.approx(0.1 * 3.5)
    np.testing.assert_array_equal(l1(w)[1], 0.1 * np.sign(w))
    assert l2(w)[0] == pytest.approx(0.01 * 5.25)
    np.testing.assert_allclose(l2(w)[1], 0.02 * w)
    with pytest.raises(ValueError, match="penalty strengths must be >= 0; got l1=-1"):
        nn.L1(-1)
