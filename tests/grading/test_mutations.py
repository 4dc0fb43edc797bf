"""Mutation tests: every rule an exercise states is caught by its public checks.

For chapters 2, 4 and 6, each mutant is a learner function that breaks one rule the
notebook's instructions state (a flipped kernel, float64 out for float32 in, an
off-by-one output size, ``=`` instead of ``+=``, ...). The test runs the solutions
notebook's setup and solution cells in-process, swaps the learner function for the
mutant and runs the public code of the cell that checks it (what the learner sees: the
test cell with its hidden blocks stripped, as released). The mutant must fail there with
an ``AssertionError``; the solution must pass.

``test_mutation_table`` prints ``mutant | notebook | caught | first line of message``
for every mutant (run with ``-s`` to see it).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from cnncourse.grading import checks as checks_module
from cnncourse.grading.notebook_format import SOLUTION, TEST, cell_kind, cell_source, grade_id, read_source
from cnncourse.grading.release import strip_hidden

from .grading_helpers import SOLUTIONS

CORRECT = "solution (correct)"


# --------------------------------------------------------------------------- mutants written out


def _every_tied_maximum() -> Callable:
    """max_pool_backward that sends the gradient to every tied maximum of a window."""

    def max_pool_backward(dout, cache):
        x, pool_size, stride = cache
        _, oh, ow, _ = dout.shape
        dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * stride, i * stride + pool_size)
                cols = slice(j * stride, j * stride + pool_size)
                window = x[:, rows, cols]
                winners = window == window.max(axis=(1, 2), keepdims=True)
                dx[:, rows, cols] += winners * dout[:, i : i + 1, j : j + 1, :]
        return dx

    return max_pool_backward


# --------------------------------------------------------------------------- the mutants


@dataclass(frozen=True)
class Mutant:
    """A learner function of a solutions notebook, changed to break one stated rule.

    ``edits`` are ``(old, new)`` replacements in the solution's own source of the function
    (every occurrence; each must occur); ``replacement`` builds the function instead.
    ``checked_by`` is the grade_id of the cell whose public code must catch it (default:
    the first test cell after the solution cell that defines the function); a solution
    cell there runs whole (its self-check is learner-visible code).
    """

    notebook: str
    function: str
    name: str
    edits: tuple[tuple[str, str], ...] = ()
    replacement: Callable[[], Callable] | None = None
    checked_by: str | None = None

    @property
    def breaks_rule(self) -> bool:
        return self.name != CORRECT

    @property
    def id(self) -> str:
        where = f"@{self.checked_by}" if self.checked_by else ""
        return f"{self.notebook[:2]}-{self.function}{where}-{self.name}".replace(" ", "_")


CONV, POOL, BACKPROP = "02_convolution", "04_pooling", "06_backpropagation"
FLOAT64_OUT = "float64 output for float32 input"
OFF_BY_ONE = "off-by-one output size"
ASSIGN = "= instead of +="
ALL_TIES = "gradient to every tied maximum"
ACTIVATIONS, OUTPUT, TRAINING = "03_activations", "05_fully_connected_and_output", "07_training_from_scratch"
KERAS, REGULARISATION = "08_keras", "09_regularisation"
ARCHITECTURES, TRANSFER = "10_architectures", "11_transfer_learning"
NO_BIAS = "biases not counted"
SAME_PADDING = '"same" instead of "valid" padding'

MUTANTS = [
    # chapter 2
    Mutant(CONV, "correlate2d", "kernel flipped", (("* kernel)", "* kernel[::-1, ::-1])"),)),
    Mutant(
        CONV,
        "box_blur_kernel",
        "hard-coded 3x3",
        (("np.full((k, k), 1.0 / k**2)", "np.full((3, 3), 1.0 / 9)"),),
    ),
    Mutant(CONV, "output_size", OFF_BY_ONE, (("// stride + 1", "// stride"),)),
    Mutant(
        CONV,
        "conv2d_forward",
        "kernel flipped",
        (("np.tensordot(window, w,", "np.tensordot(window, w[::-1, ::-1],"),),
    ),
    Mutant(CONV, "conv2d_forward", FLOAT64_OUT, (("dtype=x.dtype", "dtype=np.float64"),)),
    Mutant(CONV, "conv2d_forward", OFF_BY_ONE, (("stride, padding)\n", "stride, padding) - 1\n"),)),
    Mutant(CONV, "conv_param_count", "bias flag ignored", (("(c_out if bias else 0)", "c_out"),)),
    # chapter 4
    Mutant(POOL, "pool_output_shape", OFF_BY_ONE, (("// stride + 1", "// stride"),)),
    Mutant(POOL, "max_pool_forward", FLOAT64_OUT, (("dtype=x.dtype", "dtype=np.float64"),)),
    Mutant(POOL, "avg_pool_forward", FLOAT64_OUT, (("dtype=x.dtype", "dtype=np.float64"),)),
    Mutant(POOL, "max_pool_backward", ALL_TIES, replacement=_every_tied_maximum),
    Mutant(
        POOL,
        "max_pool_backward",
        ASSIGN,
        (
            (
                "np.add.at(dx, (batch, rows, cols, channel), dout[:, i, j, :])",
                "dx[batch, rows, cols, channel] = dout[:, i, j, :]",
            ),
        ),
    ),
    Mutant(
        POOL,
        "global_avg_pool_forward",
        FLOAT64_OUT,
        (("x.mean(axis=(1, 2))", "x.mean(axis=(1, 2), dtype=np.float64)"),),
    ),
    Mutant(
        POOL,
        "global_avg_pool_forward",
        "maximum instead of mean",
        (("x.mean(axis=(1, 2))", "x.max(axis=(1, 2))"),),
    ),
    Mutant(POOL, "global_avg_pool_backward", "dout not divided by H * W", (("dout / (h * w)", "dout"),)),
    Mutant(POOL, "global_avg_pool_backward", "divided by H * H", (("dout / (h * w)", "dout / (h * h)"),)),
    # chapter 6
    Mutant(
        BACKPROP, "numerical_gradient", "f(x) not copied", (("np.array(f(x), dtype=np.float64)", "f(x)"),)
    ),
    Mutant(
        BACKPROP,
        "rel_error",
        "no guard against division by zero",
        (("np.maximum(1e-8, np.abs(a) + np.abs(b))", "(np.abs(a) + np.abs(b))"),),
    ),
    Mutant(
        BACKPROP,
        "rel_error",
        "1e-8 added instead of max(1e-8, ...)",
        (("np.maximum(1e-8, np.abs(a) + np.abs(b))", "(1e-8 + np.abs(a) + np.abs(b))"),),
    ),
    Mutant(BACKPROP, "max_pool_backward", ALL_TIES, replacement=_every_tied_maximum),
    Mutant(
        BACKPROP,
        "max_pool_backward",
        ASSIGN,
        (
            (
                "np.add.at(dx, (rows, i * stride + di, j * stride + dj, cols), dout[:, i, j])",
                "dx[rows, i * stride + di, j * stride + dj, cols] = dout[:, i, j]",
            ),
        ),
    ),
    Mutant(
        BACKPROP,
        "conv2d_backward",
        "uncropped dx",
        (("dx = dxp[:, p:p + x.shape[1], p:p + x.shape[2]]", "dx = dxp"),),
    ),
    Mutant(
        BACKPROP,
        "conv2d_backward",
        "uncropped dx",
        (("dx = dxp[:, p:p + x.shape[1], p:p + x.shape[2]]", "dx = dxp"),),
        checked_by="gradient-check",
    ),
    # chapters 3, 5 and 7
    Mutant(
        ACTIVATIONS,
        "relu_forward",
        FLOAT64_OUT,
        (("np.maximum(x, 0), x", "np.maximum(x, 0.0).astype(float), x"),),
    ),
    Mutant(ACTIVATIONS, "relu_backward", "gradient passed at x == 0", (("(x > 0)", "(x >= 0)"),)),
    Mutant(
        ACTIVATIONS,
        "sigmoid",
        "overflows for large negative x",
        (("np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "1.0 / (1.0 + np.exp(-x))"),),
    ),
    Mutant(ACTIVATIONS, "sigmoid", FLOAT64_OUT, ((".astype(x.dtype, copy=False)", ".astype(np.float64)"),)),
    Mutant(ACTIVATIONS, "tanh", FLOAT64_OUT, (("np.tanh(x)", "np.tanh(x).astype(np.float64)"),)),
    Mutant(ACTIVATIONS, "tanh_grad", "square forgotten", (("np.tanh(x) ** 2", "np.tanh(x)"),)),
    Mutant(ACTIVATIONS, "leaky_relu", "alpha ignored", (("alpha * x", "0.01 * x"),)),
    Mutant(
        ACTIVATIONS, "leaky_relu", FLOAT64_OUT, ((".astype(x.dtype, copy=False)", ".astype(np.float64)"),)
    ),
    Mutant(ACTIVATIONS, "leaky_relu_grad", "alpha ignored", (("1.0, alpha)", "1.0, 0.01)"),)),
    Mutant(ACTIVATIONS, "leaky_relu_grad", "slope 1 at x == 0", (("x > 0", "x >= 0"),)),
    Mutant(ACTIVATIONS, "collapse_linear", "b1 not sent through w2", (("b1 @ w2 + b2", "b2"),)),
    Mutant(
        OUTPUT,
        "flatten",
        "Fortran order",
        (("reshape(x.shape[0], -1)", 'reshape(x.shape[0], -1, order="F")'),),
    ),
    Mutant(
        OUTPUT,
        "flatten",
        FLOAT64_OUT,
        (("reshape(x.shape[0], -1)", "reshape(x.shape[0], -1).astype(float)"),),
    ),
    Mutant(OUTPUT, "dense_forward", "bias forgotten", (("x @ w + b", "x @ w"),)),
    Mutant(
        OUTPUT,
        "softmax",
        "no shift (overflows)",
        (("logits - logits.max(axis=-1, keepdims=True)", "logits"),),
    ),
    Mutant(
        OUTPUT,
        "softmax",
        "one shift for the whole batch",
        (("logits - logits.max(axis=-1, keepdims=True)", "logits - logits.max()"),),
    ),
    Mutant(OUTPUT, "softmax", "axis 1 instead of the last", (("axis=-1", "axis=1"),)),
    Mutant(
        OUTPUT,
        "predict",
        "float labels",
        (("np.argmax(logits, axis=-1)", "np.argmax(logits, axis=-1) * 1.0"),),
    ),
    Mutant(OUTPUT, "predict", "axis 1 instead of the last", (("axis=-1", "axis=1"),)),
    Mutant(OUTPUT, "one_hot", "int dtype", (("np.zeros((len(y), k))", "np.zeros((len(y), k), dtype=int)"),)),
    Mutant(OUTPUT, "one_hot", "k ignored", (("np.zeros((len(y), k))", "np.zeros((len(y), max(y) + 1))"),)),
    Mutant(
        OUTPUT,
        "softmax_cross_entropy",
        "log of the probabilities (not stable)",
        (
            (
                "shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                "np.log(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))",
            ),
        ),
    ),
    Mutant(OUTPUT, "softmax_cross_entropy", "sum instead of mean", ((".mean()", ".sum()"),)),
    Mutant(
        OUTPUT,
        "softmax_cross_entropy",
        "dlogits not divided by N",
        (("one_hot(y, k)) / n", "one_hot(y, k))"),),
    ),
    Mutant(
        OUTPUT,
        "small_model_param_counts",
        "hard-coded 28 x 28 x 1 input",
        (("h, w, c = height, width, channels", "h, w, c = 28, 28, 1"),),
    ),
    Mutant(
        OUTPUT,
        "small_model_param_counts",
        "n_classes ignored",
        (("64 * n_classes + n_classes", "64 * 10 + 10"),),
    ),
    Mutant(
        OUTPUT,
        "lenet5_param_count",
        "dense biases forgotten",
        (("(400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)", "400 * 120 + 120 * 84 + 84 * 10"),),
    ),
    Mutant(
        OUTPUT, "dense_backward", "db summed over the wrong axis", (("dout.sum(axis=0)", "dout.sum(axis=1)"),)
    ),
    Mutant(OUTPUT, "dense_backward", "dw transposed", (("x.T @ dout", "dout.T @ x"),)),
    Mutant(
        BACKPROP,
        "conv2d_backward_strided",
        "uncropped dx",
        (("dx = dxp[:, top:top + x.shape[1], left:left + x.shape[2]]", "dx = dxp"),),
    ),
    Mutant(
        BACKPROP,
        "conv2d_backward_strided",
        "dx cropped as if the padding were symmetric",
        (
            (
                "dxp[:, top:top + x.shape[1], left:left + x.shape[2]]",
                "dxp[:, bottom:bottom + x.shape[1], right:right + x.shape[2]]",
            ),
        ),
    ),
    Mutant(
        BACKPROP,
        "conv2d_backward_strided",
        "stride ignored",
        (("i + s * (oh - 1) + 1, s)", "i + oh)"), ("j + s * (ow - 1) + 1, s)", "j + ow)")),
    ),
    Mutant(
        TRAINING,
        "momentum_step",
        "velocity changed in place",
        (("v = mu * v - lr * g", "v *= mu\n    v -= lr * g"),),
    ),
    Mutant(TRAINING, "momentum_step", "mu ignored", (("mu * v", "0.9 * v"),)),
    Mutant(
        TRAINING,
        "momentum_step",
        "w moved by the old velocity",
        (("v = mu * v - lr * g\n    return w + v, v", "return w + v, mu * v - lr * g"),),
    ),
    Mutant(
        TRAINING,
        "adam_step",
        "no bias correction",
        (("m / (1 - beta1**t)", "m"), ("v / (1 - beta2**t)", "v")),
    ),
    Mutant(TRAINING, "adam_step", "bias correction for t = 1 only", (("**t)", "**1)"),)),
    Mutant(TRAINING, "adam_step", "corrected moments returned", (("eps), m, v", "eps), m_hat, v_hat"),)),
    Mutant(
        TRAINING,
        "adam_step",
        "eps inside the square root",
        (("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),),
    ),
    Mutant(
        TRAINING,
        "adam_step",
        "default beta1 hard-coded",
        (("beta1 * m + (1 - beta1)", "0.9 * m + (1 - 0.9)"),),
    ),
    Mutant(
        TRAINING,
        "fans",
        "conv fan_out without the window",
        (("int(shape[-1]) * receptive", "int(shape[-1])"),),
    ),
    Mutant(TRAINING, "he_std", "fan_out instead of fan_in", (("fans(shape)[0]", "fans(shape)[1]"),)),
    Mutant(TRAINING, "glorot_limit", "fan_in only", (("(fan_in + fan_out)", "(2 * fan_in)"),)),
    Mutant(
        TRAINING,
        "he_normal",
        "NumPy's global generator",
        (("rng.standard_normal", "np.random.standard_normal"),),
    ),
    Mutant(
        TRAINING,
        "he_normal",
        "fixed seed",
        (("rng.standard_normal", "np.random.default_rng(0).standard_normal"),),
    ),
    Mutant(TRAINING, "minibatches", "not shuffled", (("rng.permutation(n)", "np.arange(n)"),)),
    Mutant(
        TRAINING,
        "minibatches",
        "last short batch dropped",
        (("range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)"),),
    ),
    Mutant(
        TRAINING,
        "minibatches",
        "fixed seed",
        (("rng.permutation(n)", "np.random.default_rng(0).permutation(n)"),),
    ),
    Mutant(TRAINING, "train", "seed ignored", (("default_rng(seed)", "default_rng(0)"),)),
    Mutant(
        TRAINING,
        "train",
        "bias never updated",
        (("b, vb = momentum_step(b, dscores.sum(axis=0), vb, lr, mu)", "vb = vb"),),
    ),
    Mutant(
        TRAINING,
        "train",
        "the same shuffle every epoch",
        (
            (
                "minibatches(len(x), batch_size, rng)",
                "minibatches(len(x), batch_size, np.random.default_rng(seed))",
            ),
        ),
    ),
    # chapters 8 to 11
    Mutant(KERAS, "conv_params", NO_BIAS, (("kh * kw * c_in * c_out + c_out", "kh * kw * c_in * c_out"),)),
    Mutant(KERAS, "dense_params", NO_BIAS, (("d_in * d_out + d_out", "d_in * d_out"),)),
    Mutant(
        KERAS,
        "seed_cnn_params",
        SAME_PADDING,
        (("(size - 2) // 2", "size // 2"), ("(s - 2) // 2", "s // 2"), ("s = s - 2\n", "s = s\n")),
    ),
    Mutant(
        KERAS,
        "seed_cnn_params",
        "pools round up",
        (("(size - 2) // 2", "-(-(size - 2) // 2)"), ("(s - 2) // 2", "-(-(s - 2) // 2)")),
    ),
    Mutant(
        KERAS,
        "seed_cnn_params",
        "num_classes ignored",
        (("dense_params(64, num_classes)", "dense_params(64, 10)"),),
    ),
    Mutant(
        KERAS,
        "seed_cnn_params",
        "channels ignored",
        (("conv_params(3, 3, channels, 32)", "conv_params(3, 3, 1, 32)"),),
    ),
    Mutant(
        KERAS,
        "build_model",
        SAME_PADDING,
        (('(3, 3), activation="relu")', '(3, 3), padding="same", activation="relu")'),),
    ),
    Mutant(
        KERAS,
        "build_model",
        "no softmax on the output",
        (('Dense(num_classes, activation="softmax")', "Dense(num_classes)"),),
    ),
    Mutant(KERAS, "build_model", "num_classes ignored", (("layers.Dense(num_classes,", "layers.Dense(10,"),)),
    Mutant(
        KERAS,
        "build_model",
        "hidden Dense without relu",
        (('layers.Dense(64, activation="relu")', "layers.Dense(64)"),),
    ),
    Mutant(
        KERAS,
        "train_model",
        "learning rate not 1e-3",
        (("keras.optimizers.Adam(1e-3)", "keras.optimizers.Adam(1e-2)"),),
    ),
    Mutant(
        REGULARISATION,
        "diagnose",
        "rules in the other order",
        (
            ('if train - val > 0.1:\n        return "overfitting"\n    ', ""),
            (
                'return "good fit"',
                'if train - val > 0.1:\n        return "overfitting"\n    return "good fit"',
            ),
        ),
    ),
    Mutant(
        REGULARISATION,
        "diagnose",
        "best epoch instead of the last",
        (
            (
                'history["accuracy"][-1], history["val_accuracy"][-1]',
                'max(history["accuracy"]), max(history["val_accuracy"])',
            ),
        ),
    ),
    Mutant(REGULARISATION, "diagnose", "0.9 counted as below 0.9", (("train < 0.9", "train <= 0.9"),)),
    Mutant(
        REGULARISATION,
        "l2_penalty",
        "factor 1/2 (lam / 2 * sum w**2)",
        (
            (
                "return lam * float(np.sum(w * w)), 2 * lam * w",
                "return lam / 2 * float(np.sum(w * w)), lam * w",
            ),
        ),
    ),
    Mutant(REGULARISATION, "l2_penalty", "gradient without the 2", (("2 * lam * w", "lam * w"),)),
    Mutant(
        REGULARISATION,
        "l2_penalty",
        "penalty not a float",
        (("lam * float(np.sum(w * w))", "np.asarray(lam * np.sum(w * w))"),),
    ),
    Mutant(REGULARISATION, "dropout_forward", "kept values not scaled", (("/ (1 - rate)", ""),)),
    Mutant(REGULARISATION, "dropout_forward", "scaled by 1 / rate", (("/ (1 - rate)", "/ rate"),)),
    Mutant(REGULARISATION, "dropout_forward", "rate is the share kept", ((">= rate", "< rate"),)),
    Mutant(REGULARISATION, "dropout_backward", "mask not applied", (("return dout * mask", "return dout"),)),
    Mutant(
        REGULARISATION,
        "batchnorm_forward",
        "variance divided by m - 1",
        (("x.var(axis=axes)", "x.var(axis=axes, ddof=1)"),),
    ),
    Mutant(
        REGULARISATION,
        "batchnorm_forward",
        "momentum and 1 - momentum swapped",
        (
            (
                "running_mean *= momentum\n        running_mean += (1 - momentum) * mean",
                "running_mean *= 1 - momentum\n        running_mean += momentum * mean",
            ),
            (
                "running_var *= momentum\n        running_var += (1 - momentum) * var",
                "running_var *= 1 - momentum\n        running_var += momentum * var",
            ),
        ),
    ),
    Mutant(
        REGULARISATION,
        "batchnorm_forward",
        "running statistics not updated in place",
        (
            (
                "running_mean *= momentum\n        running_mean += (1 - momentum) * mean",
                "running_mean = momentum * running_mean + (1 - momentum) * mean",
            ),
            (
                "running_var *= momentum\n        running_var += (1 - momentum) * var",
                "running_var = momentum * running_var + (1 - momentum) * var",
            ),
        ),
    ),
    Mutant(
        REGULARISATION,
        "batchnorm_forward",
        "batch statistics at inference",
        (("mean, var = running_mean, running_var", "mean, var = x.mean(axis=axes), x.var(axis=axes)"),),
    ),
    Mutant(
        REGULARISATION,
        "batchnorm_forward",
        "eps outside the square root",
        (("np.sqrt(var + eps)", "(np.sqrt(var) + eps)"),),
    ),
    Mutant(
        REGULARISATION,
        "batchnorm_backward",
        "inference-mode dx while training",
        (
            (
                "if not training:\n        return g * inv_std, dgamma, dbeta",
                "return g * inv_std, dgamma, dbeta",
            ),
        ),
    ),
    Mutant(
        REGULARISATION,
        "batchnorm_backward",
        "dgamma without x_hat",
        (("(dout * x_hat).sum(axis=axes)", "dout.sum(axis=axes)"),),
    ),
    Mutant(
        REGULARISATION,
        "EarlyStopping",
        "compared with the last epoch, not the best",
        (
            (
                "self.epochs_without_improvement += 1\n",
                'self.epochs_without_improvement += 1\n            self.best_loss = logs["val_loss"]\n',
            ),
        ),
    ),
    Mutant(
        REGULARISATION,
        "EarlyStopping",
        "best weights not copied",
        (("[w.copy() for w in self.model.get_weights()]", "self.model.get_weights()"),),
    ),
    Mutant(
        REGULARISATION, "EarlyStopping", "patience off by one", ((">= self.patience", "> self.patience"),)
    ),
    Mutant(
        REGULARISATION,
        "EarlyStopping",
        "best weights not restored",
        (("self.model.set_weights(self.best_weights)", "pass"),),
    ),
    Mutant(
        REGULARISATION,
        "augment",
        "originals not first",
        (("np.concatenate([x, *copies])", "np.concatenate([*copies, x])"),),
    ),
    Mutant(ARCHITECTURES, "conv_output", OFF_BY_ONE, (("// stride + 1", "// stride"),)),
    Mutant(ARCHITECTURES, "conv_cost", NO_BIAS, ((" + c_out, oh", ", oh"),)),
    Mutant(ARCHITECTURES, "conv_cost", "padding ignored", (("k, stride, padding)", "k, stride)"),)),
    Mutant(ARCHITECTURES, "conv_cost", "stride ignored", (("k, stride, padding)", "k, 1, padding)"),)),
    Mutant(
        ARCHITECTURES, "conv_cost", "height used for the width", (("conv_output(w, k,", "conv_output(h, k,"),)
    ),
    Mutant(ARCHITECTURES, "stacked_3x3_params", NO_BIAS, (("2 * (9 * c * c + c)", "2 * 9 * c * c"),)),
    Mutant(ARCHITECTURES, "single_5x5_params", NO_BIAS, (("25 * c * c + c", "25 * c * c"),)),
    Mutant(
        ARCHITECTURES,
        "separable_cost",
        "a bias per depthwise channel too",
        (("k * k * c_in + c_in * c_out + c_out", "k * k * c_in + c_in + c_in * c_out + c_out"),),
    ),
    Mutant(
        ARCHITECTURES,
        "separable_cost",
        "pointwise MACs left out",
        (("macs = h * w * k * k * c_in + h * w * c_in * c_out", "macs = h * w * k * k * c_in"),),
    ),
    Mutant(
        ARCHITECTURES,
        "separable_saving",
        "the inverse ratio",
        (
            (
                "h * w * k * k * c_in * c_out / separable_cost(h, w, c_in, c_out, k)[1]",
                "separable_cost(h, w, c_in, c_out, k)[1] / (h * w * k * k * c_in * c_out)",
            ),
        ),
    ),
    Mutant(
        ARCHITECTURES, "separable_saving", "integer division", (("/ separable_cost", "// separable_cost"),)
    ),
    Mutant(
        ARCHITECTURES,
        "seed_cnn_macs",
        "size ignored",
        (("(size, size, 1, 32, 3)", "(28, 28, 1, 32, 3)"), ("(size - 2) // 2", "(28 - 2) // 2")),
    ),
    Mutant(ARCHITECTURES, "seed_cnn_macs", "dense biases counted", (("+ 64 * 10", "+ 64 * 10 + 64 + 10"),)),
    Mutant(
        ARCHITECTURES,
        "residual_block",
        "no projection shortcut",
        (("if stride != 1 or x.shape[-1] != filters:", "if False:"),),
    ),
    Mutant(
        ARCHITECTURES,
        "residual_block",
        "projection even when the shape is kept",
        (("if stride != 1 or x.shape[-1] != filters:", "if True:"),),
    ),
    Mutant(
        ARCHITECTURES,
        "residual_block",
        "stride on the second convolution",
        (
            (
                'Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)',
                'Conv2D(filters, 3, padding="same", use_bias=False)(x)',
            ),
            (
                'Conv2D(filters, 3, padding="same", use_bias=False)(y)',
                'Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(y)',
            ),
        ),
    ),
    Mutant(
        ARCHITECTURES, "residual_block", "convolutions with biases", (("use_bias=False", "use_bias=True"),)
    ),
    Mutant(
        ARCHITECTURES,
        "residual_block",
        "projection without batch norm",
        (("shortcut = layers.BatchNormalization()(shortcut)", "pass"),),
    ),
    Mutant(
        ARCHITECTURES,
        "residual_block",
        "no ReLU after the sum",
        (("return layers.ReLU()(layers.Add()([y, shortcut]))", "return layers.Add()([y, shortcut])"),),
    ),
    Mutant(
        TRANSFER, "count_trainable", "frozen weights counted", (("model.trainable_weights", "model.weights"),)
    ),
    Mutant(
        TRANSFER, "count_trainable", "a NumPy integer, not an int", (("return int(sum(", "return (sum("),)
    ),
    Mutant(TRANSFER, "transfer_model", "body not frozen", (("layer.trainable = False", "pass"),)),
    Mutant(TRANSFER, "transfer_model", "head frozen too", (("model.layers[:-1]", "model.layers"),)),
    Mutant(
        TRANSFER, "transfer_model", "num_classes ignored", (("num_classes=num_classes", "num_classes=5"),)
    ),
]

# The solution itself, once per function and checking cell: it must pass.
CORRECT_ONES = list(
    {
        (m.notebook, m.function, m.checked_by): Mutant(
            m.notebook, m.function, CORRECT, checked_by=m.checked_by
        )
        for m in MUTANTS
    }.values()
)
ALL = [*MUTANTS, *CORRECT_ONES]


# --------------------------------------------------------------------------- running a notebook in-process


class _StrictChecks:
    """``checks`` as the notebook sees it, except that ``run_parts`` raises the first failing
    part (the real one prints ``✗ part: message`` and goes on unless every part fails), and
    so do the ``score_*`` checks that give partial credit per gradient (the real ones print
    ``✗ name: message`` and go on unless every gradient is wrong)."""

    def __getattr__(self, name):
        found = getattr(checks_module, name)
        return _raising_failures(found) if name.startswith("score_") else found

    @staticmethod
    def run_parts(parts: dict) -> dict[str, bool]:
        for part in parts.values():
            part()
        return dict.fromkeys(parts, True)


def _raising_failures(score: Callable) -> Callable:
    """``score`` that raises the first ``✗`` line it prints as an ``AssertionError``."""

    @functools.wraps(score)
    def strict(*args, **kwargs):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = score(*args, **kwargs)
        failures = [line for line in printed.getvalue().splitlines() if line.startswith("\u2717 ")]
        if failures:
            raise AssertionError(failures[0].split(": ", 1)[-1])
        return result

    return strict


@functools.cache
def _cells(notebook: str) -> tuple[tuple[str, str | None, str], ...]:
    nb = read_source(SOLUTIONS / f"{notebook}.ipynb")
    return tuple((cell_kind(c), grade_id(c), cell_source(c)) for c in nb.cells if c.cell_type == "code")


def _defines(source: str, function: str) -> ast.FunctionDef | ast.ClassDef | None:
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == function:
            return node
    return None


def _exec(code: str, namespace: dict, where: str) -> None:
    exec(compile(code, f"<{where}>", "exec"), namespace)
    if namespace.get("checks") is checks_module:
        namespace["checks"] = _StrictChecks()


def _install(mutant: Mutant, source: str, namespace: dict) -> None:
    if mutant.replacement is not None:
        namespace[mutant.function] = mutant.replacement()
        return
    code = ast.get_source_segment(source, _defines(source, mutant.function))
    for old, new in mutant.edits:
        assert old in code, f"{mutant.id}: {old!r} is not in the solution of {mutant.function}"
        code = code.replace(old, new)
    _exec(code, namespace, f"{mutant.notebook}:{mutant.id}")


def run_public_check(mutant: Mutant) -> None:
    """Run the notebook with ``mutant`` in place up to the cell that checks it, then that
    cell's public code; raises what that code raises."""
    namespace: dict = {"__name__": "__main__"}
    installed = False
    for kind, gid, source in _cells(mutant.notebook):
        where = f"{mutant.notebook}:{gid}"
        checking = installed and (gid == mutant.checked_by if mutant.checked_by else kind == TEST)
        if checking:
            _exec(strip_hidden(source) if kind == TEST else source, namespace, where)
            return
        if kind == TEST:
            continue
        _exec(source, namespace, where)
        if kind == SOLUTION and _defines(source, mutant.function):
            _install(mutant, source, namespace)
            installed = True
    raise LookupError(f"{mutant.id}: no cell checks {mutant.function}")


