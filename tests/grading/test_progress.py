"""``cnncourse progress``: a learner's public-check score per notebook, and what is left."""

from __future__ import annotations

import json
import shutil

import pytest

from cnncourse.cli import main
from cnncourse.grading import progress as P
from cnncourse.grading.grade import SubmissionResult
from cnncourse.grading.grade import TestResult as CellResult
from cnncourse.grading.notebook_format import SOLUTION, TEST, cell_kind, grade_id
from cnncourse.grading.status import Status

from .grading_helpers import EXERCISES, SOLUTIONS, load, save

CONV, POOL, ACT = "02_convolution.ipynb", "04_pooling.ipynb", "03_activations.ipynb"


def _answered(name: str, *answers: str) -> dict:
    """The released notebook ``name`` with the solution cells ``answers`` solved."""
    nb = load(EXERCISES / name)
    solved = {grade_id(c): c for c in load(SOLUTIONS / name)["cells"] if cell_kind(c) == SOLUTION}
    for cell in nb["cells"]:
        if grade_id(cell) in answers:
            lines = solved[grade_id(cell)]["source"]
            cell["source"] = [
                line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
            ]
    return nb


def _no_runs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("nothing should run")

    monkeypatch.setattr(P, "ProcessPoolExecutor", refuse)


def test_every_released_part_is_not_started_and_every_solution_part_is():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        solution, released = P.parts_of(load(path)), P.parts_of(load(EXERCISES / path.name))
        tests = [c for c in load(path)["cells"] if cell_kind(c) == TEST]
        assert [p.grade_id for p in released] == [grade_id(c) for c in tests], path.name
        assert [p.points for p in released] == [float(c["metadata"]["nbgrader"]["points"]) for c in tests]
        assert all(p.started for p in solution) and not any(p.started for p in released), path.name
        assert all(p.answers for p in released), path.name


def test_a_part_is_started_when_one_of_its_answers_is(tmp_path):
    parts = {p.grade_id: p for p in P.parts_of(_answered(CONV, "correlate2d"))}
    correlate = next(p for p in parts.values() if "correlate2d" in p.answers)
    assert correlate.started
    assert sum(p.started for p in parts.values()) == 1


def test_a_folder_of_untouched_exercises_is_reported_without_running_anything(tmp_path, monkeypatch):
    _no_runs(monkeypatch)
    for name in (CONV, ACT, POOL):
        shutil.copy(EXERCISES / name, tmp_path / name)
    (tmp_path / "notes.ipynb").write_text("not json")
    entries = P.progress(tmp_path)
    assert [e.name for e in entries] == ["02_convolution", "03_activations", "04_pooling", "notes"]
    assert [e.started for e in entries[:3]] == [False, False, False]
    assert [e.max_score for e in entries[:3]] == [11, 10, 12]
    assert entries[3].problem.startswith("notes.ipynb is not JSON")
    text = P.progress_text(tmp_path, entries, 0.1, 0)
    lines = text.splitlines()
    assert lines[0].startswith(f"Progress in {tmp_path}/: Public checks only")
    assert lines[3].split() == ["02_convolution", "0", "/", "11", "0", "of", "5", "everything"]
    assert lines[6].startswith("notes") and "cannot check:" in lines[6]
    assert (
        "Total: 0 of 33 points on the public checks; 0 of 14 parts passed; 0 of 3 notebooks started." in text
    )


def test_a_cached_result_is_used_while_the_notebook_is_unchanged(tmp_path, monkeypatch):
    nb = _answered(POOL, *[grade_id(c) for c in load(SOLUTIONS / POOL)["cells"] if cell_kind(c) == SOLUTION])
    path = save(nb, tmp_path / POOL)
    tests = [CellResult(p.grade_id, p.points, p.points, Status.PASSED, "") for p in P.parts_of(nb)]
    total = sum(t.max_points for t in tests)
    result = SubmissionResult("04_pooling", str(path), str(path), Status.GRADED, total, total, tests)
    cache = {POOL: {"fingerprint": P._fingerprint(json.loads(path.read_text())), "result": result.to_dict()}}
    (tmp_path / ".cnncourse").mkdir()
    (tmp_path / P.CACHE).write_text(json.dumps(cache))
    _no_runs(monkeypatch)
    (entry,) = P.progress(tmp_path)
    assert entry.cached and entry.score == total == entry.max_score and entry.passed() == len(tests)

    nb["cells"][-1]["source"] = ["# an edit"]
    save(nb, path)
    with pytest.raises(AssertionError, match="nothing should run"):
        P.progress(tmp_path)  # changed since the cached run: it must run again


@pytest.mark.slow
def test_progress_runs_the_started_notebooks_and_says_what_is_left(tmp_path, capsys):
    save(_answered(CONV, "correlate2d", "output-size"), tmp_path / CONV)
    shutil.copy(EXERCISES / ACT, tmp_path / ACT)
    answers = [grade_id(c) for c in load(SOLUTIONS / POOL)["cells"] if cell_kind(c) == SOLUTION]
    save(_answered(POOL, *answers), tmp_path / POOL)

    assert main(["progress", str(tmp_path)]) == 1  # not everything passes yet
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[3:6]}
    assert rows["02_convolution"].split()[1:6] == ["4", "/", "11", "2", "of"]
    assert rows["02_convolution"].endswith("start kernels, conv2d-forward, conv-params")
    assert rows["03_activations"].endswith("everything")
    assert rows["04_pooling"].split()[1:7] == ["12", "/", "12", "5", "of", "5"]
    assert (
        "Total: 16 of 33 points on the public checks; 7 of 14 parts passed; 2 of 3 notebooks started." in out
    )
    assert "Ran 2 notebooks" in out

    assert main(["progress", str(tmp_path)]) == 1
    assert "Ran 0 notebooks" in capsys.readouterr().out  # both came from the cache

    broken = _answered(POOL, *answers)
    for cell in broken["cells"]:
        if grade_id(cell) == "max-pool-forward":
            cell["source"] = ["def max_pool_forward(x, pool_size=2, stride=None):\n", "    return x"]
    save(broken, tmp_path / POOL)
    assert main(["progress", str(tmp_path)]) == 1
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("04_pooling"))
    assert "fix " in row and "start" not in row


def test_progress_needs_a_folder(tmp_path, capsys):
    assert main(["progress", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
