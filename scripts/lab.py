"""Start JupyterLab on the course: what ``make lab`` runs, and what tests/lab starts.

JupyterLab serves the repository (or ``--root-dir``) and reads the course's settings from
``jupyter-config/`` on top of the learner's own (``~/.jupyter`` still wins where both set
something): no prompt to subscribe to Jupyter news and no update check on a first start,
so nothing asks the learner a question or reaches the internet before the course opens.

Usage: ``python scripts/lab.py [JUPYTER LAB OPTIONS...]``
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "jupyter-config"


def lab_command(root_dir: Path = ROOT, options: Sequence[str] = ()) -> list[str]:
    """The command line that starts JupyterLab on ``root_dir`` with extra ``options``."""
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root_dir}", *options]


def lab_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with ``jupyter-config/`` put first on
    ``JUPYTER_CONFIG_PATH``, the configuration folders Jupyter reads after the user's own."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(CONFIG), env.get("JUPYTER_CONFIG_PATH")]))
    return env


def main(options: Sequence[str]) -> None:
    command = lab_command(ROOT, options)
    os.execve(command[0], command, lab_environment())


if __name__ == "__main__":
    main(sys.argv[1:])
