"""The grading sandbox on its own: what a sandboxed kernel sees, and the limit messages."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from cnncourse import cli
from cnncourse.grading import sandbox
from cnncourse.grading.runner import KernelSession, Limits
from cnncourse.grading.status import Status

from .grading_helpers import ROOT

LIMITS = Limits(sandbox=sandbox.BUBBLEWRAP, memory_mb=1024, processes=64, disk_mb=32)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, sandbox_ready):
    folder = tmp_path_factory.mktemp("sbx") / "alice"
    folder.mkdir()
    (folder / "data.txt").write_text("the learner's file")
    os.environ["CNNCOURSE_TEST_SECRET"] = "the grader's token"
    session = KernelSession(folder, LIMITS)
    try:
        session.start(60)
    finally:
        del os.environ["CNNCOURSE_TEST_SECRET"]
    yield session
    session.close()


def value(session: KernelSession, code: str) -> str:
    """The repr of the last expression of ``code`` run in the kernel."""
    run = session.execute(code, 30)
    assert run.status == Status.OK, (run.ename, run.evalue, run.traceback)
    return run.value


def test_the_kernel_sees_its_copy_and_not_the_course(kernel):
    assert value(kernel, "import os; os.getcwd()") == "'/tmp/work/alice'"
    assert value(kernel, "open('data.txt').read()") == '"the learner\'s file"'
    assert value(kernel, f"os.path.exists({str(ROOT / 'solutions')!r})") == "False"
    assert value(kernel, f"os.path.exists({str(ROOT / 'cnncourse')!r})") == "True"
    assert value(kernel, "os.path.exists('/root/.bashrc') or os.path.exists('/home')") == "False"
    names = eval(value(kernel, "sorted(os.environ)"))
    assert "CNNCOURSE_TEST_SECRET" not in names
    set_by_ipykernel_and_bwrap = {
        "TERM",
        "FORCE_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "PAGER",
        "GIT_PAGER",
        "PYDEVD_USE_FRAME_EVAL",
        "PWD",
    }
    assert set(names) <= set(sandbox.sandbox_env(1)) | set_by_ipykernel_and_bwrap


def test_the_kernel_is_an_unprivileged_process_alone_without_network(kernel):
    if os.geteuid() == 0:
        assert int(value(kernel, "os.getuid()")) >= sandbox.UID_BASE
    pids = value(kernel, "sorted(int(p) for p in os.listdir('/proc') if p.isdigit())")
    assert pids == "[1, 2]"  # bubblewrap's init and the kernel
    err = kernel.execute("import socket; socket.create_connection(('127.0.0.1', 22), 2)", 10)
    assert err.ename in ("ConnectionRefusedError", "OSError")
    err = kernel.execute("open('/usr/lib/os-release-cnncourse', 'w')", 10)
    assert err.ename in ("PermissionError", "OSError")


def test_a_cells_leftover_processes_are_swept_and_the_kernel_survives(kernel):
    value(
        kernel,
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "p.pid",
    )
    assert int(value(kernel, "len([p for p in os.listdir('/proc') if p.isdigit()])")) == 3
    kernel.sweep()
    assert value(kernel, "p.wait(timeout=5)") == str(-signal.SIGKILL)
    assert value(kernel, "1 + 1") == "2"


def test_limits_become_errors_the_grader_can_explain(kernel):
    err = kernel.execute("import numpy as np; np.ones(2**31 // 8 * 2)", 20)
    assert sandbox.explain_error(err.ename, err.evalue, LIMITS) == "the memory limit of 1 GiB was reached"
    err = kernel.execute("open('/tmp/big', 'wb').write(b'x' * 40 * 2**20)", 20)
    assert (
        sandbox.explain_error(err.ename, err.evalue, LIMITS) == "the sandbox's 32 MiB of disk space ran out"
    )
    assert sandbox.death_reason(128 + signal.SIGXCPU, LIMITS) == "the CPU time limit of 1200 s was reached"
    assert sandbox.death_reason(128 + signal.SIGSEGV, LIMITS) == ""


def test_the_command_line_has_every_limit_with_its_default():
    args = cli.build_parser().parse_args(["grade", "--source", "x.ipynb", "subs"])
    assert cli.sandbox_limits(args) == {
        "sandbox": "on",
        "memory_mb": 4096,
        "cpu_seconds": 1200,
        "processes": 512,
        "open_files": 1024,
        "file_size_mb": 512,
        "disk_mb": 1024,
    }
    args = cli.build_parser().parse_args(
        ["grade", "--source", "x.ipynb", "subs", "--memory", "2.5G", "--disk", "300M", "--sandbox", "auto"]
    )
    assert (args.memory, args.disk, args.sandbox) == (2560, 300, "auto")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["grade", "--source", "x", "s", "--memory", "lots"])


def test_unavailable_sandbox_is_explained(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda tool: None)
    assert "bwrap is not installed" in sandbox.problem()
    with pytest.raises(sandbox.SandboxUnavailable, match="make sandbox"):
        sandbox.resolve_mode("on")
    assert sandbox.resolve_mode("auto") == "off"
    assert sandbox.resolve_mode("off") == "off"


def test_the_bound_folders_are_the_python_and_the_package_only():
    roots = sandbox.python_roots()
    assert str(Path(cli.__file__).resolve().parent) in roots
    assert not any(str(ROOT) == r for r in roots)
