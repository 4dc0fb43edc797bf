"""The grading sandbox: every grading kernel runs under bubblewrap, with prlimit limits.

What a sandboxed kernel sees (everything else does not exist for it):

- the system (``/usr``, ``/etc``, ``/proc``, ``/dev``, ``/sys``) and this Python (its
  installation, the virtual environment and the ``cnncourse`` package), read-only;
- a private, size-capped tmpfs at ``/tmp`` that holds its home folder and a copy of the
  submission's folder (``/tmp/work/<folder>``, the working directory);
- the folder with its connection file and IPC sockets (the only way to the grader: it has
  its own network namespace, so no TCP connection reaches this machine or any other).

It has its own PID, IPC, UTS and network namespaces, a new session, and is killed with the
grader (``--die-with-parent``). ``prlimit`` caps its address space, CPU time, processes,
open files and file size. As root the kernel drops to an unprivileged user id of its own
(``RLIMIT_NPROC`` does not apply to root, and each kernel gets a different id so that one
submission's fork storm cannot use up another's processes); as an ordinary user it runs in
a user namespace, where the process limit counts only its own processes.

Not in here: the ``solutions/`` folder, the source notebook, other submissions, the output
folder, home folders, the network.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import Limits

BUBBLEWRAP = "bubblewrap"  # the mode recorded in reports when kernels ran in the sandbox
ENTRY = Path(__file__).with_name("sandbox_entry.py")
WORK = "/tmp/work"  # the copy of the submission's folder lives below this, inside the sandbox
HOME = "/tmp/home"
SUBMISSION = "/run/submission"  # read-only: the grader's copy, copied again to WORK
UID_BASE = 1_900_000_000  # ids with no account: nothing else on the machine runs as them
UID_SLOTS = 256
UID_LOCKS = Path("/tmp/cnncourse-sandbox-uids")
INSTALL_HINT = (
    "install it with `make sandbox` (Debian/Ubuntu: apt-get install bubblewrap), "
    "or grade unprotected with --sandbox off"
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here; the message says why."""


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return [
        *args,
        "--ro-bind",
        "/etc",
        "/etc",
        "--ro-bind-try",
        "/sys",
        "/sys",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]


def _parents(path: str, made: set[str]) -> list[str]:
    """``--dir`` options that create the folders above a mount point world-readable
    (bubblewrap would make them 0700, so the kernel's unprivileged user could not pass)."""
    args = []
    parts = Path(path).parts[1:-1]
    for i in range(len(parts)):
        folder = "/" + "/".join(parts[: i + 1])
        if folder not in made and folder != "/tmp":
            made.add(folder)
            args += ["--perms", "0755", "--dir", folder]
    return args


def python_roots() -> list[str]:
    """Folders the kernel needs read-only: this Python, its environment, the package."""
    import cnncourse

    roots = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    roots.add(os.path.realpath(Path(cnncourse.__file__).parent))
    # Keep only the outermost folders (a venv may live inside the base installation).
    return sorted(r for r in roots if not any(r != o and r.startswith(o + os.sep) for o in roots))


def limit_args(limits: Limits) -> list[str]:
    """``prlimit`` options for the kernel (soft and hard limits alike, except CPU time:
    SIGXCPU at the soft limit, SIGKILL five seconds later)."""
    mib = 2**20
    return [
        "prlimit",
        f"--as={limits.memory_mb * mib}",
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
        f"--nproc={limits.processes}",
        f"--nofile={limits.open_files}",
        f"--fsize={limits.file_size_mb * mib}",
        "--core=0",
        "--",
    ]


def bwrap_args(limits: Limits, runtime: Path, submission: Path, uid: int | None) -> list[str]:
    """The ``bwrap`` command line up to (not including) the command it runs."""
    args = [
        "bwrap",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "grader",
    ]
    if os.geteuid() != 0:
        args.append("--unshare-user")
    args += _system_mounts()
    # The tmpfs first: what is bound after it stays visible, even a Python under /tmp.
    args += ["--perms", "1777", "--size", str(limits.disk_mb * 2**20), "--tmpfs", "/tmp"]
    made: set[str] = set()
    for root in python_roots():
        args += [*_parents(root, made), "--ro-bind", root, root]
    args += [
        *_parents(str(runtime), made),
        "--bind",
        str(runtime),
        str(runtime),
        *_parents(SUBMISSION, made),
        "--ro-bind",
        str(submission),
        SUBMISSION,
        "--chdir",
        "/",
    ]
    if uid is not None:  # the entry script needs these for a moment to drop to `uid`
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args


def kernel_command(
    kernel_argv: list[str], limits: Limits, runtime: Path, submission: Path, uid: int | None
) -> list[str]:
    """The full command that starts ``kernel_argv`` inside the sandbox.

    ``submission`` is the grader's private copy of the submission's folder; the entry
    script copies it into the sandbox's tmpfs (so every write counts against ``disk_mb``)
    and starts the kernel there, as ``uid`` when given.
    """
    workdir = f"{WORK}/{submission.name or 'submission'}"
    entry = [
        sys.executable,
        "-I",
        "-S",
        str(ENTRY),
        SUBMISSION,
        workdir,
        str(uid) if uid is not None else "-",
        "--",
    ]
    return [*limit_args(limits), *bwrap_args(limits, runtime, submission, uid), "--", *entry, *kernel_argv]


def grading_variables(threads: int) -> dict[str, str]:
    """What every grading kernel's environment sets, sandboxed or not."""
    n = str(max(1, threads))
    return {
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MPLBACKEND": "Agg",
        "CNNCOURSE_GRADING": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
    }