@dataclass(frozen=True)
class Outcome:
    caught: bool
    error: str = ""  # the exception's type
    message: str = ""  # the first line of its message


@functools.cache
def outcome(mutant: Mutant) -> Outcome:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            run_public_check(mutant)
    except LookupError:
        raise
    except Exception as exc:  # the public checks caught it (or crashed on it)
        lines = str(exc).strip().splitlines()
        return Outcome(True, type(exc).__name__, lines[0] if lines else "")
    return Outcome(False)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_public_checks_catch_the_mutant(mutant):
    result = outcome(mutant)
    assert result.caught, f"{mutant.id}: the public checks pass a {mutant.name!r} {mutant.function}"
    assert result.error == "AssertionError", f"{mutant.id}: {result.error}: {result.message}"
    assert mutant.function in result.message, (
        f"{mutant.id}: the message should name {mutant.function}: {result.message}"
    )


@pytest.mark.parametrize("mutant", CORRECT_ONES, ids=lambda m: m.id)
def test_public_checks_pass_the_solution(mutant):
    result = outcome(mutant)
    assert not result.caught, (
        f"{mutant.id}: the solution fails its public checks: {result.error}: {result.message}"
    )


def test_mutation_table():
    rows = [("mutant", "notebook", "caught by public checks", "first line of message")]
    for mutant in ALL:
        result = outcome(mutant)
        name = f"{mutant.function}: {mutant.name}" + (
            f" [{mutant.checked_by} self-check]" if mutant.checked_by else ""
        )
        rows.append((name, mutant.notebook, "yes" if result.caught else "no", result.message))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print()
    for row in rows:
        print(
            " | ".join(
                [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]
            ).rstrip()
        )
    assert all(outcome(m).caught == m.breaks_rule for m in ALL)
