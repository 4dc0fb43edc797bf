"""Training speed of the seed CNN in Keras: images per second on synthetic 28x28x1
inputs (float32, and mixed float16 where the GPU has tensor cores), and the wall time
for the seed CNN to reach 98% validation accuracy on the offline digits.

    .venv/bin/python benchmarks/keras_throughput.py                  # 60,000 inputs
    .venv/bin/python benchmarks/keras_throughput.py --n 6000 --epochs 2   # quick look

Throughput is that of the last epoch (the first includes tracing and tf.data warm-up).
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def throughput(n: int, batch_size: int, epochs: int, mixed: bool) -> float:
    """Training images per second of the seed CNN over the last of ``epochs`` epochs."""
    from cnncourse.keras import seed_cnn, train
    from cnncourse.keras._tf import keras

    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, n)
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self._t)

    train(
        seed_cnn,
        (x, y),
        epochs=epochs,
        batch_size=batch_size,
        mixed_precision=mixed,
        seed=0,
        callbacks=[EpochTimer()],
    )
    return n / times[-1]


def time_to_accuracy(target: float, max_epochs: int, batch_size: int):
    """(seconds, epochs, best val accuracy) for the seed CNN on load_digits()."""
    from cnncourse.data import load_digits
    from cnncourse.keras import seed_cnn, train

    d = load_digits()
    history = train(
        seed_cnn,
        d.train,
        d.val,
        epochs=max_epochs,
        batch_size=batch_size,
        target_accuracy=target,
        mixed_precision=False,
        seed=0,
    )
    stop = history.stop_at
    return stop.seconds, stop.epoch, max(history.history["val_accuracy"]), len(d.train.x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60000, help="synthetic training images")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2, help="the last one is timed")
    parser.add_argument("--target", type=float, default=0.98)
    parser.add_argument("--max-epochs", type=int, default=60)
    args = parser.parse_args(argv)

    from cnncourse.keras import device_report, use_mixed_precision

    report = device_report()
    print(report)
    print()
    print(f"seed_cnn training throughput, {args.n:,} synthetic 28x28x1 images, batch {args.batch_size}:")
    modes = [False, True] if report.mixed_precision_supported else [False]
    for mixed in modes:
        rate = throughput(args.n, args.batch_size, args.epochs, mixed)
        where = "GPU" if report.gpus else "CPU"
        print(f"  {where}, {'mixed float16' if mixed else 'float32'}: {rate:,.0f} images/s")
    use_mixed_precision(False)
    if not report.gpus:
        print("  GPU: not measured (no GPU lent)")
        print("  mixed float16: not applicable on a CPU (no tensor cores; float16 is emulated)")
    elif not report.mixed_precision_supported:
        print("  mixed float16: not measured (the GPU has no tensor cores)")

    seconds, epochs, best, n_train = time_to_accuracy(args.target, args.max_epochs, 32)
    print()
    print(f"seed_cnn on load_digits() ({n_train} training images, batch 32, Adam 1e-3, seed 0):")
    if seconds is None:
        print(
            f"  did not reach {args.target:.0%} validation accuracy in {args.max_epochs} "
            f"epochs (best {best:.2%})"
        )
    else:
        print(f"  {args.target:.0%} validation accuracy after {epochs} epochs, {seconds:.1f} s")


if __name__ == "__main__":
    main()
