"""A Gradescope autograder for one exercise notebook.

``cnncourse gradescope solutions/X.ipynb -o X-autograder.zip`` writes a zip in the layout
of Gradescope's "zip file upload" autograders:

- ``setup.sh``: run once, as root, when Gradescope builds the image: installs
  bubblewrap and Python 3.11 with apt, then the course into a virtual environment
  outside ``/autograder``, with the versions pinned in ``lock.txt``;
- ``run_autograder``: run for every submission: ``python -m cnncourse.grading.gradescope
  run``, which grades the one notebook in ``/autograder/submission`` with ``cnncourse
  grade`` and writes ``/autograder/results/results.json``, whatever happens;
- ``autograder.json`` (the grading settings), ``X.ipynb`` (the source notebook, hidden
  tests included), ``lock.txt`` and ``course/`` (``pyproject.toml``, ``README.md`` and
  the ``cnncourse`` package).

The zip is the same, byte for byte, for the same inputs (sorted entries, fixed times and
permissions). It holds the hidden tests, so it is for instructors only; the learner's
kernel runs in the sandbox, which does not see ``/autograder``.

The root (``/autograder``) and the Python to grade with can be moved with the
environment variables ``AUTOGRADER_ROOT`` and ``CNNCOURSE_PYTHON`` (or
``CNNCOURSE_VENV``), which is how the tests run ``run_autograder`` outside Gradescope.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from .atomic import write_bytes, write_text

CONFIG = "autograder.json"
LOCK = "lock.txt"
COURSE = "course"
DEFAULT_ROOT = "/autograder"
DEFAULT_VENV = "/opt/cnncourse/venv"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
MARGIN_S = 120.0  # on top of the notebook limit, before run_autograder stops the grader
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX"}

SETUP_SH = r"""#!/usr/bin/env bash
# cnncourse autograder, built by `cnncourse gradescope`. Gradescope runs this once, as root,
# when it builds the autograder image (Ubuntu). It installs bubblewrap (the grading
# sandbox) and Python 3.11, then the course with the versions pinned in lock.txt, into a
# virtual environment outside /autograder, where the sandboxed kernel can read it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${CNNCOURSE_VENV:-__VENV__}"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

apt-get update -q
apt-get install -y -q --no-install-recommends bubblewrap util-linux ca-certificates
if ! command -v python3.11 >/dev/null 2>&1; then
    apt-get install -y -q --no-install-recommends python3.11 python3.11-venv \
        || echo "setup.sh: apt has no python3.11; using python3 if it is 3.11 or newer" >&2
fi
PYTHON=""
for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON="$(command -v "$candidate")"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    echo "setup.sh: the course needs Python 3.11 or newer; choose the Ubuntu 22.04 base image" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then  # Ubuntu ships venv apart
    apt-get install -y -q --no-install-recommends \
        "python3.$("$PYTHON" -c 'import sys; print(sys.version_info[1])')-venv"
fi

rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV"
__PIP__"$VENV/bin/python" -m pip install -q -c "$HERE/lock.txt" "$HERE/course"
# Fails the build now, not at the first submission, if the install is broken.
"$VENV/bin/python" -c "import cnncourse.grading.gradescope, nbclient, ipykernel"
chmod -R a+rX "$VENV"
echo "setup.sh: installed the course with $("$VENV/bin/python" --version) in $VENV"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# cnncourse autograder, built by `cnncourse gradescope`. Gradescope runs this for every
# submission. It grades the notebook in submission/ against the source notebook in
# source/ and always writes results/results.json: when grading is impossible, with a
# score of 0 and the reason.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${CNNCOURSE_PYTHON:-${CNNCOURSE_VENV:-__VENV__}/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
cd "$ROOT" || exit 1
rm -f "$RESULTS"
"$PYTHON" -m cnncourse.grading.gradescope run --root "$ROOT"
code=$?
if [ "$code" -ne 0 ] || [ ! -s "$RESULTS" ]; then
    echo "run_autograder: the grader exited with code $code without results; scoring 0"
    cat > "$RESULTS" <<'JSON'
{"score": 0.0, "execution_time": 0,
 "output": "The autograder could not start, so this notebook scores 0 for now.\nPlease tell your instructor.",
 "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
 "extra_data": {"status": "error"}, "tests": []}
