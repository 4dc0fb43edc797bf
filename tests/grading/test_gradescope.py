"""The Gradescope autograder: the zip, its setup.sh, and run_autograder in a fake /autograder.

run_autograder runs as Gradescope would run it, in a temporary root laid out like
Gradescope's (source/ holds the unpacked zip, submission/, results/), with this project's
virtual environment instead of the one setup.sh would build. Every results.json is checked
against the fields and types of Gradescope's published autograder specification.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cnncourse.cli import main
from cnncourse.grading.gradescope import CONFIG

from .grading_helpers import CONV, CONV_MAX, CONV_SOURCE, EXERCISES, ROOT, answered, hidden_lines

# ----------------------------------------------------------------- Gradescope's results.json

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_LEVEL = {
    "score": "number",
    "execution_time": "number",
    "output": "str",
    "output_format": "format",
    "test_output_format": "format",
    "test_name_format": "format",
    "visibility": "visibility",
    "stdout_visibility": "visibility",
    "extra_data": "dict",
    "tests": "list",
    "leaderboard": "list",
}
TEST_FIELDS = {
    "score": "number",
    "max_score": "number",
    "status": "status",
    "name": "str",
    "name_format": "format",
    "number": "str",
    "output": "str",
    "output_format": "format",
    "tags": "tags",
    "visibility": "visibility",
    "extra_data": "dict",
}


def _type_problem(where: str, value, kind: str) -> str | None:
    ok = {
        "number": lambda: isinstance(value, int | float) and not isinstance(value, bool),
        "str": lambda: isinstance(value, str),
        "dict": lambda: isinstance(value, dict),
        "list": lambda: isinstance(value, list),
        "format": lambda: isinstance(value, str) and value in FORMATS,
        "visibility": lambda: isinstance(value, str) and value in VISIBILITY,
        "status": lambda: value in ("passed", "failed"),
        "tags": lambda: isinstance(value, list) and all(isinstance(t, str) for t in value),
    }[kind]()
    return None if ok else f"{where}: {value!r} is not a valid {kind}"


def spec_problems(data) -> list[str]:
    """What in ``data`` does not follow Gradescope's results.json specification."""
    if not isinstance(data, dict):
        return ["results.json must hold a JSON object"]
    problems = [f"unknown top-level field {key!r}" for key in data if key not in TOP_LEVEL]
    problems += [
        p for key, kind in TOP_LEVEL.items() if key in data if (p := _type_problem(key, data[key], kind))
    ]
    tests = data.get("tests", [])
    if "score" not in data and not (tests and all("score" in t for t in tests if isinstance(t, dict))):
        problems.append("a top-level score is required unless every test has a score")
    for i, test in enumerate(tests if isinstance(tests, list) else []):
        if not isinstance(test, dict):
            problems.append(f"tests[{i}] is not an object")
            continue
        problems += [f"tests[{i}]: unknown field {key!r}" for key in test if key not in TEST_FIELDS]
        problems += [
            p
            for key, kind in TEST_FIELDS.items()
            if key in test
            if (p := _type_problem(f"tests[{i}].{key}", test[key], kind))
        ]
    for i, entry in enumerate(data.get("leaderboard", []) or []):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and "value" in entry
            and entry.get("order", "desc") in ("asc", "desc")
        ):
            problems.append(f"leaderboard[{i}] needs a name, a value and asc/desc order")
    return problems


def test_the_schema_check_catches_what_gradescope_rejects():
    assert spec_problems({"score": 1.0, "tests": []}) == []
    assert spec_problems({"tests": [{"score": 1}, {"name": "x", "status": "passed"}]})
    assert spec_problems({"score": "1"})
    assert spec_problems({"score": 1, "visibility": "sometimes"})
    assert spec_problems({"score": 1, "tests": [{"number": 1}]})
    assert spec_problems({"score": 1, "tests": [{"status": "partial"}]})
    assert spec_problems({"score": 1, "outputs": ""})


