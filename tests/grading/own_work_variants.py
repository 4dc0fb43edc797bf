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
        # the reference re-exported by the checks package (out of bounds for answers as a whole)
        "conv2d-forward": (
            """from cnncourse.grading import checks


def conv2d_forward(x, w, b, stride=1, padding=0):
    return checks.convolution.F.conv2d_forward(x, w, b, stride=stride, padding=padding)[0]
""",
            "cnncourse.grading.checks",
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
        # the layer class of the library, driven by hand
        "global-avg-pool": (
            """from cnncourse.nn.layers import GlobalAveragePooling2D as _Global


def global_avg_pool_forward(x):
    layer = _Global()
    return layer.forward(x), layer


def global_avg_pool_backward(dout, cache):
    return cache.backward(dout)
""",
            "cnncourse.nn.layers.GlobalAvgPool2D",
        ),
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
        # the reference's backward fed a reference cache rebuilt from the learner's
        "dense-backward": (
            """from cnncourse.nn import functional as F


def dense_backward(dout, cache):
    x, w = cache
    return F.dense_backward(dout, F.dense_forward(x, w)[1])
""",
            "cnncourse.nn.functional.dense_backward",
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
        # the reference run on the padded input, cropped by hand
        "strided-backward": (
            """from cnncourse.nn.functional import conv2d_backward as _backward
from cnncourse.nn.functional import conv2d_forward as _forward


def conv2d_backward_strided(dout, cache):
    x, w, b, stride, (top, bottom, left, right) = cache
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    dxp, dw, db = _backward(dout, _forward(xp, w, b, stride=stride)[1])
    return dxp[:, top:top + x.shape[1], left:left + x.shape[2]], dw, db
""",
            "cnncourse.nn.functional.conv2d_backward",
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
        # the choice made by a sweep over the library's optimiser instead of the learner's loop
        "hyperparameters": (
            """from cnncourse.nn import optim


def _sweep():
    accuracies = {}
    for lr in (0.01, 0.1, 1.0):
        for batch_size in (4, 16, 64):
            params = {"w": np.zeros((64, 10)), "b": np.zeros(10)}
            opt = optim.Momentum(lr=lr, momentum=0.9)
            order = np.random.default_rng(0).permutation(len(x_train))
            for start in range(0, len(x_train), batch_size):
                idx = order[start:start + batch_size]
                _, d = F.softmax_cross_entropy(x_train[idx] @ params["w"] + params["b"], y_train[idx])
                opt.step(params, {"w": x_train[idx].T @ d, "b": d.sum(axis=0)})
            accuracies[lr, batch_size] = F.accuracy(x_val @ params["w"] + params["b"], y_val)
    return max(accuracies, key=accuracies.get)


def choose_hyperparameters():
    return _sweep()
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
        "bn-forward": (
            """from cnncourse.nn import functional as F


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.99,
                      eps=1e-3):
    return F.batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)
""",
            "cnncourse.nn.functional.batchnorm_forward",
        ),
        # the layer class's backward pass, fed the functional cache
        "bn-backward": (
            """from cnncourse import nn


def batchnorm_backward(dout, cache):
    layer = nn.BatchNorm()
    layer.cache = cache
    dx = layer.backward(dout)
    return dx, layer.grads["gamma"], layer.grads["beta"]
""",
            "cnncourse.nn.layers.BatchNorm",
        ),
        # Keras' callback, adapted to the exercise's signature
        "augment": (
            """from keras.callbacks import EarlyStopping as KerasEarlyStopping


class EarlyStopping(KerasEarlyStopping):
    def __init__(self, model, patience=5):
        super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True)
        self.set_model(model)


def augment(x, y, seed=0):
    copies = [random_augment(x, rotation=10, shift=0.1, zoom=0.1, seed=(seed, i))[0]
              for i in range(3)]
    return np.concatenate([x, *copies]).astype(np.float32), np.tile(y, 4)
""",
            "keras.callbacks.EarlyStopping",
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
        "residual": (
            """from cnncourse.keras.models import residual_block as chapter_block


def residual_block(x, filters, stride=1):
    return chapter_block(x, filters, stride)
""",
            "cnncourse.keras.models.residual_block",
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
        # stage 2 through the course's training loop
        "two-stage": (
            """from cnncourse.keras import training


def two_stage_fine_tune(x, y, num_classes, seed=0):
    model = pretrained.load_pretrained(num_classes=num_classes, seed=0, freeze=True)
    training.train(model, (x, y), epochs=30, batch_size=10, learning_rate=1e-2, seed=seed,
                   mixed_precision=None)
    for layer in model.layers:
        layer.trainable = True
    training.train(model, (x, y), epochs=20, batch_size=10, learning_rate=1e-3, seed=seed,
                   mixed_precision=None)
    return model
""",
            "cnncourse.keras.training.train",
        ),
    },
    "12_beyond_classification": {
        # the reference the checks compare with, imported under the exercise's name
        "iou": (
            """from cnncourse.grading.checks.detection import reference_box_iou as box_iou
""",
            "cnncourse.grading.checks.detection.reference_box_iou",
        ),
        # reached through the checks module the setup cell imports
        "pairwise": (
            """def pairwise_iou(a, b):
    return checks.detection.reference_pairwise_iou(a, b)
""",
            "cnncourse.grading.checks.detection.reference_pairwise_iou",
        ),
        "nms": (
            """from cnncourse.keras._tf import tf


def nms(boxes, scores, threshold=0.5):
    boxes, scores = np.asarray(boxes, np.float32), np.asarray(scores, np.float32)
    kept = tf.image.non_max_suppression(boxes, scores, len(boxes), iou_threshold=threshold)
    return [int(i) for i in kept.numpy()]
""",
            "tensorflow",
        ),
        "fields": (
            """from cnncourse.grading.checks import detection as D


def receptive_fields(layers):
    return D.reference_receptive_fields(layers)
""",
            "cnncourse.grading.checks.detection.reference_receptive_fields",
        ),
        "window": (
            """from cnncourse.grading.checks.detection import reference_input_window


def input_window(layers, index):
    return reference_input_window(layers, index)
""",
            "cnncourse.grading.checks.detection.reference_input_window",
        ),
        "class-iou": (
            """from sklearn.metrics import jaccard_score


def class_iou(pred, true, num_classes):
    return jaccard_score(np.ravel(true), np.ravel(pred), labels=list(range(num_classes)),
                         average=None, zero_division=np.nan)
""",
            "sklearn.metrics.jaccard_score",
        ),
    },
    "13_limits_and_practice": {
        "cam": (
            """from cnncourse.grading.checks.interpretation import (
    reference_cam_from_gradients as cam_from_gradients,
)
""",
            "cnncourse.grading.checks.interpretation.reference_cam_from_gradients",
        ),
        # a private helper of the course's Grad-CAM
        "gradients": (
            """from cnncourse.keras import interpret


def score_gradients(model, images, layer_name, class_index):
    scores = interpret._scorer(model, extra=[model.get_layer(layer_name).output])
    x = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    chosen = np.broadcast_to(np.asarray(class_index), (len(x),))
    with tf.GradientTape() as tape:
        maps, logits = scores(x)
        score = tf.reduce_sum(tf.gather(logits, chosen, axis=1, batch_dims=1))
    return maps.numpy(), tape.gradient(score, maps).numpy()
""",
            "cnncourse.keras.interpret",
        ),
        "gradcam": (
            """from cnncourse.keras.interpret import grad_cam
""",
            "cnncourse.keras.interpret.grad_cam",
        ),
        "focus": (
            """from scipy import ndimage


def near_shape(masks):
    cross = ndimage.generate_binary_structure(2, 1)[None]
    return ndimage.binary_dilation(np.asarray(masks) > 0, structure=cross)


def focus_ratio(maps, masks):
    near = near_shape(masks)
    return float(np.mean(maps[near]) / np.mean(maps[~near]))
""",
            "scipy.ndimage",
        ),
        "fgsm": (
            """def fgsm(model, images, labels, eps):
    return checks.interpretation.reference_fgsm(model, images, labels, eps)
""",
            "cnncourse.grading.checks.interpretation.reference_fgsm",
        ),
        "attack": (
            """def sign_noise(images, eps, seed=0):
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=np.shape(images))
    return np.clip(images + eps * signs, 0, 1).astype(np.float32)


