"""The ``cnncourse`` command.

    cnncourse release [--solutions DIR] [--exercises DIR] [--check]
    cnncourse grade --source solutions/X.ipynb [--jobs N] [--timeout S]
                    [--notebook-timeout S] [--out DIR] SUBMISSION...
    cnncourse check NOTEBOOK [--source SRC] [--timeout S]
    cnncourse gradescope solutions/X.ipynb [-o X-autograder.zip] [--sandbox on|off|auto]
    cnncourse doctor

Importing this module is cheap: nothing heavy (TensorFlow, nbclient) loads until a
subcommand runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds; got {text}")
    return value


def _jobs(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {text}")
    return value


def _size_mb(text: str) -> int:
    """A size in MiB: ``4096``, ``4096M``, ``4G`` or ``4GiB``."""
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2}.get(raw[-1:], None)
    try:
        value = float(raw[:-1]) * scale if scale else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 4G or 512M; got {text}") from None
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 MiB; got {text}")
    return int(value)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {text}")
    return value


def add_sandbox_options(p: argparse.ArgumentParser) -> None:
    """The sandbox options of ``grade`` (the defaults come from :class:`~.grading.runner.Limits`)."""
    from .grading.runner import Limits

    d = Limits()
    g = p.add_argument_group(
        "sandbox", "where and with what each grading kernel runs (docs/grading.md, 'The sandbox')"
    )
    g.add_argument(
        "--sandbox",
        choices=("on", "off", "auto"),
        default="on",
        help="on (default): every kernel runs under bubblewrap with the limits "
        "below, and grading stops if that is impossible; auto: the sandbox "
        "when bubblewrap works, else unprotected; off: unprotected",
    )
    g.add_argument(
        "--memory",
        type=_size_mb,
        default=d.memory_mb,
        metavar="SIZE",
        help=f"address space of a kernel (default {d.memory_mb // 1024}G)",
    )
    g.add_argument(
        "--cpu-time",
        type=_count,
        default=d.cpu_seconds,
        metavar="S",
        help=f"CPU seconds each process may use (default {d.cpu_seconds})",
    )
    g.add_argument(
        "--processes",
        type=_count,
        default=d.processes,
        metavar="N",
        help=f"processes and threads in one sandbox (default {d.processes})",
    )
    g.add_argument(
        "--open-files",
        type=_count,
        default=d.open_files,
        metavar="N",
        help=f"open files per process (default {d.open_files})",
    )
    g.add_argument(
        "--file-size",
        type=_size_mb,
        default=d.file_size_mb,
        metavar="SIZE",
        help=f"largest file a kernel may write (default {d.file_size_mb}M)",
    )
    g.add_argument(
        "--disk",
        type=_size_mb,
        default=d.disk_mb,
        metavar="SIZE",
        help="writable space in the sandbox: /tmp, home and the copy of the "
        f"submission's folder (default {d.disk_mb // 1024}G)",
    )


def sandbox_limits(args) -> dict:
    """The :class:`~.grading.runner.Limits` fields set by :func:`add_sandbox_options`."""
    return {
        "sandbox": args.sandbox,
        "memory_mb": args.memory,
        "cpu_seconds": args.cpu_time,
        "processes": args.processes,
        "open_files": args.open_files,
        "file_size_mb": args.file_size,
        "disk_mb": args.disk,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnncourse", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("release", help="write exercises/ from solutions/")
    p.add_argument("--solutions", type=Path, default=Path("solutions"))
    p.add_argument("--exercises", type=Path, default=Path("exercises"))
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if exercises/ differs from a fresh release",
    )

    p = sub.add_parser("grade", help="grade submissions against an instructor notebook")
    p.add_argument("--source", type=Path, required=True, help="the solutions/ notebook")
    p.add_argument(
        "submissions",
        type=Path,
        nargs="+",
        metavar="SUBMISSION",
        help="notebooks, folders of notebooks, or folders of student folders",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=min(4, os.cpu_count() or 1),
        help="submissions graded at once (default: CPU count, at most 4)",
    )
    p.add_argument("--timeout", type=_positive, default=60.0, help="seconds each cell may run (default 60)")
    p.add_argument(
        "--notebook-timeout",
        type=_positive,
        default=600.0,
        help="seconds a whole notebook may run (default 600)",
    )
    p.add_argument("--out", type=Path, default=None, help="output folder (default: gradebook/<source name>)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    add_sandbox_options(p)

    p = sub.add_parser("check", help="run a notebook's public tests and show its score")
    p.add_argument("notebook", type=Path)
    p.add_argument(
        "--source",
        type=Path,
        default=None,
        help="the original exercise notebook, to restore edited test cells (default: the notebook itself)",
    )
    p.add_argument("--timeout", type=_positive, default=120.0, help="seconds each cell may run (default 120)")

    p = sub.add_parser(
        "progress",
        help="public-check score of every exercise notebook in a folder, and what is not started yet",
    )
    p.add_argument("folder", type=Path, nargs="?", default=Path("exercises"), help="default: exercises")
    p.add_argument("--jobs", "-j", type=_jobs, default=2, help="notebooks run at once (default 2)")
    p.add_argument("--rerun", action="store_true", help="run every started notebook, not only changed ones")
    p.add_argument("--timeout", type=_positive, default=120.0, help="seconds each cell may run (default 120)")

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip for one notebook")
    p.add_argument("source", type=Path, help="the solutions/ notebook")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="the zip to write (default: <source name>-autograder.zip)",
    )
    p.add_argument("--timeout", type=_positive, default=60.0, help="seconds each cell may run (default 60)")
    p.add_argument(
        "--notebook-timeout",
        type=_positive,
        default=480.0,
        help="seconds a whole notebook may run (default 480: Gradescope stops an "
        "autograder after 10 minutes unless you raise its limit)",
    )
    add_sandbox_options(p)

    sub.add_parser("doctor", help="print versions and the hardware this machine offers")
    return parser


def cmd_release(args) -> int:
    from .grading.notebook_format import NotebookError
    from .grading.release import release_dir

    try:
        report = release_dir(args.solutions, args.exercises, check=args.check)
    except (NotebookError, FileNotFoundError) as exc:
        print(f"cnncourse release: {exc}", file=sys.stderr)
        return 2
    verb = "would write" if args.check else "wrote"
    for path in report.written:
        print(f"{verb} {path}")
    for path in report.removed:
        print(f"{'would remove' if args.check else 'removed'} {path} (no source)")
    if args.check and report.changed:
        print(f"{args.exercises}/ is out of date: run `cnncourse release`", file=sys.stderr)
        return 1
    print(
        f"{len(report.unchanged)} unchanged, {len(report.written)} written"
        + (" (check only)" if args.check else "")
    )
    return 0


def cmd_grade(args) -> int:
    from .grading.batch import grade_batch
    from .grading.notebook_format import NotebookError, grade_id
    from .grading.runner import Limits
    from .grading.submissions import find_submissions

    out = args.out or Path("gradebook") / args.source.stem
    limits = Limits(
        cell_timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        threads=max(1, (os.cpu_count() or 1) // args.jobs),
        **sandbox_limits(args),
    )
    try:
        from .grading.grade import load_source

        nb, _ = load_source(args.source)
    except NotebookError as exc:
        print(f"cnncourse grade: {exc}", file=sys.stderr)
        return 2
    gids = [grade_id(c) for c in nb.cells if grade_id(c)]
    subs = find_submissions(args.submissions, args.source.name, gids)
    if not subs:
        print("cnncourse grade: no submissions found", file=sys.stderr)
        return 2
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    from .grading.sandbox import SandboxUnavailable, problem
    from .grading.status import Status

    if args.sandbox == "auto" and (why := problem()):
        print(f"cnncourse grade: no sandbox ({why}); grading UNPROTECTED", file=sys.stderr)
    try:
        results = grade_batch(args.source, subs, out, jobs=args.jobs, limits=limits, progress=progress)
    except SandboxUnavailable as exc:
        print(f"cnncourse grade: {exc}. Nothing was graded.", file=sys.stderr)
        return 2
    total = results[0].max_score
    graded = sum(r.status == Status.GRADED for r in results)
    mean = sum(r.score for r in results) / len(results)
    print(
        f"{len(results)} submissions ({graded} graded, {len(results) - graded} not); "
        f"mean {mean:.2f} / {total:g}; sandbox: {results[0].sandbox}"
    )
    print(f"gradebook: {out / 'gradebook.csv'}; per student: {out / 'results'}/, {out / 'feedback'}/")
    return 0


def cmd_check(args) -> int:
    from .grading.notebook_format import NotebookError
    from .grading.progress import check_notebook
    from .grading.report import check_text
    from .grading.status import Status

    try:
        result = check_notebook(args.notebook, args.source, args.timeout)
    except NotebookError as exc:
        print(f"cnncourse check: {exc}", file=sys.stderr)
        return 2
    print(check_text(result))
    if result.status != Status.GRADED:
        return 2
    return 0 if result.score == result.max_score else 1


def cmd_progress(args) -> int:
    from .grading.progress import run_progress

    if not args.folder.is_dir():
        print(f"cnncourse progress: {args.folder} is not a folder", file=sys.stderr)
        return 2
    text, status = run_progress(args.folder, jobs=args.jobs, rerun=args.rerun, timeout=args.timeout)
    print(text)
    return status


def cmd_gradescope(args) -> int:
    from .grading.gradescope import build_autograder
    from .grading.notebook_format import NotebookError

    output = args.output or Path(f"{args.source.stem}-autograder.zip")
    settings = {"timeout": args.timeout, "notebook_timeout": args.notebook_timeout, **sandbox_limits(args)}
    try:
        names = build_autograder(args.source, output, settings=settings)
    except (NotebookError, FileNotFoundError) as exc:
        print(f"cnncourse gradescope: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {output} ({len(names)} files, {output.stat().st_size / 1024:.0f} KiB): "
        "upload it on Gradescope's Configure Autograder page. It holds the hidden tests: "
        "do not share it with learners."
    )
    return 0


def cmd_doctor(args) -> int:
    print(f"python      {platform.python_version()} ({sys.executable})")
    print(f"platform    {platform.platform()}")
    print(f"cpus        {os.cpu_count()}")
    for name in ("numpy", "nbclient", "ipykernel"):
        try:
            module = __import__(name)
            print(f"{name:<11} {module.__version__}")
        except ImportError:
            print(f"{name:<11} not installed")
    try:
        tf = _tensorflow()
    except ImportError:
        print("tensorflow  not installed")
        return 0
    print(f"tensorflow  {tf.__version__}")
    gpus = tf.config.list_physical_devices("GPU")
    print(f"gpu         {', '.join(g.name for g in gpus) if gpus else 'none visible'}")
    if not gpus:
        print(f"            why: {why_no_gpu(_built_with_cuda(tf), nvidia_driver())}")
    return 0


NVIDIA_DRIVER_FILE = "/proc/driver/nvidia/version"


def nvidia_driver() -> str | None:
    """The NVIDIA kernel driver's version line, ``"nvidia-smi"`` when only that tool is
    found, or None when this machine shows no sign of an NVIDIA driver."""
    import shutil

    try:
        with open(NVIDIA_DRIVER_FILE) as f:
            return f.readline().strip() or NVIDIA_DRIVER_FILE
    except OSError:
        return "nvidia-smi" if shutil.which("nvidia-smi") else None


def _built_with_cuda(tf) -> bool | None:
    """Whether this TensorFlow build can use CUDA GPUs; None when it cannot say."""
    try:
        return bool(tf.test.is_built_with_cuda())
    except AttributeError:
        return None


def why_no_gpu(built_with_cuda: bool | None, driver: str | None) -> str:
    """Why TensorFlow sees no GPU, given whether it was built with CUDA and the NVIDIA
    driver found (see :func:`nvidia_driver`), with what to do about it."""
    if built_with_cuda is False:
        return (
            "this TensorFlow is a CPU-only build (tf.test.is_built_with_cuda() is False); "
            "GPUs need the Linux x86-64 tensorflow wheel: `make setup GPU=1`"
        )
    if driver is None:
        return (
            f"no NVIDIA driver found (no {NVIDIA_DRIVER_FILE}, no nvidia-smi on PATH); "
            "training runs on the CPU"
        )
    if built_with_cuda is None:
        return f"an NVIDIA driver is present ({driver}) but this TensorFlow cannot say if it supports CUDA"
    return (
        f"an NVIDIA driver is present ({driver}) and TensorFlow is built with CUDA, but it "
        "cannot load the CUDA libraries: `make setup GPU=1` installs them (tensorflow[and-cuda])"
    )


def _tensorflow():
    """TensorFlow, imported only when doctor needs it (so `import cnncourse.cli` stays light)
    and quietly, without its C++ start-up log; one already imported is used as it is."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    from cnncourse.keras._tf import tf

    return tf


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "release": cmd_release,
        "grade": cmd_grade,
        "check": cmd_check,
        "progress": cmd_progress,
        "gradescope": cmd_gradescope,
        "doctor": cmd_doctor,
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