def sandbox_env(threads: int) -> dict[str, str]:
    """A small environment for the kernel: nothing of the grader's own variables."""
    return {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": HOME,
        "USER": "learner",
        "LOGNAME": "learner",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": f"{HOME}/.matplotlib",
        "IPYTHONDIR": f"{HOME}/.ipython",
        "KERAS_HOME": f"{HOME}/.keras",
        "XDG_CACHE_HOME": f"{HOME}/.cache",
        "MALLOC_ARENA_MAX": "2",
        "CNNCOURSE_SANDBOX": "1",
        **grading_variables(threads),
    }


# --------------------------------------------------------------------------- availability


_probed = False  # a probe succeeded in this process: no need to start another


def problem() -> str | None:
    """Why the sandbox cannot run here (``None`` when it can).

    Starts a sandbox with a kernel's mounts and imports the package in it, so that a
    mount that would hide this Python shows up here and not as dead kernels.
    """
    from .runner import Limits

    global _probed
    for tool in ("bwrap", "prlimit"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: {INSTALL_HINT}"
    if _probed:
        return None
    with tempfile.TemporaryDirectory(prefix="cnck-probe-") as tmp:
        probe = [
            *bwrap_args(Limits(), Path(tmp), Path(tmp), None),
            "--",
            sys.executable,
            "-c",
            "import cnncourse.grading",
        ]
        try:
            run = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not start ({exc}); {INSTALL_HINT}"
    if run.returncode != 0:
        lines = run.stderr.strip().splitlines()
        why = lines[-1] if lines else f"exit code {run.returncode}"
        return (
            f"bubblewrap cannot create a sandbox here ({why}); it needs user namespaces "
            "or root. In a container, allow them (for example Docker's "
            f"--security-opt seccomp=unconfined --cap-add SYS_ADMIN); {INSTALL_HINT}"
        )
    _probed = True
    return None


def resolve_mode(mode: str) -> str:
    """``on``/``off``/``auto`` -> ``"bubblewrap"`` or ``"off"`` (either passes through).

    Raises :class:`SandboxUnavailable` for ``on`` when the sandbox cannot run.
    """
    if mode in ("off", BUBBLEWRAP):
        return mode
    if mode not in ("on", "auto"):
        raise ValueError(f"sandbox must be on, off or auto; got {mode!r}")
    why = problem()
    if why is None:
        return BUBBLEWRAP
    if mode == "on":
        raise SandboxUnavailable(f"the grading sandbox cannot run: {why}")
    return "off"


# --------------------------------------------------------------------------- user ids


class UserId:
    """An unused user id for one kernel, held until :meth:`release` (root only).

    Lock files make two graders on one machine, or two lanes of one batch, pick
    different ids; ``None`` when the grader is not root (the user namespace isolates).
    """

    def __init__(self):
        self.uid: int | None = None
        self._lock = None
        if os.geteuid() != 0:
            return
        UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
        for slot in range(UID_SLOTS):
            f = open(UID_LOCKS / f"{slot}.lock", "a")  # held until release()
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                continue
            self.uid, self._lock = UID_BASE + slot, f
            return
        raise SandboxUnavailable(f"all {UID_SLOTS} sandbox user ids are in use")

    def give(self, *paths: Path) -> None:
        """Make ``paths`` (the kernel's runtime folder, its connection file) its own."""
        if self.uid is not None:
            for path in paths:
                os.chown(path, self.uid, self.uid)

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


# --------------------------------------------------------------------------- processes


def _ns_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _ns_pid(pid: int) -> int | None:
    """A process's id inside its own PID namespace (the last NSpid field)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def sweep(bwrap_pid: int) -> int:
    """Kill every process in the sandbox but its init and the kernel; returns how many.

    Run by the grader between cells, so that what a cell started (a fork storm, a
    detached spinner) cannot steal CPU from the cells after it or from other
    submissions. Works from outside: the kernel cannot stop it.
    """
    inits = [p for p in _children(bwrap_pid) if _ns_pid(p) == 1]
    if not inits:
        return 0
    ns = _ns_of(inits[0])
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == inits[0] or _ns_of(pid) != ns or _ns_pid(pid) in (None, 1, 2):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    return killed


def death_reason(returncode: int | None, limits: Limits) -> str:
    """The sandbox limit that a kernel's exit status shows it hit ('' for any other death).

    bubblewrap exits with 128 + the signal that killed the kernel.
    """
    if returncode is None:
        return ""
    sig = returncode - 128 if returncode > 128 else -returncode if returncode < 0 else 0
    if sig == signal.SIGXCPU:
        return f"the CPU time limit of {limits.cpu_seconds} s was reached"
    if sig == signal.SIGXFSZ:
        return f"the file size limit of {limits.file_size_mb} MiB was reached"
    return ""


def explain_error(ename: str, evalue: str, limits: Limits) -> str:
    """The sandbox limit behind an exception raised in the kernel ('' when none)."""
    if ename in ("MemoryError", "_ArrayMemoryError") or "std::bad_alloc" in evalue:
        return f"the memory limit of {_gib(limits.memory_mb)} was reached"
    if "[Errno 27]" in evalue:  # EFBIG
        return f"the file size limit of {limits.file_size_mb} MiB was reached"
    if "[Errno 28]" in evalue:  # ENOSPC in the sandbox's tmpfs
        return f"the sandbox's {limits.disk_mb} MiB of disk space ran out"
    if "[Errno 24]" in evalue:  # EMFILE
        return f"the limit of {limits.open_files} open files was reached"
    if "[Errno 11]" in evalue and ename in ("BlockingIOError", "OSError", "RuntimeError"):
        return f"the limit of {limits.processes} processes and threads was reached"
    return ""


def _gib(mb: int) -> str:
    return f"{mb / 1024:g} GiB" if mb % 1024 == 0 else f"{mb} MiB"
