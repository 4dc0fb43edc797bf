"""Make cnncourse/assets/shapes_cnn.npz: the shapes CNN trained on the six synthetic
shapes of cnncourse.data (SHAPE_NAMES), 32x32 RGB.

    .venv/bin/python scripts/train_pretrained.py            # about a minute on a CPU

Deterministic on a given machine (fixed seeds, op determinism); the recipe and the test
accuracy are stored in the file (cnncourse.keras.pretrained.pretrained_info()).
"""

from __future__ import annotations

import argparse
import time

N_IMAGES = 12000
EPOCHS = 8
SEED = 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output file (default: the package asset)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--n", type=int, default=N_IMAGES, help="images generated")
    args = parser.parse_args(argv)

    from cnncourse.data import SHAPE_NAMES, load_shapes
    from cnncourse.keras import pretrained, train
    from cnncourse.keras.models import shapes_cnn

    data = load_shapes(args.n, size=32, seed=SEED, classes=SHAPE_NAMES)
    start = time.perf_counter()
    history = train(
        lambda: shapes_cnn((32, 32, 3), len(SHAPE_NAMES)),
        data.train,
        data.val,
        epochs=args.epochs,
        batch_size=64,
        learning_rate=2e-3,
        mixed_precision=False,
        seed=SEED,
        deterministic=True,
        verbose=2,
    )
    model = history.model
    _, test_acc = model.evaluate(data.test.x, data.test.y, verbose=0)
    info = {
        "classes": list(SHAPE_NAMES),
        "input_shape": [32, 32, 3],
        "n_images": args.n,
        "epochs": args.epochs,
        "seed": SEED,
        "optimizer": "adam, lr 2e-3, batch 64",
        "val_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "test_accuracy": round(float(test_acc), 4),
        "train_seconds": round(time.perf_counter() - start, 1),
        "made_by": "scripts/train_pretrained.py",
    }
    path = pretrained.save_pretrained(model, info, args.out or pretrained.ASSET)
    print(f"test accuracy {test_acc:.4f}; wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
