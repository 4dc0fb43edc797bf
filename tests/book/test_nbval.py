"""nbval: every chapter runs top to bottom on a fresh kernel and the cells tagged
``nbval-check-output`` print what is stored in them (``pytest --nbval-lax``).

Run in its own pytest process so ``pytest`` alone runs everything; each notebook's
kernel starts in the notebook's folder (``book/chapters``), as in the book build.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import CHAPTERS, ROOT, toc_chapters

pytestmark = pytest.mark.slow


def test_chapters_pass_nbval():
    notebooks = [CHAPTERS / f"{name}.ipynb" for name in toc_chapters()]
    assert notebooks, "no chapter notebooks"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-current-env",
        "--nbval-cell-timeout=300",
        "-p",
        "no:cacheprovider",
        "-q",
        "-o",
        "addopts=",
        *[str(p.relative_to(ROOT)) for p in notebooks],
    ]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, f"{' '.join(cmd)}\n{run.stdout[-8000:]}\n{run.stderr[-2000:]}"
    assert " passed" in run.stdout and "failed" not in run.stdout, run.stdout[-2000:]
