"""Run a :class:`~.assemble.Plan` in a fresh Jupyter kernel, within time limits.

One kernel per submission (``python -P -m ipykernel_launcher`` of this Python, over
local sockets in a private folder, in a new process group). Each cell gets the per-cell
limit and the whole notebook the per-notebook limit. A cell past its limit is
interrupted; if the kernel does not answer after that, or dies (``os._exit``, a segfault,
out of memory), the kernel is killed with its process group and the notebook runs again
from the top in a new kernel, without the cells that hung or crashed it. Outputs are
dropped as they arrive; only error messages and the text of a test's last expression
(partial credit) are kept, truncated.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox
from .assemble import Plan, Step
from .injected import after_test, forget, guard, preamble
from .notebook_format import TEST
from .status import Status

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TRACEBACK_CHARS = 4000
VALUE_CHARS = 2000


@dataclass
class Limits:
    """Time and size limits for one notebook (seconds and characters)."""

    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    max_restarts: int = 2
    startup_timeout: float = 60.0
    probe_timeout: float = 5.0
    threads: int = 1  # BLAS / OpenMP threads in the kernel
    # The sandbox (see :mod:`.sandbox`): "on", "off" or "auto", and what the kernel may use.
    sandbox: str = "off"
    memory_mb: int = 4096  # address space of the kernel process
    cpu_seconds: int = 1200  # CPU time of each process in the sandbox
    processes: int = 512  # processes and threads
    open_files: int = 1024
    file_size_mb: int = 512  # largest file the kernel may write
    disk_mb: int = 1024  # the private writable space: /tmp, home and the submission's copy


@dataclass
class Execution:
    """The kernel's answer to one piece of code."""

    status: Status  # ok, error, timeout or died
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    value: str | None = None  # text/plain of the last expression
    stderr: str = ""  # what the code wrote to stderr (nbgrader scores such a test cell 0)
    stdout: str = ""  # what it printed, truncated (the checks' ✓ and ✗ lines)


@dataclass
class Outcome:
    """What happened to one step of the plan."""

    status: Status  # ok, error, timeout, died, hung or not_run
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    hidden: bool = False  # the failure happened in a hidden block (show no details)
    value: str | None = None
    seconds: float = 0.0
    reason: str = ""  # why a step was not run; "notebook" when a timeout was the notebook's
    warnings: list[str] = field(default_factory=list)
    stderr: str = ""  # stderr of the step's public segments, truncated
    hidden_stderr: bool = False  # a hidden segment wrote to stderr (its text is not kept)
    stdout: str = ""  # stdout of the step's public segments, truncated
    limit: str = ""  # the sandbox limit that stopped the step ("the memory limit of 4 GiB ...")
    kernel_report: str | None = None  # what injected.after_test(plan) evaluated to, if anything


def kernel_env(limits: Limits) -> dict[str, str]:
    """The grader's environment plus :func:`.sandbox.grading_variables` (no sandbox)."""
    env = {**os.environ, **sandbox.grading_variables(limits.threads)}
    for key in ("PYTHONSTARTUP", "PYTHONINSPECT", "JPY_SESSION_NAME"):
        env.pop(key, None)
    return env


def _short_traceback(frames: list) -> str:
    """The notebook's own frames; library frames (``File ...``) fold into one "...".

    The first entry (the header) and the last (the exception) are kept as they are.
    """
    kept: list[str] = []
    texts = [ANSI.sub("", f) for f in frames if isinstance(f, str)]
    for i, text in enumerate(texts):
        is_library = text.lstrip().startswith("File ") and 0 < i < len(texts) - 1
        if is_library:
            if kept and kept[-1] != "    ...":
                kept.append("    ...")
        else:
            kept.append(text.rstrip("\n"))
    return "\n".join(kept)