def accuracy(model, images, labels):
    metric = keras.metrics.SparseCategoricalAccuracy()
    metric.update_state(labels, model(images, training=False))
    return float(metric.result())


def measure_attacks(model, images, labels, eps, seed=0):
    noisy, attacked = sign_noise(images, eps, seed), fgsm(model, images, labels, eps)
    return tuple(accuracy(model, x, labels) for x in (images, noisy, attacked))
""",
            "keras.metrics",
        ),
    },
    "14_capstone": {
        "conv-forward": (
            """from cnncourse.nn import functional as F


def conv2d_forward(x, w, b, stride=1, padding=0):
    return F.conv2d_forward(x, w, b, stride=stride, padding=padding)
""",
            "cnncourse.nn.functional.conv2d_forward",
        ),
        # the reference fed a cache rebuilt from the learner's own
        "conv-backward": (
            """import numpy as np

from cnncourse.nn.functional import ConvCache, conv2d_backward as reference


def conv2d_backward(dout, cache):
    xp_shape, cols, w, stride, p = cache
    n, hp, wp, c = xp_shape
    x_shape = (n, hp - 2 * p, wp - 2 * p, c)
    # dx and db do not depend on the input's values: zeros stand in for it, dw is computed
    cache = ConvCache(x_shape, np.zeros(xp_shape), (p, p, p, p), (stride, stride), w, None)
    dx, _, db = reference(dout, cache)
    dw = (cols.T @ dout.reshape(-1, w.shape[3])).reshape(w.shape)
    return dx, dw, db
