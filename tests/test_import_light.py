"""``import cnncourse`` (and its NumPy and data parts) must not load TensorFlow."""

import json
import subprocess
import sys

import pytest

CODE = """
import json, sys
import cnncourse, cnncourse.nn, cnncourse.data
from cnncourse.data import load_digits, make_shapes
before = "tensorflow" in sys.modules or "keras" in sys.modules
import cnncourse.keras
print(json.dumps({"light": not before, "heavy": "tensorflow" in sys.modules}))
"""


@pytest.mark.slow  # starts a Python that imports TensorFlow
def test_import_cnncourse_does_not_import_tensorflow():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         timeout=300, check=True)
    # the last line: TensorFlow may print before it, on stdout
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"light": True, "heavy": True}
