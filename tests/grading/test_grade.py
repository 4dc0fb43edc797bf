"""Grading one notebook: scoring rules, limits, the kernel's environment."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from cnncourse.grading import batch as batch_module
from cnncourse.grading.assemble import Step
from cnncourse.grading.grade import grade_notebook, parse_points, score_test
from cnncourse.grading.notebook_format import Segment
from cnncourse.grading.runner import Limits, Outcome
from cnncourse.grading.submissions import Submission

from .grading_helpers import CONV, CONV_SOURCE, add_cell_after, answered, save

FAST = Limits(cell_timeout=10, notebook_timeout=60, probe_timeout=3)


# nbgrader 0.9 (utils.get_partial_grade) reads float() of the text as points, out of 4 here.
@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("0.5", 0.5),
        ("2.25", 2.25),
        ("4", 4.0),
        ("4.0", 4.0),
        ("0", 0.0),
        ("-0.0", 0.0),
        (" 1e-06\n", 1e-06),
        ("1_0e-1", 1.0),
        (None, 4),
        ("np.float64(0.25)", 4),
        ("True", 4),
        ("np.False_", 4),
        ("'0.5'", 4),
        ("None", 4),
        ("[1]", 4),
        ("  ", 4),
        ("nan", 4),
        ("-1", 4),
        ("-inf", 4),
    ],
)
def test_parse_points_reads_the_value_as_nbgrader_does(text, points):
    got, note = parse_points(text, 4.0)
    assert got == points and isinstance(got, float | int)
    assert ("as in nbgrader" in note) == (points == 4 and text not in (None, "4", "4.0"))


@pytest.mark.parametrize("text", ["4.5", "inf", "1e9", ""])
def test_parse_points_rejects_more_than_the_cell_is_worth(text):
    with pytest.raises(ValueError, match=r"more than the 4 the cell is worth|empty text"):
        parse_points(text, 4.0)


def _score(value=None, status="ok", hidden=False, ename="", evalue="", stderr="", hidden_stderr=False):
    step = Step("test", "t", [Segment("x", hidden)], points=4)
    outcome = Outcome(
        status,
        ename=ename,
        evalue=evalue,
        value=value,
        hidden=hidden,
        stderr=stderr,
        hidden_stderr=hidden_stderr,
    )
    return score_test(step, outcome, FAST)


def test_scoring_rules():
    assert (_score().points, _score().status) == (4, "passed")
    assert (_score("1.0").points, _score("1.0").status) == (1, "partial")
    assert _score("1.0").message == "partial credit: 1 of 4 points"
    assert (_score("0.0").points, _score("0.0").status) == (0, "failed")
    assert (_score("4.0").points, _score("4.0").status, _score("4.0").message) == (4, "passed", "passed")
    assert (_score("False").points, _score("False").status) == (4, "passed")
    assert "showed 'False', not a number of points" in _score("False").message
    assert _score("-1").points == 4
    bad = _score("4.5")
    assert (bad.points, bad.status) == (0, "failed")
    assert bad.message.startswith(
        "this test is broken, not your answer: the test's last line "
        "showed 4.5 points, more than the 4 the cell is worth"
    )
    assert _score("'a string'").points == 4
    hidden = _score(status="error", hidden=True, ename="AssertionError", evalue="secret 42")
    assert hidden.points == 0 and "hidden tests failed (AssertionError)" in hidden.message
    assert "secret" not in hidden.message
    public = _score(status="error", ename="AssertionError", evalue="shape differs")
    assert public.message == "AssertionError: shape differs"


def test_a_test_that_writes_to_stderr_scores_zero_as_in_nbgrader():
    warned = _score("4.0", stderr="\x1b[31m<ipython>:3: RuntimeWarning: overflow encountered in exp\x1b[0m\n")
    assert (warned.points, warned.status) == (0, "failed")
    assert warned.message.startswith("this test wrote to stderr")
    assert "scores 0, as in nbgrader" in warned.message
    assert warned.message.endswith(":\n<ipython>:3: RuntimeWarning: overflow encountered in exp")
    hidden = _score(hidden_stderr=True)
    assert (hidden.points, hidden.status) == (0, "failed")
    assert hidden.message.startswith("the hidden tests wrote to stderr")
    both = _score(stderr="oops", hidden_stderr=True)
    assert both.points == 0 and "the hidden tests wrote to stderr too" in both.message
    long = _score(stderr="x" * 5000)
    assert long.points == 0 and len(long.message) < 800 and long.message.endswith("x ...")


@pytest.mark.slow
def test_hidden_failure_shows_the_exception_type_only(tmp_path):
    sub = answered(
        output_size="def output_size(n, k, stride=1, padding=0):\n"
        "    return 0 if n > 100 else (n + 2 * padding - k) // stride + 1"
    )
    result = grade_notebook(CONV_SOURCE, save(sub, tmp_path / CONV), "x", FAST)
    test = result.tests[0]
    assert (result.score, test.points, test.status) == (5, 0, "failed")
    assert test.message.startswith("the public checks passed but the hidden tests failed (AssertionError)")
    assert "AlexNet" not in str(result.to_dict())


@pytest.mark.slow
def test_kernel_is_this_python_in_a_copy_of_the_folder_and_cannot_be_shadowed(tmp_path):
    folder = tmp_path / "alice"
    (folder / "cnncourse" / "grading").mkdir(parents=True)
    for init in ("cnncourse/__init__.py", "cnncourse/grading/__init__.py"):
        (folder / init).write_text("")
    (folder / "cnncourse" / "grading" / "checks").mkdir()
    (folder / "cnncourse" / "grading" / "checks" / "__init__.py").write_text(
        "def __getattr__(name):\n    return lambda *a, **k: None\n"
    )
    (folder / "helper.py").write_text("VALUE = 41\n")
    (folder / "data.txt").write_text("41")
    probe = (
        "import os, sys\n"
        f"assert sys.executable == {sys.executable!r}, sys.executable\n"
        "assert sys.flags.safe_path\n"
        f"assert os.getcwd() != {str(folder)!r}\n"
        "assert open('data.txt').read() == '41'\n"
        "import helper\n"
        "assert helper.VALUE == 41\n"
        "assert os.environ['CNNCOURSE_GRADING'] == '1'\n"
        "import cnncourse.grading.checks as c\n"
        "assert c.__file__.endswith(os.path.join('cnncourse', 'grading', 'checks', '__init__.py'))\n"
        f"assert not c.__file__.startswith({str(tmp_path)!r}), c.__file__\n"
    )
    sub = add_cell_after(answered(), "setup", probe)
    result = grade_notebook(CONV_SOURCE, save(sub, folder / CONV), "alice", FAST)
    assert result.notes == []
    assert result.score == 6


@pytest.mark.slow
def test_notebook_time_limit_leaves_later_tests_not_run(tmp_path):
    sub = answered(conv2d_forward="import time\ntime.sleep(30)")
    limits = Limits(cell_timeout=20, notebook_timeout=6, probe_timeout=2)
    result = grade_notebook(CONV_SOURCE, save(sub, tmp_path / CONV), "slow", limits)
    statuses = [t.status for t in result.tests]
    assert statuses[0] == "passed" and statuses[-1] == "not_run"
    assert "not run: the notebook's time limit of 6 s ran out" in result.tests[-1].message
    assert (
        "Your cell 'conv2d-forward' ran past the notebook's time limit of 6 s and was interrupted"
    ) in result.notes
    assert result.seconds < 20


@pytest.mark.slow
def test_a_stuck_grader_is_killed_and_the_batch_goes_on(tmp_path, monkeypatch):
    slow = save(answered(output_size="import time\ntime.sleep(80)"), tmp_path / "slow.ipynb")
    fast = save(answered(), tmp_path / "fast.ipynb")
    kernels = []
    real_kill = batch_module._Worker.kill

    def kill(self, kernels_file=None):
        kernels.extend(int(x) for x in kernels_file.read_text().split())
        real_kill(self, kernels_file)

    monkeypatch.setattr(batch_module._Worker, "kill", kill)
    monkeypatch.setattr(batch_module, "MARGIN_S", -78.0)  # give up after 12 s
    limits = Limits(cell_timeout=90, notebook_timeout=90)
    results = batch_module.grade_batch(
        CONV_SOURCE,
        [Submission("slow", slow), Submission("fast", fast)],
        tmp_path / "out",
        jobs=1,
        limits=limits,
    )
    assert [(r.student, r.status, r.score) for r in results] == [("slow", "error", 0), ("fast", "graded", 6)]
    assert "grading took longer than 12 s" in results[0].notes[0]
    assert kernels
    assert not any(_alive(pid) for pid in kernels)  # the slow submission's kernel is gone


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return False
        if state == "Z":
            return False
        time.sleep(0.1)
    return True
