"""Delegating answers for every solution cell: each calls the reference implementation
(in a different way) and would pass the cell's tests if the grader did not check.

``VARIANTS[notebook][grade_id] = (code, what the message must name)``; ``EXTRAS`` are
cells the learner added after a solution cell. Cells whose declaration is empty (nothing
in the library does their work) are listed in ``NOTHING_TO_FORBID``.
"""

from __future__ import annotations

NOTHING_TO_FORBID = {
    ("09_regularisation", "diagnose"): "a rule on a history dict: no library function does it",
    ("09_regularisation", "fix"): "choosing layers: using the library's layers is the task",
}

VARIANTS: dict[str, dict[str, tuple[str, str]]] = {
    "00_demo_convolution": {
        # a helper of the library with another signature
        "output-size": (
            """from cnncourse.nn.validation import output_size as _size


def output_size(n, k, stride=1, padding=0):
    return _size(n, k, stride, 2 * padding)
""",
            "cnncourse.nn.validation.output_size",
        ),
        # the module imported by its full name
        "conv2d-forward": (
            """import cnncourse.nn.functional


def conv2d_forward(x, w, b, stride=1, padding=0):
    return cnncourse.nn.functional.conv2d_forward(x, w, b, stride=stride, padding=padding)[0]
""",
            "cnncourse.nn.functional.conv2d_forward",
        ),
        # the loop version in naive
        "max-pool-forward": (
            """from cnncourse.nn import naive


def max_pool_forward(x, pool_size=2, stride=None):
    return naive.max_pool_forward(x, pool_size, stride)[0]
""",
            "cnncourse.nn.naive.max_pool_forward",
        ),
    },
    "01_demo_backprop": {
        # the exercise names imported straight from the reference
        "relu": (
            """from cnncourse.nn.functional import relu_backward, relu_forward
""",
            "cnncourse.nn.functional.relu_",
        ),
        "dense": (
            """from cnncourse.nn import functional as F


def dense_forward(x, w, b):
    return F.dense_forward(x, w, b)


def dense_backward(dout, cache):
    return F.dense_backward(dout, cache)
""",
            "cnncourse.nn.functional.dense_",
        ),
        # scipy instead of the course's reference
        "softmax-cross-entropy": (
            """import scipy.special


def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    log_probs = scipy.special.log_softmax(logits, axis=1)
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1
    return float(-log_probs[np.arange(n), y].mean()), dlogits / n
""",
            "scipy.special.log_softmax",
        ),
    },
    "02_convolution": {
        # through a helper defined in a cell the learner added (EXTRAS)
        "correlate2d": (
            """def correlate2d(image, kernel):
    return _valid_correlation(image, kernel)


def convolve2d(image, kernel):
    return correlate2d(image, kernel[::-1, ::-1])
""",
            "scipy.signal.correlate2d",
        ),
        "kernels": (
            """from scipy import ndimage


def box_blur_kernel(k):
    return np.full((k, k), 1.0 / k**2)


def sobel_kernels():
    kx = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return kx, kx.T.copy()


def edge_strength(gray):
    kx, ky = sobel_kernels()
    gx = ndimage.correlate(gray, kx)[1:-1, 1:-1]
    gy = ndimage.correlate(gray, ky)[1:-1, 1:-1]
    return np.sqrt(gx**2 + gy**2)
""",
            "scipy.ndimage.correlate",
        ),
        "output-size": (
            """from cnncourse.nn import validation


def output_size(n, k, stride=1, padding=0):
    return validation.output_size(n, k, stride, 2 * padding)


def same_padding(k):
    return validation.same_padding(1, k, 1)[0]
""",
            "cnncourse.nn.validation.",
        ),
        # the reference re-exported by another module (checks.F)
        "conv2d-forward": (
            """from cnncourse.grading import checks


def conv2d_forward(x, w, b, stride=1, padding=0):
    return checks.convolution.F.conv2d_forward(x, w, b, stride=stride, padding=padding)[0]
""",
            "cnncourse.nn.functional.conv2d_forward",
        ),
        # a layer class that computes it
        "conv-params": (
            """from cnncourse.nn import layers as L


def conv_param_count(kh, kw, c_in, c_out, bias=True):
    layer = L.Conv2D(c_out, (kh, kw), use_bias=bias)
    layer.build((kh, kw, c_in))
    return layer.count_params()
""",
            "cnncourse.nn.layers.Conv2D",
        ),
    },
    "03_activations": {
        # an alias under the exercise name
        "relu": (
            """from cnncourse.nn import functional as F

relu_forward = F.relu_forward


def relu_backward(dout, x):
    return F.relu_backward(dout, x)
""",
            "cnncourse.nn.functional.relu_",
        ),
        "sigmoid-tanh": (
            """from scipy.special import expit


def sigmoid(x):
    return expit(x).astype(x.dtype, copy=False)


def tanh(x):
    return np.tanh(x)
""",
            "scipy.special.expit",
        ),
        # getattr with a constant name
        "derivatives": (
            """from cnncourse.nn import functional as F


def sigmoid_grad(x):
    s = getattr(F, "sigmoid_forward")(x)[0]
    return s * (1 - s)


def tanh_grad(x):
    return 1 - np.tanh(x) ** 2


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x).astype(x.dtype, copy=False)


def leaky_relu_grad(x, alpha=0.01):
    return np.where(x > 0, 1.0, alpha)
""",
            "cnncourse.nn.functional.sigmoid_forward",
        ),
        "collapse": (
            """from cnncourse.nn.functional import dense_forward as _dense


def collapse_linear(w1, b1, w2, b2):
    eye, zero = np.eye(w1.shape[0]), np.zeros((1, w1.shape[0]))
    b = _dense(_dense(zero, w1, b1)[0], w2, b2)[0][0]
    w = _dense(_dense(eye, w1, b1)[0], w2, b2)[0] - b
    return w, b
""",
            "cnncourse.nn.functional.dense_forward",
        ),
    },
    "04_pooling": {
        "pool-shape": (
            """from cnncourse.nn import functional as F


def pool_output_shape(input_shape, pool_size=2, stride=None):
    return F.max_pool_forward(np.zeros(input_shape), pool_size, stride)[0].shape
""",
            "cnncourse.nn.functional.max_pool_forward",
        ),
        "max-pool-forward": (
            """from cnncourse.nn import functional as F


def max_pool_forward(x, pool_size=2, stride=None):
    return F.max_pool_forward(x, pool_size, stride)
""",
            "cnncourse.nn.functional.max_pool_forward",
        ),
        # an alias of the reference under another name (max_pool_backward = pool_backward)
        "max-pool-backward": (
            """from cnncourse.nn import functional as F


def max_pool_backward(dout, cache):
    return F.max_pool_backward(dout, cache)
""",
            "cnncourse.nn.functional.max_pool_backward",
        ),
        "avg-pool": (
            """from cnncourse.nn import naive as N


def avg_pool_forward(x, pool_size=2, stride=None):
    return N.avg_pool_forward(x, pool_size, stride)


def sum_pool_forward(x, pool_size=2, stride=None):
    return N.sum_pool_forward(x, pool_size, stride)
""",
            "cnncourse.nn.naive.",
        ),
    },
    "05_fully_connected_and_output": {
        "dense": (
            """from cnncourse.nn.functional import dense_forward as _dense


def flatten(x):
    return x.reshape(x.shape[0], -1)


def dense_forward(x, w, b):
    return _dense(x, w, b)[0]
""",
            "cnncourse.nn.functional.dense_forward",
        ),
        "softmax": (
            """import scipy.special as sp


def softmax(logits):
    return sp.softmax(logits, axis=-1)


def predict(logits):
    return np.argmax(logits, axis=-1)
""",
            "scipy.special.softmax",
        ),
        "cross-entropy": (
            """from cnncourse.nn import functional


def one_hot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def softmax_cross_entropy(logits, y):
    return functional.softmax_cross_entropy(logits, y)
""",
            "cnncourse.nn.functional.softmax_cross_entropy",
        ),
        "params": (
            """from cnncourse import nn


def small_model_param_counts(height=28, width=28, channels=1, n_classes=10):
    model = nn.Sequential([nn.Conv2D(32, 3), nn.MaxPool2D(2), nn.Conv2D(64, 3), nn.MaxPool2D(2),
                           nn.Conv2D(64, 3), nn.Flatten(), nn.Dense(64), nn.Dense(n_classes)],
                          input_shape=(height, width, channels))
    return [layer.count_params() for layer in model.layers]


def lenet5_param_count():
    model = nn.Sequential([nn.Conv2D(6, 5), nn.MaxPool2D(2), nn.Conv2D(16, 5), nn.MaxPool2D(2),
                           nn.Flatten(), nn.Dense(120), nn.Dense(84), nn.Dense(10)],
                          input_shape=(32, 32, 1))
    return model.count_params()
""",
            "cnncourse.nn.",
        ),
    },
    "06_backpropagation": {
        "numerical-gradient": (
            """from cnncourse.nn.gradcheck import numerical_gradient, rel_error
""",
            "cnncourse.nn.gradcheck.",
        ),
        # the reference imported inside the function
        "pool-backward": (
            """def max_pool_backward(dout, cache):
    from cnncourse.nn import functional as F

    x, pool_size, stride = cache
    _, reference_cache = F.max_pool_forward(x, pool_size, stride)
    return F.pool_backward(dout, reference_cache)
""",
            "cnncourse.nn.functional.pool_backward",
        ),
        # the module aliased in a cell the learner added (EXTRAS)
        "conv-backward": (
            """def conv2d_backward(dout, cache):
    x, w, b, p = cache
    _, reference_cache = _F.conv2d_forward(x, w, b, padding=p)
    return _F.conv2d_backward(dout, reference_cache)
""",
            "cnncourse.nn.functional.conv2d_backward",
        ),
        "gradient-check": (
            """from cnncourse import nn


def gradient_check(forward, backward, inputs, seed=0):
    return nn.check_gradients(forward, backward, inputs, seed=seed)
""",
            "cnncourse.nn.gradcheck.check_gradients",
        ),
    },
    "07_training_from_scratch": {
        "momentum": (
            """from cnncourse.nn.optim import Momentum


def momentum_step(w, g, v, lr=0.01, mu=0.9):
    opt = Momentum(lr=lr, momentum=mu)
    opt.state["w"] = {"v": np.array(v, dtype=float)}
    params = {"w": np.array(w, dtype=float)}
    opt.step(params, {"w": g})
    return params["w"], opt.state["w"]["v"]
""",
            "cnncourse.nn.optim.Momentum",
        ),
        "adam": (
            """from cnncourse.nn import optim


def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
    opt = optim.Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    opt.iterations = t - 1
    opt.state["w"] = {"m": np.array(m, dtype=float), "v": np.array(v, dtype=float)}
    params = {"w": np.array(w, dtype=float)}
    opt.step(params, {"w": g})
    return params["w"], opt.state["w"]["m"], opt.state["w"]["v"]
""",
            "cnncourse.nn.optim.Adam",
        ),
        "init": (
            """from cnncourse.nn import init as I

fans = I.fans


def he_std(shape):
    return float(np.sqrt(2.0 / fans(shape)[0]))


def glorot_limit(shape):
    fan_in, fan_out = fans(shape)
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def he_normal(shape, rng):
    return I.he_normal(shape, rng, dtype=np.float64)
""",
            "cnncourse.nn.init.",
        ),
        "train": (
            """from cnncourse.nn import functional as F
from cnncourse.nn.optim import Momentum


def minibatches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train(x, y, epochs=10, batch_size=32, lr=0.1, mu=0.9, seed=0):
    rng = np.random.default_rng(seed)
    params = {"w": 0.01 * rng.standard_normal((x.shape[1], 10)), "b": np.zeros(10)}
    opt = Momentum(lr=lr, momentum=mu)
    losses = []
    for _ in range(epochs):
        for idx in minibatches(len(x), batch_size, rng):
            loss, d = F.softmax_cross_entropy(x[idx] @ params["w"] + params["b"], y[idx])
            opt.step(params, {"w": x[idx].T @ d, "b": d.sum(axis=0)})
            losses.append(loss)
    return params["w"], params["b"], losses
""",
            "cnncourse.nn.optim.Momentum",
        ),
    },
    "08_keras": {
        "count": (
            """from cnncourse.keras import models as reference_models


def conv_params(kh, kw, c_in, c_out):
    return kh * kw * c_in * c_out + c_out


def dense_params(d_in, d_out):
    return d_in * d_out + d_out


def seed_cnn_params(size=28, channels=1, num_classes=10):
    model = reference_models.seed_cnn((size, size, channels), num_classes=num_classes)
    return model.count_params()
""",
            "cnncourse.keras.models.seed_cnn",
        ),
        "build": (
            """from cnncourse.keras.models import seed_cnn


def build_model(input_shape=(28, 28, 1), num_classes=10):
    return seed_cnn(input_shape, num_classes=num_classes)
""",
            "cnncourse.keras.models.seed_cnn",
        ),
        # the package re-exports the function under its module's old name
        "fit": (
            """from cnncourse.keras import train as course_train


def train_model(model, x, y, x_val, y_val, epochs=3, seed=0):
    return course_train(model, (x, y), (x_val, y_val), epochs=epochs, batch_size=32,
                        seed=seed, mixed_precision=None)
""",
            "cnncourse.keras.training.train",
        ),
        # a method of an object the grader cannot trace
        "predict": (
            """def predict_classes(model, x):
    return np.asarray(model.predict(x, verbose=0)).argmax(axis=1)


def accuracy(model, x, y):
    return float(model.evaluate(x, y, verbose=0)[1])
""",
            "keras.Model.evaluate",
        ),
    },
    "09_regularisation": {
        "reg": (
            """from cnncourse.nn import functional as F


def l2_penalty(w, lam):
    return F.l2_penalty(w, lam)


def dropout_forward(x, rate, rng):
    return F.dropout_forward(x, rate, True, rng)


def dropout_backward(dout, mask):
    return F.dropout_backward(dout, mask)
""",
            "cnncourse.nn.functional.",
        ),
    },
    "10_architectures": {
        "conv": (
            """from cnncourse.keras._tf import keras
from cnncourse.keras.costs import count_macs


def conv_output(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1


def conv_cost(h, w, c_in, c_out, k, stride=1, padding=0):
    model = keras.Sequential([keras.Input((h + 2 * padding, w + 2 * padding, c_in)),
                              keras.layers.Conv2D(c_out, k, strides=stride)])
    return model.count_params(), count_macs(model)
""",
            "count_macs",
        ),
        "stack": (
            """from cnncourse.keras._tf import keras


def stacked_3x3_params(c):
    layers = keras.layers
    return keras.Sequential([keras.Input((9, 9, c)), layers.Conv2D(c, 3),
                             layers.Conv2D(c, 3)]).count_params()


def single_5x5_params(c):
    return 25 * c * c + c
""",
            "keras.",
        ),
        "separable": (
            """import keras


def separable_cost(h, w, c_in, c_out, k):
    model = keras.Sequential([keras.Input((h, w, c_in)),
                              keras.layers.SeparableConv2D(c_out, k, padding="same")])
    return model.count_params(), h * w * k * k * c_in + h * w * c_in * c_out


def separable_saving(h, w, c_in, c_out, k):
    return h * w * k * k * c_in * c_out / separable_cost(h, w, c_in, c_out, k)[1]
""",
            "keras.",
        ),
        "model": (
            """from cnncourse.keras import costs as C, models as M


def seed_cnn_macs(size=28):
    return C.count_macs(M.seed_cnn((size, size, 1)))
""",
            "cnncourse.keras.",
        ),
    },
    "11_transfer_learning": {
        "count": (
            """from keras.src.utils.summary_utils import count_params


def count_trainable(model):
    return int(count_params(model.trainable_weights))
""",
            "keras.src.utils.summary_utils.count_params",
        ),
        # the forbidden argument of an allowed function
        "head": (
            """from cnncourse.keras import pretrained


def transfer_model(num_classes):
    return pretrained.load_pretrained(num_classes=num_classes, freeze=True, seed=0)
""",
            "cnncourse.keras.pretrained.load_pretrained",
        ),
        "tune": (
            """from cnncourse.keras.training import train as course_train


def fine_tune(model, x, y, lr=1e-2, epochs=30, seed=0):
    course_train(model, (x, y), epochs=epochs, batch_size=10, learning_rate=lr, seed=seed,
                 mixed_precision=None)
    return model
""",
            "cnncourse.keras.training.train",
        ),
    },
}