# ----------------------------------------------------------------- the zip


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("gradescope")
    zip_path = folder / "autograder.zip"
    assert main(["gradescope", str(CONV_SOURCE), "-o", str(zip_path)]) == 0
    unpacked = folder / "unpacked"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(unpacked)
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
        times = {info.date_time for info in zf.infolist()}
    for name, mode in modes.items():  # zipfile does not restore permissions
        (unpacked / name).chmod(stat.S_IMODE(mode))
    return {"zip": zip_path, "dir": unpacked, "modes": modes, "times": times}


def test_the_zip_has_gradescope_layout_and_only_what_grading_needs(autograder):
    names = set(autograder["modes"])
    assert {
        "setup.sh",
        "run_autograder",
        CONFIG,
        CONV,
        "lock.txt",
        "course/pyproject.toml",
        "course/README.md",
        "course/cnncourse/grading/gradescope.py",
    } <= names
    assert autograder["modes"]["setup.sh"] == autograder["modes"]["run_autograder"] == 0o100755
    assert all(
        mode == 0o100644
        for name, mode in autograder["modes"].items()
        if name not in ("setup.sh", "run_autograder")
    )
    assert [n for n in names if n.endswith(".ipynb")] == [CONV]  # no other notebook
    assert not [
        n
        for n in names
        if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("solutions/", "exercises/", "tests/"))
    ]
    assert autograder["times"] == {(1980, 1, 1, 0, 0, 0)}
    unpacked = autograder["dir"]
    assert (unpacked / CONV).read_bytes() == CONV_SOURCE.read_bytes()
    assert (unpacked / "lock.txt").read_bytes() == (ROOT / "requirements/lock.txt").read_bytes()
    config = json.loads((unpacked / CONFIG).read_text())
    assert config["notebook"] == CONV and config["sandbox"] == "on"
    assert config["notebook_timeout"] < 600  # Gradescope's default limit for a run


def test_the_zip_is_the_same_byte_for_byte(autograder, tmp_path):
    again = tmp_path / "again.zip"
    assert main(["gradescope", str(CONV_SOURCE), "-o", str(again)]) == 0
    assert again.read_bytes() == autograder["zip"].read_bytes()


def test_setup_installs_bubblewrap_and_the_locked_course_outside_autograder(autograder):
    setup = autograder["dir"] / "setup.sh"
    for script in (setup, autograder["dir"] / "run_autograder"):
        check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    text = setup.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert "apt-get install" in text and "bubblewrap" in text and "python3.11" in text
    assert '-m pip install -q -c "$HERE/lock.txt" "$HERE/course"' in text
    assert " -e " not in text  # a real install: the kernel never needs /autograder/source
    assert 'VENV="${CNNCOURSE_VENV:-/opt/cnncourse/venv}"' in text


def test_a_bad_source_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{}")
    assert main(["gradescope", str(bad), "-o", str(tmp_path / "x.zip")]) == 2
    assert "cnncourse gradescope:" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


# ----------------------------------------------------------------- run_autograder


