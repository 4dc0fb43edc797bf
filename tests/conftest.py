"""Fixtures every test folder may use: Debian packages installed where missing, and
headless Chromium (the book's browser tests and the JupyterLab test)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# Chromium and its flags (nothing started in the background, nothing fetched), as the PDF
# print uses them.
from cnncourse.publish.browser import CHROMIUM, CHROMIUM_ARGS

IN_CI = bool(os.environ.get("CI"))


def not_available(reason: str):
    """Fail in CI, where everything must run; skip loudly elsewhere."""
    if IN_CI:
        pytest.fail(reason)
    print(f"\n*** SKIPPED: {reason} ***")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def apt_install():
    """``apt_install(program, package)``: install a Debian package as root (CI, containers)
    unless ``program`` is on the PATH. Returns whether the program is there afterwards.

    Test workers running side by side (``pytest -n``) take turns: apt-get cannot run
    twice at once, and a worker that waited finds the program its neighbour installed.
    """

    def install(program: str, package: str) -> bool:
        if shutil.which(program):
            return True
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            return False
        with (Path(tempfile.gettempdir()) / "cnncourse-apt-get.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not shutil.which(program):
                env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
                for command in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
                    subprocess.run(command, check=True, capture_output=True, env=env)
        return bool(shutil.which(program))

    return install


@pytest.fixture(scope="session")
def chromium_path(apt_install) -> str:
    """Debian's Chromium, installed with apt-get where missing (as root: CI, containers)."""
    if not Path(CHROMIUM).exists():
        try:
            apt_install("chromium", "chromium")
        except subprocess.CalledProcessError as exc:
            not_available(f"apt-get could not install chromium: {exc.stderr!r:.300}")
        if not Path(CHROMIUM).exists():
            not_available(
                f"{CHROMIUM} is missing; install it with "
                "`apt-get update && apt-get install -y chromium` (or `make chromium`)"
            )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Chromium through Playwright, one for the whole test session."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, args=list(CHROMIUM_ARGS), headless=True)
        yield chromium
        chromium.close()