class KernelSession:
    """A kernel and a client to run code in it, one piece at a time."""

    def __init__(self, cwd: Path, limits: Limits, on_start: Callable[[int], None] | None = None):
        import nbformat
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient

        self.limits = limits
        self.cwd = cwd
        self.on_start = on_start
        self.sandboxed = limits.sandbox == sandbox.BUBBLEWRAP
        argv = [
            sys.executable,
            "-P",
            "-Xfrozen_modules=off",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]
        self.uid = None
        if self.sandboxed:
            # Short path: the sockets' names must fit in about 100 bytes.
            self.runtime = Path(tempfile.mkdtemp(prefix="cnck-", dir="/tmp"))
            self.uid = sandbox.UserId()
            self.uid.give(self.runtime)
            argv = sandbox.kernel_command(argv, limits, self.runtime, cwd, self.uid.uid)
        else:
            self.runtime = Path(tempfile.mkdtemp(prefix="cnncourse-kernel-"))
        # Signals cannot reach a kernel in its own session; ask it over the control channel.
        interrupt_mode = "message" if self.sandboxed else "signal"

        class ThisPython(KernelSpecManager):
            def get_kernel_spec(self, kernel_name):
                return KernelSpec(
                    argv=argv,
                    display_name="cnncourse grader",
                    language="python",
                    interrupt_mode=interrupt_mode,
                    resource_dir=str(Path(__file__).parent),
                )

        uid = self.uid

        class Manager(AsyncKernelManager):
            def write_connection_file(self, **kwargs):
                super().write_connection_file(**kwargs)
                if uid is not None:  # the sandboxed kernel runs as its own user
                    uid.give(Path(self.connection_file))

        # Unix sockets in a private folder; TCP on localhost when the path would be too
        # long for a socket name (about 100 bytes, e.g. under macOS's long TMPDIR).
        socket_base = str(self.runtime / "k")
        transport = (
            {"transport": "ipc", "ip": socket_base}
            if len(socket_base) < 80
            else {"transport": "tcp", "ip": "127.0.0.1"}
        )
        km = Manager(
            kernel_spec_manager=ThisPython(),
            kernel_name="python3",
            connection_file=str(self.runtime / "kernel.json"),
            **transport,
        )
        self._cell = nbformat.v4.new_code_cell("")
        session = self

        class Client(NotebookClient):
            def output(self, outs, msg, display_id, cell_index):
                session._on_output(msg)
                return None

        self.client = Client(
            nbformat.v4.new_notebook(cells=[self._cell]),
            km=km,
            allow_errors=True,
            interrupt_on_timeout=True,
            iopub_timeout=2,
            shutdown_kernel="immediate",
            error_on_timeout={"ename": "TimeoutError", "evalue": "", "traceback": []},
            on_cell_executed=self._on_executed,
            record_timing=False,
            startup_timeout=int(limits.startup_timeout),
        )
        self.pgid: int | None = None

    def start(self, timeout: float) -> None:
        self.client.startup_timeout = max(5, math.ceil(timeout))
        if self.sandboxed:
            cwd, env = str(self.runtime), sandbox.sandbox_env(self.limits.threads)
        else:
            cwd, env = str(self.cwd), kernel_env(self.limits)
        self.client.start_new_kernel(cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pgid = getattr(self.client.km.provisioner, "pgid", None)
        if self.pgid and self.on_start:
            self.on_start(self.pgid)
        self.client.start_new_kernel_client()

    def _on_output(self, msg) -> None:
        """Outputs are dropped as they arrive; only the last expression's text is kept."""
        if msg["msg_type"] == "execute_result":
            plain = msg["content"].get("data", {}).get("text/plain")
            if isinstance(plain, str):
                self._value = plain[:VALUE_CHARS]
        elif msg["msg_type"] == "stream":
            text = msg["content"].get("text")
            name = "_stderr" if msg["content"].get("name") == "stderr" else "_stdout"
            kept = getattr(self, name)
            if isinstance(text, str) and len(kept) < VALUE_CHARS:
                setattr(self, name, kept + text[: VALUE_CHARS - len(kept)])

    def _on_executed(self, cell, cell_index, execute_reply) -> None:
        self._reply = execute_reply

    def execute(self, code: str, timeout: float, store_history: bool = True) -> Execution:
        from nbclient.exceptions import DeadKernelError

        self._reply, self._value, self._stderr, self._stdout = None, None, "", ""
        self._cell.source = code
        self.client.timeout = max(1, math.ceil(timeout))
        try:
            self.client.execute_cell(self._cell, 0, store_history=store_history)
        except DeadKernelError:
            return Execution(Status.DIED)
        except Exception as exc:  # a broken channel: treat the kernel as lost, start anew
            return Execution(Status.DIED, type(exc).__name__, str(exc))
        reply = self._reply
        if reply is None:  # nothing to run (blank code)
            return Execution(Status.OK)
        if "header" not in reply:  # nbclient's stand-in reply after a timeout
            return Execution(Status.TIMEOUT, stderr=self._stderr, stdout=self._stdout)
        content = reply.get("content", {})
        if content.get("status") == "ok":  # the Jupyter protocol's status
            return Execution(Status.OK, value=self._value, stderr=self._stderr, stdout=self._stdout)
        traceback = _short_traceback(content.get("traceback") or [])
        if len(traceback) > TRACEBACK_CHARS:
            traceback = "...\n" + traceback[-TRACEBACK_CHARS:]
        return Execution(
            Status.ERROR,
            str(content.get("ename", "Error")),
            str(content.get("evalue", ""))[:TRACEBACK_CHARS],
            traceback,
            stderr=self._stderr,
            stdout=self._stdout,
        )

    def evaluate(self, expression: str, timeout: float) -> Execution:
        """Evaluate ``expression`` as a user expression: no transformers, no history."""
        from jupyter_core.utils import ensure_async, run_sync
        from nbclient.exceptions import DeadKernelError

        async def go():
            msg_id = await ensure_async(
                self.client.kc.execute(
                    "", silent=True, store_history=False, user_expressions={"r": expression}
                )
            )
            return await self.client.async_wait_for_reply(msg_id)

        self.client.timeout = max(1, math.ceil(timeout))
        try:
            reply = run_sync(go)()
        except DeadKernelError:
            return Execution(Status.DIED)
        except Exception as exc:  # a broken channel: treat the kernel as lost, start anew
            return Execution(Status.DIED, type(exc).__name__, str(exc))
        if reply is None:
            return Execution(Status.TIMEOUT)
        result = reply.get("content", {}).get("user_expressions", {}).get("r", {})
        if result.get("status") == "ok":
            plain = result.get("data", {}).get("text/plain")
            return Execution(Status.OK, value=plain[:VALUE_CHARS] if isinstance(plain, str) else None)
        return Execution(Status.ERROR, str(result.get("ename", "Error")), str(result.get("evalue", "")))

    def responsive(self) -> bool:
        """After a timeout: did the interrupt work, so the kernel answers again?"""
        return self.execute("None", self.limits.probe_timeout, store_history=False).status == Status.OK

    def _process(self):
        """The ``Popen`` of the kernel (in the sandbox: of bubblewrap), if started."""
        return getattr(getattr(self.client.km, "provisioner", None), "process", None)

    def process_id(self) -> int | None:
        """The kernel's process on this machine (in the sandbox: bubblewrap's)."""
        return getattr(self._process(), "pid", None)

    def death_reason(self) -> str:
        """Why the sandboxed kernel died, from its exit status ('' when not known)."""
        process = self._process()
        if not self.sandboxed or process is None:
            return ""
        try:
            code = process.wait(timeout=2)
        except Exception:  # still running, or not a Popen: nothing to learn
            return ""
        return sandbox.death_reason(code, self.limits)

    def sweep(self) -> None:
        """Sandbox only: end the processes a cell left behind (see :func:`.sandbox.sweep`)."""
        pid = self.process_id() if self.sandboxed else None
        if pid:
            sandbox.sweep(pid)

    def close(self) -> None:
        """Kill the kernel and everything it started in its process group."""
        if self.pgid:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.client._cleanup_kernel()
        except Exception:  # the kernel is already gone; only resources to free
            pass
        for path in sorted(self.runtime.glob("*"), reverse=True):
            path.unlink(missing_ok=True)
        try:
            self.runtime.rmdir()
        except OSError:
            pass
        if self.uid is not None:
            self.uid.release()


def run_step(session: KernelSession, step: Step, plan: Plan, notebook_deadline: float) -> Outcome:
    """Run one step: the guard first for a test cell, then each segment in turn."""
    limits = session.limits
    start = time.monotonic()
    deadline = min(notebook_deadline, start + limits.cell_timeout)
    limited_by = "notebook" if notebook_deadline < start + limits.cell_timeout else ""
    outcome = Outcome(Status.OK)
    if step.kind == TEST:
        check = session.evaluate(guard(plan), min(30.0, deadline - start))
        if check.status == Status.DIED:
            return Outcome(Status.DIED, seconds=time.monotonic() - start)
        if check.status != Status.OK:
            outcome.warnings.append(
                f"the grader could not restore the test environment "
                f"before this test ({check.ename or check.status})"
            )
            if check.status == Status.TIMEOUT and not session.responsive():
                return Outcome(Status.HUNG, seconds=time.monotonic() - start)
    last = None
    for segment in step.segments:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(
                Status.TIMEOUT, hidden=segment.hidden, reason=limited_by, seconds=time.monotonic() - start
            )
        last = session.execute(segment.code, remaining, store_history=not segment.hidden)
        if last.stderr:
            if segment.hidden:
                outcome.hidden_stderr = True
            else:
                outcome.stderr += last.stderr
        if last.stdout and not segment.hidden:
            outcome.stdout += last.stdout
        alive = last.status in (Status.OK, Status.ERROR) or (
            last.status == Status.TIMEOUT and session.responsive()
        )
        if segment.hidden and alive:
            session.evaluate(forget(segment.code), limits.probe_timeout)
        if last.status == Status.OK:
            continue
        if alive:
            _after_test(session, step, plan, outcome)
        outcome.seconds = time.monotonic() - start
        outcome.hidden = segment.hidden
        if last.status == Status.TIMEOUT:
            outcome.status, outcome.reason = (Status.TIMEOUT if alive else Status.HUNG), limited_by
        elif last.status == Status.DIED:
            outcome.status = Status.DIED
        else:
            outcome.status, outcome.ename = Status.ERROR, last.ename
            if session.sandboxed:
                outcome.limit = sandbox.explain_error(last.ename, last.evalue, limits)
            if not segment.hidden:
                outcome.evalue, outcome.traceback = last.evalue, last.traceback
        return outcome
    outcome.value = last.value if last else None
    _after_test(session, step, plan, outcome)
    outcome.seconds = time.monotonic() - start
    return outcome


def _after_test(session: KernelSession, step: Step, plan: Plan, outcome: Outcome) -> None:
    """Ask the kernel what it observed during a test step (see ``injected.after_test``)."""
    expression = after_test(plan) if step.kind == TEST else ""
    if expression:
        outcome.kernel_report = session.evaluate(expression, session.limits.probe_timeout).value


def run_plan(
    plan: Plan, cwd: Path, limits: Limits, on_kernel: Callable[[int], None] | None = None
) -> tuple[list[Outcome], list[str]]:
    """Run every step; returns one :class:`Outcome` per step and notes about the run.

    Never raises for anything the submission does; a kernel that cannot start at all
    leaves every step ``not_run`` with the reason.
    """
    start = time.monotonic()
    deadline = start + limits.notebook_timeout
    steps = plan.steps
    outcomes: list[Outcome | None] = [None] * len(steps)
    crashed: dict[int, Outcome] = {}
    notes: list[str] = []
    restarts = 0
    while True:
        session = KernelSession(cwd, limits, on_kernel)
        crash_at = None
        try:
            try:
                session.start(min(limits.startup_timeout, max(1.0, deadline - time.monotonic())))
                boot = session.execute(preamble(plan), limits.startup_timeout, store_history=False)
                if boot.status != Status.OK:
                    raise RuntimeError(
                        f"the grader's setup code failed in the kernel: "
                        f"{boot.ename or boot.status} {boot.evalue}"
                    )
            except Exception as exc:
                reason = f"not run: the kernel could not start ({exc})"
                for i, outcome in enumerate(outcomes):
                    if outcome is None:
                        outcomes[i] = Outcome(Status.NOT_RUN, reason=reason)
                notes.append(reason)
                break
            for i, step in enumerate(steps):
                if i in crashed:
                    continue
                if time.monotonic() >= deadline:
                    reason = f"not run: the notebook's time limit of {limits.notebook_timeout:g} s ran out"
                    for j in range(i, len(steps)):
                        if j not in crashed:
                            outcomes[j] = Outcome(Status.NOT_RUN, reason=reason)
                    notes.append(reason.removeprefix("not run: "))
                    break
                outcome = run_step(session, step, plan, deadline)
                outcomes[i] = outcome
                if outcome.status == Status.DIED:
                    outcome.limit = session.death_reason()
                if outcome.status in (Status.DIED, Status.HUNG):
                    crashed[i], crash_at = outcome, i
                    break
                session.sweep()
        finally:
            session.close()
        if crash_at is None:
            break
        if restarts >= limits.max_restarts:
            reason = f"not run: the kernel crashed or hung {restarts + 1} times, so the grader stopped"
            for j in range(crash_at + 1, len(steps)):
                outcomes[j] = Outcome(Status.NOT_RUN, reason=reason)
            notes.append(reason.removeprefix("not run: "))
            break
        restarts += 1
    return [o or Outcome(Status.NOT_RUN, reason="not run") for o in outcomes], notes