""",
            "cnncourse.nn.functional.conv2d_backward",
        ),
        "pool-forward": (
            """from cnncourse.nn.functional import pool_forward


def max_pool_forward(x, pool_size=2, stride=None):
    return pool_forward(x, pool_size, stride, mode="max")
""",
            "cnncourse.nn.functional.pool_forward",
        ),
        "pool-backward": (
            """import cnncourse.nn.functional


def max_pool_backward(dout, cache):
    return cnncourse.nn.functional.pool_backward(dout, cache)
""",
            "cnncourse.nn.functional.pool_backward",
        ),
        # a private alias of the reference
        "dense-forward": (
            """from cnncourse.nn.functional import dense_forward as _affine


def dense_forward(x, w, b):
    return _affine(x, w, b)
""",
            "cnncourse.nn.functional.dense_forward",
        ),
        "dense-backward": (
            """from cnncourse.nn.functional import dense_backward as reference_dense_backward

dense_backward = reference_dense_backward
""",
            "cnncourse.nn.functional.dense_backward",
        ),
        "relu": (
            """from cnncourse.nn import functional as F

relu_forward, relu_backward = F.relu_forward, F.relu_backward
""",
            "cnncourse.nn.functional.relu_",
        ),
        "softmax-cross-entropy": (
            """from scipy.special import logsumexp


def softmax_cross_entropy(logits, y):
    n = len(y)
    log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1
    return float(-log_probs[np.arange(n), y].mean()), dlogits / n
""",
            "scipy.special.logsumexp",
        ),
        "init": (
            """from cnncourse.nn.init import he_normal as course_he_normal


def he_normal(shape, rng):
    return course_he_normal(shape, rng, dtype=np.float64)