JSON
fi
exit 0
"""


# --------------------------------------------------------------------------- building


def project_root() -> Path:
    """The course checkout this package was imported from (it has the lock file)."""
    return Path(__file__).resolve().parents[2]


def _pip_version(project: Path) -> str | None:
    """The pip version the Makefile pins (``PIP_VERSION := X``), if any."""
    try:
        text = (project / "Makefile").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^PIP_VERSION\s*:?=\s*(\S+)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def _package_files(project: Path) -> list[Path]:
    """The files of the ``cnncourse`` package (no caches, no hidden files), relative."""
    files = []
    for path in sorted((project / "cnncourse").rglob("*")):
        rel = path.relative_to(project)
        if (
            path.is_file()
            and not path.is_symlink()
            and path.suffix not in (".pyc", ".pyo")
            and not any(p in _SKIP_PARTS or p.startswith(".") for p in rel.parts)
        ):
            files.append(rel)
    return files


def autograder_files(
    source: Path, *, project: Path | None = None, settings: dict | None = None, venv: str = DEFAULT_VENV
) -> dict[str, tuple[bytes, bool]]:
    """Every file of the zip: ``{name: (content, executable)}``.

    Validates the source notebook first (raises :class:`~.notebook_format.NotebookError`)
    and needs a course checkout (``project``, default: the one holding this package) with
    ``pyproject.toml``, ``README.md``, ``requirements/lock.txt`` and ``cnncourse/``.
    """
    from .grade import load_source

    source = Path(source)
    project = Path(project) if project else project_root()
    load_source(source)
    needed = [
        project / "pyproject.toml",
        project / "README.md",
        project / "requirements" / "lock.txt",
        project / "cnncourse" / "__init__.py",
    ]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"not a course checkout (missing {', '.join(missing)}); "
            "run `cnncourse gradescope` from a clone of the course"
        )
    pip = _pip_version(project)
    pip_line = f'"$VENV/bin/python" -m pip install -q "pip=={pip}"\n' if pip else ""
    config = {"notebook": source.name, "venv": venv, **(settings or {})}
    files: dict[str, tuple[bytes, bool]] = {
        "setup.sh": (SETUP_SH.replace("__VENV__", venv).replace("__PIP__", pip_line).encode(), True),
        "run_autograder": (RUN_AUTOGRADER.replace("__VENV__", venv).encode(), True),
        CONFIG: ((json.dumps(config, indent=1, sort_keys=True) + "\n").encode(), False),
        source.name: (source.read_bytes(), False),
        LOCK: ((project / "requirements" / "lock.txt").read_bytes(), False),
        f"{COURSE}/pyproject.toml": ((project / "pyproject.toml").read_bytes(), False),
        f"{COURSE}/README.md": ((project / "README.md").read_bytes(), False),
    }
    for rel in _package_files(project):
        files[f"{COURSE}/{rel.as_posix()}"] = ((project / rel).read_bytes(), False)
    return files


def zip_bytes(files: dict[str, tuple[bytes, bool]]) -> bytes:
    """A zip of ``files`` that depends on nothing else: sorted names, one fixed time,
    Unix permissions 0755 or 0644."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(files):
            data, executable = files[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3  # Unix, so that the permissions below are read
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def build_autograder(source: Path, output: Path, **kwargs) -> list[str]:
    """Write the autograder zip for ``source`` to ``output``; returns its file names.

    Keyword arguments as in :func:`autograder_files`.
    """
    files = autograder_files(source, **kwargs)
    write_bytes(Path(output), zip_bytes(files))
    return sorted(files)


# --------------------------------------------------------------------------- grading


def _notebooks(folder: Path) -> list[Path]:
    """The notebooks a learner uploaded (in sub-folders too; no checkpoints, no hidden
    files, and no links: a link to the source notebook must not be graded as the upload)."""
    if not folder.is_dir():
        return []
    inside = folder.resolve()
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if p.is_file()
        and not p.is_symlink()
        and p.resolve().is_relative_to(inside)
        and not any(part in _SKIP_PARTS or part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _uploaded(folder: Path) -> str:
    try:
        names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    except OSError:
        names = []
    if not names:
        return "nothing was uploaded"
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"uploaded: {shown}"


def _grade_command(python: str, source: Path, notebook: Path, out: Path, config: dict) -> list[str]:
    command = [
        python,
        "-m",
        "cnncourse.cli",
        "grade",
        "--source",
        str(source),
        str(notebook),
        "--jobs",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--sandbox",
        str(config.get("sandbox", "on")),
    ]
    options = {
        "timeout": "--timeout",
        "notebook_timeout": "--notebook-timeout",
        "memory_mb": "--memory",
        "cpu_seconds": "--cpu-time",
        "processes": "--processes",
        "open_files": "--open-files",
        "file_size_mb": "--file-size",
        "disk_mb": "--disk",
    }
    for key, flag in options.items():
        if config.get(key) is not None:
            command += [flag, f"{config[key]:g}" if isinstance(config[key], float) else str(config[key])]
    return command


def _run(command: list[str], timeout: float, cwd: Path) -> tuple[int | None, str]:
    """Run ``command`` in its own process group; ``(exit code or None on timeout, stderr)``."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=cwd,
            start_new_session=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        err.seek(0)
        return code, err.read()


def grade_submission(root: Path, python: str | None = None) -> dict:
    """Grade what Gradescope put in ``root/submission``; returns the ``results.json`` data.

    Never raises for anything a submission does: a missing or second notebook, an
    unreadable file, a grader that fails or a sandbox that cannot start all give a score
    of 0 and the reason. Prints what the instructor may need (Gradescope shows stdout to
    instructors only).
    """
    from .assemble import build_plan
    from .grade import failed_result, load_source
    from .report import gradescope_json
    from .status import Status

    started = time.monotonic()
    python = python or sys.executable
    source_dir, submission_dir = root / "source", root / "submission"
    config = json.loads((source_dir / CONFIG).read_text(encoding="utf-8"))
    source = source_dir / config["notebook"]
    nb, max_score = load_source(source)
    template = build_plan(nb, None)

    def failure(status: Status, reason: str, submission: Path | None = None) -> dict:
        result = failed_result(
            source, "submission", str(submission) if submission else None, status, reason, max_score, template
        )
        result.seconds = time.monotonic() - started
        print(f"run_autograder: not graded: {reason}")
        return gradescope_json(result)

    notebooks = _notebooks(submission_dir)
    if not notebooks:
        return failure(
            Status.MISSING,
            f"no notebook was submitted ({_uploaded(submission_dir)}); upload your {source.name}",
        )
    if len(notebooks) > 1:
        names = ", ".join(str(p.relative_to(submission_dir)) for p in notebooks)
        return failure(
            Status.MISSING,
            f"{len(notebooks)} notebooks were submitted ({names}); upload only your {source.name}",
        )
    notebook = notebooks[0]
    with tempfile.TemporaryDirectory(prefix="cnncourse-gradescope-") as tmp:
        out = Path(tmp) / "out"
        command = _grade_command(python, source, notebook, out, config)
        limit = float(config.get("notebook_timeout") or 600) + MARGIN_S
        print("run_autograder: " + " ".join(command))
        code, stderr = _run(command, limit, Path(tmp))
        if stderr.strip():
            print("--- cnncourse grade, stderr ---\n" + stderr.rstrip())
        if (out / "grader.log").is_file():
            print("--- grader.log ---\n" + (out / "grader.log").read_text(errors="replace"))
        found = sorted((out / "results").glob("*.json")) if code == 0 else []
        if len(found) == 1:
            data = json.loads(found[0].read_text(encoding="utf-8"))
            print(f"run_autograder: {data.get('score')} / {max_score:g} points")
            return data
    if code is None:
        why = f"grading took longer than {limit:g} s and was stopped"
    else:
        last = [line for line in stderr.splitlines() if line.strip()]
        why = last[-1].strip()[:500] if last else f"cnncourse grade exited with code {code}"
    return failure(
        Status.GRADER_ERROR,
        f"the autograder could not grade this notebook: {why}. "
        "This is not a problem with your notebook: please tell "
        "your instructor.",
        notebook,
    )


def run(root: Path, python: str | None = None) -> int:
    """``run_autograder``'s work: grade and write ``results/results.json``, always.

    Returns 0 when the file was written (with a score of 0 and the reason when grading
    failed), 1 when even that was impossible.
    """
    from .grade import SubmissionResult
    from .report import gradescope_json
    from .status import Status

    root = Path(root)
    results = root / "results" / "results.json"
    try:
        data = grade_submission(root, python)
    except Exception as exc:  # the autograder itself is broken: still give an answer
        traceback.print_exc(file=sys.stdout)
        reason = (
            f"the autograder failed before grading this notebook ({type(exc).__name__}). "
            "This is not a problem with your notebook: please tell your instructor."
        )
        data = gradescope_json(
            SubmissionResult("submission", None, "", Status.GRADER_ERROR, 0.0, 0.0, notes=[reason])
        )
    try:
        write_text(results, json.dumps(data, indent=1) + "\n")
    except OSError as exc:
        print(f"run_autograder: cannot write {results}: {exc}")
        return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cnncourse.grading.gradescope", description="Gradescope's side of the autograder."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade /autograder/submission, write results.json")
    p.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT))
    args = parser.parse_args(argv)
    return run(args.root)


if __name__ == "__main__":
    sys.exit(main())
