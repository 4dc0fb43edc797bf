"""Which subpackage may import which, read from the source (no import is executed).

``nn`` is the learners' engine and must stay plain NumPy; ``data`` must load without
TensorFlow; only ``keras`` (and the widgets and grading that use it) may reach Keras.
Helpers that several subpackages share live in ``cnncourse/common.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnncourse"

# subpackage -> top-level names its modules must never import (at any depth in the file)
FORBIDDEN = {
    "nn": {
        "tensorflow",
        "keras",
        "cnncourse.keras",
        "cnncourse.data",
        "cnncourse.widgets",
        "cnncourse.grading",
    },
    "data": {"tensorflow", "keras", "cnncourse.keras", "cnncourse.widgets", "cnncourse.grading"},
    "common.py": {"tensorflow", "keras", "numpy", "cnncourse"},
    "keras": {"cnncourse.data", "cnncourse.widgets", "cnncourse.grading"},
}


def _imports(path: Path, package_dir: Path) -> list[tuple[int, str]]:
    """Absolute dotted names of every import in ``path`` (relative ones resolved)."""
    module = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _violations(where: str, package_dir: Path = PACKAGE) -> list[str]:
    root = package_dir / where
    files = [root] if where.endswith(".py") else sorted(root.rglob("*.py"))
    assert files and all(f.is_file() for f in files), f"nothing to check under {where}"
    banned = FORBIDDEN[where]
    return [
        f"{f.relative_to(package_dir.parent)}:{line} imports {name}"
        for f in files
        for line, name in _imports(f, package_dir)
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]


@pytest.mark.parametrize("where", sorted(FORBIDDEN))
def test_subpackage_imports_only_what_it_may(where):
    assert _violations(where) == []


def test_the_check_sees_relative_imports(tmp_path):
    """A relative import of ..keras from inside nn is resolved and reported."""
    nn = tmp_path / "cnncourse" / "nn"
    nn.mkdir(parents=True)
    (nn / "bad.py").write_text("from ..keras import models\nimport numpy\n")
    assert _violations("nn", tmp_path / "cnncourse") == [
        "cnncourse/nn/bad.py:1 imports cnncourse.keras",
        "cnncourse/nn/bad.py:1 imports cnncourse.keras.models",
    ]
