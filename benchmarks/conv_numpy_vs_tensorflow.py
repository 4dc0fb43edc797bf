"""Fast NumPy conv2d against TensorFlow on the same float32 inputs, side by side.

For each shape: forward alone, and forward + backward (dx, dw, db), timed in one process
with NumPy and TensorFlow runs interleaved, medians over repeats. Prints the NumPy/TF
time ratio and the achieved GFLOP/s beside this machine's float32 ``np.matmul`` GFLOP/s.

The "GEMM ms" column is the floor of the im2col method on this machine: the time of the
matrix products alone (one for the forward pass; three for forward + backward: the
output, ``dw`` and the input gradients), on ready-made matrices of the shapes
``conv2d_forward`` and ``conv2d_backward`` multiply. What NumPy takes beyond it is
copying (im2col, col2im, padding) and allocation.

    make bench            # or: .venv/bin/python benchmarks/conv_numpy_vs_tensorflow.py
    .venv/bin/python benchmarks/conv_numpy_vs_tensorflow.py --repeats 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from cnncourse.nn import functional as F

SHAPES = [  # (x shape, w shape, stride, padding)
    ((64, 28, 28, 32), (3, 3, 32, 64), 1, "valid"),
    ((32, 32, 32, 3), (5, 5, 3, 16), 1, "same"),
    ((16, 56, 56, 64), (3, 3, 64, 64), 1, "same"),
]


def conv_flops(x_shape, w_shape, stride, padding) -> int:
    """Multiply-adds x 2 of one forward pass; the backward pass costs twice this (dx, dw)."""
    n, oh, ow, c_out = F.conv_output_shape(x_shape, w_shape, stride, padding)
    kh, kw, c_in, _ = w_shape
    return 2 * n * oh * ow * kh * kw * c_in * c_out


def matmul_gflops(repeats: int) -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * 2048**3 / statistics.median(times) / 1e9


def gemm_passes(x_shape, w_shape, stride, padding):
    """The matrix products alone, at the sizes the NumPy passes multiply (float32)."""
    n, oh, ow, c_out = F.conv_output_shape(x_shape, w_shape, stride, padding)
    kh, kw, c_in, _ = w_shape
    rng = np.random.default_rng(1)
    cols = rng.standard_normal((n * oh * ow, kh * kw * c_in), dtype=np.float32)
    w_mat = rng.standard_normal((kh * kw * c_in, c_out), dtype=np.float32)
    d2 = rng.standard_normal((n * oh * ow, c_out), dtype=np.float32)
    out, dw, dcols = np.empty_like(d2), np.empty_like(w_mat), np.empty_like(cols)

    def forward():
        np.matmul(cols, w_mat, out=out)

    def forward_backward():
        forward()
        np.matmul(cols.T, d2, out=dw)
        np.matmul(d2, w_mat.T, out=dcols)

    return {"forward": forward, "fwd+bwd": forward_backward}


def numpy_passes(x, w, b, dout, stride, padding):
    """The two timed NumPy passes; both return the output, fwd+bwd also dx, dw, db."""

    def forward():
        return F.conv2d_forward(x, w, b, stride, padding)[0]

    def forward_backward():
        y, cache = F.conv2d_forward(x, w, b, stride, padding)
        return [y, *F.conv2d_backward(dout, cache)]

    return {"forward": forward, "fwd+bwd": forward_backward}


def tensorflow_passes(tf, x, w, b, dout, stride, padding):
    """The same two passes as compiled TensorFlow graphs (tf.function, oneDNN kernels)."""
    tx, tw, tb, tdout = (tf.constant(a) for a in (x, w, b, dout))
    pad = padding.upper()

    @tf.function
    def forward(x, w, b):
        return tf.nn.bias_add(tf.nn.conv2d(x, w, stride, pad), b)

    @tf.function
    def forward_backward(x, w, b, dout):
        with tf.GradientTape() as tape:
            tape.watch([x, w, b])
            y = tf.nn.bias_add(tf.nn.conv2d(x, w, stride, pad), b)
        # Return y too: training needs the output, and TF would otherwise prune it.
        return [y, *tape.gradient(y, [x, w, b], output_gradients=dout)]

    return {
        "forward": lambda: forward(tx, tw, tb).numpy(),
        "fwd+bwd": lambda: [t.numpy() for t in forward_backward(tx, tw, tb, tdout)],
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per case (median)")
    args = parser.parse_args(argv)

    from cnncourse.keras._tf import tf  # TensorFlow without its C++ start-up log noise

    rng = np.random.default_rng(0)
    print(
        f"NumPy {np.__version__}, TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, "
        f"{args.repeats} interleaved repeats, medians"
    )
    peak = matmul_gflops(args.repeats)
    print(f"np.matmul float32 (2048x2048): {peak:.1f} GFLOP/s\n")

    header = (
        f"{'x shape':>18} {'w shape':>15} {'pad':>5} | {'pass':>8} | {'NumPy ms':>9} "
        f"{'TF ms':>8} {'ratio':>6} | {'NumPy GF/s':>10} {'TF GF/s':>8} | {'GEMM ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for x_shape, w_shape, stride, padding in SHAPES:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32) * 0.1
        b = rng.standard_normal(w_shape[-1], dtype=np.float32)
        out_shape = F.conv_output_shape(x_shape, w_shape, stride, padding)
        dout = rng.standard_normal(out_shape, dtype=np.float32)
        np_fns = numpy_passes(x, w, b, dout, stride, padding)
        tf_fns = tensorflow_passes(tf, x, w, b, dout, stride, padding)
        gemm_fns = gemm_passes(x_shape, w_shape, stride, padding)
        cases = {name: (np_fns[name], tf_fns[name], gemm_fns[name]) for name in ("forward", "fwd+bwd")}
        # Same answers first (y, dx, dw, db): a fast wrong result is no result.
        for mine, theirs in zip(np_fns["fwd+bwd"](), tf_fns["fwd+bwd"](), strict=True):
            scale = np.abs(theirs).max()
            np.testing.assert_allclose(mine / scale, theirs / scale, rtol=0, atol=1e-4)
        flops = conv_flops(x_shape, w_shape, stride, padding)
        for name, (np_fn, tf_fn, gemm_fn) in cases.items():
            np_fn(), tf_fn(), gemm_fn()  # warm-up (tracing, allocations)
            np_times, tf_times, gemm_times = [], [], []
            for _ in range(args.repeats):
                for fn, times in ((np_fn, np_times), (tf_fn, tf_times), (gemm_fn, gemm_times)):
                    t = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t)
            t_np, t_tf = statistics.median(np_times), statistics.median(tf_times)
            work = flops * (1 if name == "forward" else 3)
            print(
                f"{x_shape!s:>18} {w_shape!s:>15} {padding:>5} | {name:>8} | "
                f"{t_np * 1e3:9.1f} {t_tf * 1e3:8.1f} {t_np / t_tf:6.2f} | "
                f"{work / t_np / 1e9:10.1f} {work / t_tf / 1e9:8.1f} | "
                f"{statistics.median(gemm_times) * 1e3:8.1f}"
            )


if __name__ == "__main__":
    main()
