"""``import cnncourse`` (and its NumPy and data parts) must not load TensorFlow, and
neither must loading a dataset, the online loaders included (they download with urllib)."""

import json
import subprocess
import sys

import pytest

CODE = """
import gzip, json, sys, tempfile
from pathlib import Path
import numpy as np
import cnncourse, cnncourse.nn, cnncourse.data
from cnncourse.data import load_digits, load_fashion_mnist, make_shapes
load_digits(size=8)
cache = Path(tempfile.mkdtemp())
folder = cache / "datasets" / "fashion-mnist"
folder.mkdir(parents=True)
for name, shape in [("train-labels-idx1-ubyte.gz", (4,)), ("train-images-idx3-ubyte.gz", (4, 28, 28)),
                    ("t10k-labels-idx1-ubyte.gz", (2,)), ("t10k-images-idx3-ubyte.gz", (2, 28, 28))]:
    header = b"".join(int(v).to_bytes(4, "big") for v in (2049 if len(shape) == 1 else 2051, *shape))
    (folder / name).write_bytes(gzip.compress(header + bytes(int(np.prod(shape)))))
assert len(load_fashion_mnist(cache_dir=cache, val_fraction=0.5).test) == 2
before = "tensorflow" in sys.modules or "keras" in sys.modules
import cnncourse.keras
print(json.dumps({"light": not before, "heavy": "tensorflow" in sys.modules}))
"""


@pytest.mark.slow  # starts a Python that imports TensorFlow
def test_import_cnncourse_does_not_import_tensorflow():
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300, check=True
    )
    # the last line: TensorFlow may print before it, on stdout
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"light": True, "heavy": True}