EXTRAS: dict[str, list[tuple[str, str]]] = {
    "02_convolution": [
        (
            "correlate2d",
            """from scipy import signal


def _valid_correlation(image, kernel):
    return signal.correlate2d(image, kernel, mode="valid")
""",
        )
    ],
    "06_backpropagation": [
        (
            "conv-backward",
            """from cnncourse.nn import functional as _F
""",
        )
    ],
}

# Cells a careful learner adds to the honest answers: checks against the reference, which
# are fine (they are not the answer).
SELF_CHECKS: dict[str, list[tuple[str, str]]] = {
    "00_demo_convolution": [
        (
            "conv2d-forward",
            """from cnncourse.nn import functional as F

x, w, b = np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 2)), np.zeros(2)
expected = F.conv2d_forward(x, w, b)[0]
assert np.allclose(conv2d_forward(x, w, b), expected)
""",
        )
    ],
    "06_backpropagation": [
        (
            "numerical-gradient",
            """from cnncourse.nn import gradcheck as G

for shape in [(3,), (2, 2)]:
    v = np.random.default_rng(0).standard_normal(shape)
    print(rel_error(numerical_gradient(np.sin, v.copy(), np.ones(shape)),
                    G.numerical_gradient(np.sin, v.copy(), np.ones(shape))))
""",
        )
    ],
}