def init_params(input_shape=(28, 28, 1), channels=(8, 16), num_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    (h, w, c), (c1, c2) = input_shape, channels
    return {"w1": he_normal((3, 3, c, c1), rng), "b1": np.zeros(c1),
            "w2": he_normal((3, 3, c1, c2), rng), "b2": np.zeros(c2),
            "w3": he_normal(((h // 4) * (w // 4) * c2, num_classes), rng),
            "b3": np.zeros(num_classes)}
""",
            "cnncourse.nn.init.he_normal",
        ),
        # the optimiser kept in the learner's state dict
        "adam": (
            """from cnncourse.nn import optim


def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
    if "adam" not in state:
        state["adam"] = optim.Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    state["adam"].step(params, grads)
""",
            "cnncourse.nn.optim.Adam",
        ),
        "gradient-check": (
            """from cnncourse.nn.gradcheck import numerical_gradient, rel_error


def gradient_check(loss_and_grads, params, x, y, h=1e-5):
    grads = loss_and_grads(params, x, y)[1]
    errors = {}
    for name, value in params.items():
        numeric = numerical_gradient(lambda v: loss_and_grads(params, x, y)[0], value, h=h)
        errors[name] = rel_error(grads[name], numeric)
    return errors
""",
            "cnncourse.nn.gradcheck.",
        ),
        # the loop versions of the reference layers composed into the network
        "network": (
            """from cnncourse.nn import naive


def network_forward(params, x):
    caches, h = [], x
    for k in ("1", "2"):
        h, conv = naive.conv2d_forward(h, params["w" + k], params["b" + k], padding=1)
        positive = h > 0
        h, pool = naive.max_pool_forward(h * positive, 2)
        caches.append((conv, positive, pool))
    flat = h.reshape(len(h), -1)
    return flat @ params["w3"] + params["b3"], (caches, h.shape, flat)


def loss_and_grads(params, x, y):
    logits, (caches, shape, flat) = network_forward(params, x)
    loss, dlogits = softmax_cross_entropy(logits, y)
    grads = {"w3": flat.T @ dlogits, "b3": dlogits.sum(axis=0)}
    dh = (dlogits @ params["w3"].T).reshape(shape)
    for k, (conv, positive, pool) in zip(("2", "1"), caches[::-1], strict=True):
        dh = naive.pool_backward(dh, pool) * positive
        dh, grads["w" + k], grads["b" + k] = naive.conv2d_backward(dh, conv)
    return loss, grads
""",
            "cnncourse.nn.naive.",
        ),
        "train": (
            """from cnncourse.nn.optim import Adam


def train(x, y, epochs=10, batch_size=32, lr=3e-3, seed=0):
    params = {k: v.astype(x.dtype) for k, v in init_params(x.shape[1:], seed=seed).items()}
    rng, opt, losses = np.random.default_rng(seed), Adam(lr=lr), []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, x[batch], y[batch])
            opt.step(params, grads)
            losses.append(loss)
    return params, losses
""",
            "cnncourse.nn.optim.Adam",
        ),
        # the engine's model handed to the bridge
        "keras": (
            """from cnncourse import nn
from cnncourse.keras import bridge


def build_keras_model(params, input_shape=(28, 28, 1)):
    net = nn.Sequential([nn.Conv2D(params["w1"].shape[-1], 3, padding=1, activation="relu"),
                         nn.MaxPool2D(2),
                         nn.Conv2D(params["w2"].shape[-1], 3, padding=1, activation="relu"),
                         nn.MaxPool2D(2), nn.Flatten(), nn.Dense(params["w3"].shape[-1])],
                        input_shape=input_shape)
    net.set_weights([params[k] for k in ("w1", "b1", "w2", "b2", "w3", "b3")])
    return bridge.to_keras(net)
""",
            "cnncourse.keras.bridge.to_keras",
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
