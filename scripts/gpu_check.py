"""One-shot GPU check: does TensorFlow train the course's models on the GPU, and how fast?

Trains the seed CNN (``cnncourse.keras.seed_cnn``, 28x28x1 digits, 10 classes) on
synthetic data in float32 and mixed_float16 at batch sizes 256 and 1024, then times the
conv2d passes of ``benchmarks/conv_numpy_vs_tensorflow.py`` on the GPU. Each row names
the device TensorFlow actually placed the work on (the model's weights, the conv output),
not the one it was asked for. Prints a table; exits 0 only if a GPU did all the work,
1 otherwise (at once, with the reason, on a machine without an NVIDIA driver). Takes
about a minute on a recent GPU (well under five).

    make setup GPU=1 && .venv/bin/python scripts/gpu_check.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnncourse.cli import nvidia_driver, why_no_gpu

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ("float32", "mixed_float16")
BATCH_SIZES = (256, 1024)


@dataclass
class Row:
    """One line of the table: ``what`` ran on ``device`` (e.g. ``"GPU:0"``) at ``speed``."""

    what: str
    device: str
    speed: str


def device_kind(device: str) -> str:
    """``"GPU:0"`` from a TensorFlow device string such as
    ``"/job:localhost/replica:0/task:0/device:GPU:0"``; ``"?"`` if it names none."""
    match = re.search(r"device:([A-Za-z_]+):(\d+)$", device or "")
    return f"{match[1].upper()}:{match[2]}" if match else "?"


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned plain-text table with a header."""
    header = Row("what", "device", "speed")
    widths = [max(len(getattr(r, f)) for r in [header, *rows]) for f in ("what", "device", "speed")]
    lines = [
        f"{r.what:<{widths[0]}}  {r.device:<{widths[1]}}  {r.speed:>{widths[2]}}" for r in [header, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def work_off_the_gpu(rows: list[Row]) -> str | None:
    """What did not run on a GPU, as a message, or None when a GPU did every row."""
    elsewhere = [f"{row.what} ({row.device})" for row in rows if not row.device.startswith("GPU:")]
    if not rows:
        return "nothing was measured"
    return f"TensorFlow placed this work off the GPU: {'; '.join(elsewhere)}" if elsewhere else None


def train_rows(tf, keras, steps: int, policies=POLICIES, batch_sizes=BATCH_SIZES) -> list[Row]:
    """Images per second of ``model.fit`` on the seed CNN for each dtype policy and batch
    size (after a warm-up fit that compiles the step), with the device holding the weights.
    (mixed_float16 is for GPUs: on a CPU, TensorFlow's float16 convolutions crawl.)"""
    from cnncourse.keras import seed_cnn

    rows = []
    rng = np.random.default_rng(0)
    for policy in policies:
        for batch in batch_sizes:
            keras.mixed_precision.set_global_policy(policy)
            try:
                model = seed_cnn()
            finally:
                keras.mixed_precision.set_global_policy("float32")
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            x = rng.random((batch, 28, 28, 1), dtype=np.float32)
            y = rng.integers(0, 10, batch)
            # One batch, repeated: the timing measures the training step, not the input pipeline.
            data = tf.data.Dataset.from_tensors((x, y)).repeat()
            model.fit(data, steps_per_epoch=5, epochs=1, shuffle=False, verbose=0)
            start = time.perf_counter()
            model.fit(data, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
            seconds = time.perf_counter() - start
            rows.append(
                Row(
                    f"seed_cnn fit, {policy}, batch {batch}",
                    device_kind(model.trainable_variables[0].value.device),
                    f"{batch * steps / seconds:,.0f} images/s",
                )
            )
    return rows


def _conv_benchmark():
    """benchmarks/conv_numpy_vs_tensorflow.py as a module (benchmarks/ is not a package)."""
    path = ROOT / "benchmarks" / "conv_numpy_vs_tensorflow.py"
    spec = importlib.util.spec_from_file_location("conv_numpy_vs_tensorflow", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conv_rows(tf, gpu: str, repeats: int) -> list[Row]:
    """GFLOP/s of the benchmark's TensorFlow conv2d passes with inputs on ``gpu``, medians
    of ``repeats`` runs; each run includes copying the results back to the host, as the
    CPU benchmark does."""
    bench = _conv_benchmark()
    rng = np.random.default_rng(0)
    rows = []
    for x_shape, w_shape, stride, padding in bench.SHAPES:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32) * 0.1
        b = rng.standard_normal(w_shape[-1], dtype=np.float32)
        dout = rng.standard_normal(bench.F.conv_output_shape(x_shape, w_shape, stride, padding), np.float32)
        with tf.device(gpu):
            passes = bench.tensorflow_passes(tf, x, w, b, dout, stride, padding)
            placed = tf.nn.conv2d(tf.constant(x[:1]), tf.constant(w), stride, padding.upper()).device
        flops = bench.conv_flops(x_shape, w_shape, stride, padding)
        for name, run in passes.items():
            run()  # warm-up: tracing, cuDNN algorithm choice
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            work = flops * (1 if name == "forward" else 3)
            rows.append(
                Row(
                    f"conv2d {name} x{x_shape} w{w_shape} {padding}",
                    device_kind(placed),
                    f"{seconds * 1e3:.2f} ms, {work / seconds / 1e9:,.0f} GFLOP/s",
                )
            )
    return rows


def _load_tensorflow():
    from cnncourse.keras._tf import keras, tf  # quiet import

    return tf, keras


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed training steps per row")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per conv pass (median)")
    args = parser.parse_args(argv)

    # No driver, no CUDA GPU: say so before spending ten seconds importing TensorFlow.
    driver = nvidia_driver()
    if driver is None:
        print(f"gpu_check: no GPU: {why_no_gpu(None, None)}.", file=sys.stderr)
        print(
            "gpu_check: nothing measured; run it on a machine with an NVIDIA GPU after `make setup GPU=1`.",
            file=sys.stderr,
        )
        return 1
    tf, keras = _load_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print(
            f"gpu_check: TensorFlow sees no GPU: {why_no_gpu(tf.test.is_built_with_cuda(), driver)}.",
            file=sys.stderr,
        )
        return 1
    details = tf.config.experimental.get_device_details(gpus[0])
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {details.get('device_name', gpus[0].name)} "
        f"(compute capability {details.get('compute_capability')}), driver: {driver}"
    )
    start = time.perf_counter()
    rows = train_rows(tf, keras, args.steps) + conv_rows(tf, "/GPU:0", args.repeats)
    print(format_table(rows))
    print(f"({time.perf_counter() - start:.0f} s)")
    problem = work_off_the_gpu(rows)
    if problem:
        print(f"gpu_check: {problem}", file=sys.stderr)
        return 1
    print("gpu_check: OK, the GPU did all the work")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