def run_autograder(
    autograder: dict,
    tmp_path: Path,
    files: dict[str, bytes | dict | Path],
    python: str = sys.executable,
    path_prefix: Path | None = None,
) -> tuple[dict, str]:
    """Lay out a Gradescope root with ``files`` as the submission (a Path: a link to it),
    run run_autograder in it, check results.json against the specification; returns it
    and the stdout."""
    root = tmp_path / "autograder"
    shutil.copytree(autograder["dir"], root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, content in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            path.symlink_to(content)
        else:
            path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "CNNCOURSE_PYTHON": python}
    if path_prefix:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    run = subprocess.run(
        [str(root / "run_autograder")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    text = (root / "results" / "results.json").read_text()
    data = json.loads(text)
    assert spec_problems(data) == [], text
    return data, run.stdout + run.stderr


def _scores(data: dict) -> list[tuple[float, float, str]]:
    return [(t["score"], t["max_score"], t["status"]) for t in data["tests"]]


@pytest.mark.slow
def test_a_full_solution_gets_full_marks_and_cannot_see_the_autograder(autograder, tmp_path, sandbox_ready):
    # The learner's added cell looks for the autograder's files; a note would say if found.
    root = tmp_path / "autograder"
    probe = (
        f"import os\nfor p in {[str(root / 'source'), str(root / 'results')]!r}:\n"
        "    assert not os.path.exists(p), 'VISIBLE ' + p\n"
    )
    nb = answered()
    nb["cells"].insert(
        2, {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": probe}
    )
    data, log = run_autograder(autograder, tmp_path, {CONV: nb})
    assert data["score"] == CONV_MAX, data["output"]
    assert _scores(data) == [(1.0, 1.0, "passed"), (3.0, 3.0, "passed"), (2.0, 2.0, "passed")]
    assert "note:" not in data["output"] and "VISIBLE" not in json.dumps(data)
    assert data["extra_data"]["sandbox"] == "bubblewrap"
    assert "sandbox: bubblewrap" in data["output"]
    assert data["stdout_visibility"] == "hidden" and data["output_format"] == "text"
    assert "--sandbox on" in log


@pytest.mark.slow
def test_the_released_stub_gets_zero_without_hidden_test_code(autograder, tmp_path, sandbox_ready):
    data, _ = run_autograder(autograder, tmp_path, {CONV: (EXERCISES / CONV).read_bytes()})
    assert data["score"] == 0 and data["extra_data"]["status"] == "graded"
    assert [t["status"] for t in data["tests"]] == ["failed"] * 3
    first = data["tests"][0]["output"]
    assert first.startswith("NotImplementedError: return the number of window positions")
    assert first.index("NotImplementedError") < first.index("traceback") < first.index("Cell In")
    text = json.dumps(data)
    assert not [line for line in hidden_lines() if line in text]
    assert "AlexNet" not in text


@pytest.mark.slow
def test_an_unreadable_upload_scores_zero_with_the_reason(autograder, tmp_path, sandbox_ready):
    data, _ = run_autograder(autograder, tmp_path, {"homework.ipynb": b"print('hello')\n"})
    assert data["score"] == 0 and data["extra_data"]["status"] == "unreadable"
    assert "homework.ipynb is not JSON" in data["output"]
    assert all(t["score"] == 0 for t in data["tests"]) and len(data["tests"]) == 3


@pytest.mark.parametrize(
    ("files", "phrase"),
    [
        ({}, f"no notebook was submitted (nothing was uploaded); upload your {CONV}"),
        ({"answer.py": b"x = 1\n"}, "no notebook was submitted (uploaded: answer.py)"),
        ({CONV: Path("..") / "source" / CONV}, "no notebook was submitted"),  # a link to the key
        (
            {"a.ipynb": {}, "b/c.ipynb": {}},
            f"2 notebooks were submitted (a.ipynb, b/c.ipynb); upload only your {CONV}",
        ),
    ],
)
def test_no_notebook_or_two_notebooks_score_zero_with_the_reason(autograder, tmp_path, files, phrase):
    data, _ = run_autograder(autograder, tmp_path, files)
    assert data["score"] == 0 and phrase in data["output"]
    assert [t["score"] for t in data["tests"]] == [0, 0, 0]
    assert all(t["output"].startswith("not run: ") for t in data["tests"])


def test_a_sandbox_that_cannot_start_scores_zero_with_the_reason(autograder, tmp_path):
    # A bwrap that cannot create namespaces, as in a container that forbids them.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    (fake / "bwrap").chmod(0o755)
    data, _ = run_autograder(autograder, tmp_path, {CONV: answered()}, path_prefix=fake)
    assert data["score"] == 0 and data["extra_data"]["status"] == "error"
    assert "the autograder could not grade this notebook" in data["output"]
    assert "sandbox cannot run" in data["output"]
    assert "please tell your instructor" in data["output"]


def test_a_broken_grader_still_writes_results(autograder, tmp_path):
    data, log = run_autograder(autograder, tmp_path, {CONV: answered()}, python="/bin/false")
    assert data["score"] == 0 and data["tests"] == []
    assert "could not start" in data["output"]
    assert "exited with code 1 without results" in log
