"""JupyterLab as a learner uses it, started the way ``make lab`` starts it
(``scripts/lab.py``): open a chapter, run every cell from the Run menu, change the
explorer's pooling mode and watch its figure change.

The chapter is a copy in a temporary folder (JupyterLab autosaves), and the Jupyter user
folders are empty temporary ones, so this is a learner's first start: no prompt may show.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "book" / "chapters" / "04_pooling.ipynb"
START_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_S = 90
STDERR_ERROR = re.compile(r"Traceback|\b\w*Error\b")  # warnings on stderr are not errors


def _lab_module():
    spec = importlib.util.spec_from_file_location("scripts_lab", ROOT / "scripts" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(server: subprocess.Popen, status_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(status_url, timeout=5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                log = log_path.read_text()[-3000:]
                pytest.fail(f"no answer from JupyterLab in {START_TIMEOUT_S} s:\n{log}")
            time.sleep(0.5)


def _stop(server: subprocess.Popen, base: str, token: str) -> None:
    """Shut JupyterLab down with its kernels (which run in sessions of their own)."""
    try:
        family = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    try:
        request = urllib.request.Request(f"{base}api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(request, timeout=5).close()
        server.wait(timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        pass
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """``(base_url, token)`` of a JupyterLab serving a folder with a copy of the chapter."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    course = tmp / "course"
    course.mkdir()
    shutil.copy(CHAPTER, course)
    lab = _lab_module()
    port, token = _free_port(), secrets.token_hex(16)
    options = [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:  # containers and CI run as root
        options.append("--allow-root")
    first_start = {
        f"JUPYTER_{kind}_DIR": str(tmp / f"user-{kind.lower()}") for kind in ("CONFIG", "DATA", "RUNTIME")
    }
    env = lab.lab_environment({**os.environ, **first_start, "IPYTHONDIR": str(tmp / "ipython")})
    log_path = tmp / "jupyterlab.log"
    base = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            lab.lab_command(course, options), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=course
        )
    try:
        _wait_until_up(server, f"{base}api/status?token={token}", log_path)
        yield base, token
    finally:
        _stop(server, base, token)


def _wait_for_idle_kernel(tab) -> None:
    """Until the status bar reads "Python 3 (ipykernel) | Idle": a kernel has started and
    runs nothing (the toolbar's indicator also says idle while there is no kernel yet)."""
    tab.wait_for_function(
        "/\\(ipykernel\\) \\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText)",
        timeout=60_000,
    )


def _code_cells_once_run(tab, contents_url: str) -> list[dict]:
    """The notebook's code cells as JupyterLab saves them once a fresh kernel has run them
    all (execution counts 1, 2, ... in order) and is idle."""
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    while True:
        _wait_for_idle_kernel(tab)
        tab.keyboard.press("Control+s")
        tab.wait_for_timeout(1000)
        with urllib.request.urlopen(contents_url, timeout=10) as response:
            cells = [c for c in json.load(response)["content"]["cells"] if c["cell_type"] == "code"]
        counts = [cell["execution_count"] for cell in cells]
        if counts == list(range(1, len(cells) + 1)):
            return cells
        if time.monotonic() > deadline:
            pytest.fail(f"the cells did not all run in {RUN_ALL_TIMEOUT_S} s: execution counts {counts}")


def _error_text(output: dict) -> str:
    """What an output says went wrong: an error's traceback, a stderr stream that names an
    error or a traceback, else ""."""
    if output["output_type"] == "error":
        return "\n".join(output["traceback"]) or f"{output['ename']}: {output['evalue']}"
    if output["output_type"] == "stream" and output["name"] == "stderr":
        text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
        return text if STDERR_ERROR.search(text) else ""
    return ""


def _figure_pixels(explorer) -> bytes:
    """Screenshots of the explorer's graphics: an <img> from the kernel today, a <canvas>,
    <svg> or <figure> drawn by JavaScript later (icons, under 40 px, are left out)."""
    graphics = explorer.locator("img, canvas, svg, figure")
    shots = []
    for i in range(graphics.count()):
        graphic = graphics.nth(i)
        box = graphic.bounding_box()
        if box and box["width"] >= 40 and box["height"] >= 40:
            shots.append(graphic.screenshot())
    assert shots, "the pooling explorer shows no figure (no img, canvas, svg or figure element)"
    return b"".join(shots)


def _settled_figure_pixels(explorer, attempts: int = 10) -> bytes:
    """:func:`_figure_pixels` once two in a row agree (the first shots can catch the
    notebook still scrolling to the explorer)."""
    previous = _figure_pixels(explorer)
    for _ in range(attempts):
        current = _figure_pixels(explorer)
        if current == previous:
            return current
        previous = current
    pytest.fail(f"the explorer's figure keeps changing by itself ({attempts} screenshots)")


def test_run_all_then_change_the_explorer(jupyterlab, browser):
    base, token = jupyterlab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    try:
        tab.goto(f"{base}lab/tree/{CHAPTER.name}?token={token}", wait_until="load")
        _wait_for_idle_kernel(tab)

        tab.get_by_role("menuitem", name="Run", exact=True).click()
        tab.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        code_cells = _code_cells_once_run(tab, f"{base}api/contents/{CHAPTER.name}?token={token}")

        errors = [
            f"cell {i}: {_error_text(output)[:1500]}"
            for i, cell in enumerate(code_cells)
            for output in cell["outputs"]
            if _error_text(output)
        ]
        assert not errors, "cells printed errors:\n" + "\n---\n".join(errors)
        prompts = tab.locator(".Toastify__toast, .jp-Dialog")
        assert not prompts.count(), f"a prompt is shown: {prompts.all_inner_texts()}"

        average = tab.get_by_role("button", name="average", exact=True)
        explorer = average.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
        assert "Error displaying widget" not in explorer.inner_text()
        before = _settled_figure_pixels(explorer)
        average.click()
        deadline = time.monotonic() + 15
        while (after := _figure_pixels(explorer)) == before and time.monotonic() < deadline:
            tab.wait_for_timeout(250)
        assert after != before, "choosing average pooling did not change the explorer's figure"
    finally:
        context.close()
