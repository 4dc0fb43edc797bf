"""Feedback a learner can read: the message first, the traceback folded below it.

Unit tests on hand-made results (no kernel), then two short gradings with a real kernel.
"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from cnncourse.grading.assemble import Step
from cnncourse.grading.grade import SubmissionResult, grade_notebook, score_test
from cnncourse.grading.notebook_format import Segment
from cnncourse.grading.report import (
    TRACEBACK_RULE,
    feedback_html,
    gradescope_json,
    summary_text,
    write_gradebook,
)
from cnncourse.grading.runner import Limits, Outcome

from .grading_helpers import CONV, CONV_SOURCE, answered, nbgrader_cell, save
from .test_gradescope import spec_problems

FAST = Limits(cell_timeout=20, notebook_timeout=120, probe_timeout=3)
IPYTHON_TRACEBACK = "\n".join(
    [
        "-" * 75,
        "AssertionError                            Traceback (most recent call last)",
        "Cell In[3], line 1",
        "----> 1 checks.check_output_size(output_size)",
        "    ...",
        "AssertionError: output_size(5, 3, 1, 1): expected 5, got 3",
    ]
)
PARTS = (
    "\u2713 shape: 2 public checks passed\n"
    "\u2717 stride 2: expected (2, 2), got (3, 3)\n"
    "\u2717 padding 1: expected 5, got 3\n"
)


def _score(status="ok", value=None, hidden=False, ename="", evalue="", traceback="", stdout=""):
    step = Step("test", "t", [Segment("x", hidden)], points=2)
    outcome = Outcome(
        status, ename=ename, evalue=evalue, traceback=traceback, value=value, hidden=hidden, stdout=stdout
    )
    return score_test(step, outcome, FAST)


def _public_failure():
    return _score(
        "error",
        ename="AssertionError",
        evalue="output_size(5, 3, 1, 1): expected 5, got 3",
        traceback=IPYTHON_TRACEBACK,
    )


def _result(*tests, sandbox: str = "bubblewrap") -> SubmissionResult:
    return SubmissionResult(
        "ann",
        "subs/ann.ipynb",
        "src.ipynb",
        "graded",
        sum(t.points for t in tests),
        sum(t.max_points for t in tests),
        list(tests),
        ["a note"],
        1.5,
        sandbox=sandbox,
    )


def test_a_public_failure_keeps_the_message_and_the_traceback_apart():
    test = _public_failure()
    assert (test.status, test.points) == ("failed", 0)
    assert test.message == "AssertionError: output_size(5, 3, 1, 1): expected 5, got 3"
    assert test.details == (
        "Traceback (most recent call last):\nCell In[3], line 1\n"
        "----> 1 checks.check_output_size(output_size)\n    ..."
    )


def test_the_exception_notes_join_the_message_and_the_learners_frames_stay():
    traceback = "\n".join(
        [
            "-" * 75,
            "NotImplementedError                       Traceback (most recent call last)",
            "Cell In[3], line 1",
            "----> 1 checks.check_output_size(output_size)",
            "    ...",
            "Cell In[2], line 4, in output_size(n, k, stride, padding)",
            '----> 4     raise NotImplementedError("fill me in")',
            "NotImplementedError: fill me in",
            "(raised by output_size(5, 3, 1, 0))",
        ]
    )
    test = _score("error", ename="NotImplementedError", evalue="fill me in", traceback=traceback)
    assert test.message == "NotImplementedError: fill me in\n(raised by output_size(5, 3, 1, 0))"
    assert test.details.splitlines() == [
        "Traceback (most recent call last):",
        "Cell In[3], line 1",
        "----> 1 checks.check_output_size(output_size)",
        "    ...",
        "Cell In[2], line 4, in output_size(n, k, stride, padding)",
        '----> 4     raise NotImplementedError("fill me in")',
    ]


def test_a_hidden_failure_has_no_details_and_no_message_of_its_own():
    test = _score(
        "error", hidden=True, ename="AssertionError", evalue="secret 42", traceback="Cell In[9]\nsecret code"
    )
    assert test.details == "" and "secret" not in test.message
    assert "hidden tests failed (AssertionError)" in test.message


def test_the_checks_lines_name_the_parts_that_failed():
    partial = _score(value="0.5", stdout=PARTS)
    assert partial.status == "partial"
    lines = partial.message.splitlines()
    assert lines[1:] == [
        "\u2717 stride 2: expected (2, 2), got (3, 3)",
        "\u2717 padding 1: expected 5, got 3",
    ]
    assert "\u2713" not in partial.message  # passed parts are not listed
    none = _score(value="0", stdout=PARTS)
    assert none.status == "failed" and none.message.splitlines()[1:] == lines[1:]
    raised = _score("error", ename="AssertionError", evalue="padding 1: expected 5, got 3", stdout=PARTS)
    assert raised.message.splitlines() == [
        "AssertionError: padding 1: expected 5, got 3",
        "\u2717 stride 2: expected (2, 2), got (3, 3)",
    ]
    assert _score(value="2", stdout=PARTS).message == "passed"


def test_test_results_round_trip_with_their_details():
    result = _result(_public_failure())
    again = SubmissionResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    old = result.to_dict()
    del old["tests"][0]["details"]  # written before the field existed
    assert SubmissionResult.from_dict(old).tests[0].details == ""


def test_text_summary_shows_the_message_then_the_traceback_indented():
    text = summary_text(_result(_public_failure()))
    assert text.splitlines()[:7] == [
        "ann: 0 / 2 points (graded)",
        "sandbox: bubblewrap (the notebook ran isolated, with limits on memory, processes and files)",
        "note: a note",
        "FAIL t: 0 / 2",
        "    AssertionError: output_size(5, 3, 1, 1): expected 5, got 3",
        "    traceback:",
        "        Traceback (most recent call last):",
    ]
    assert "        ----> 1 checks.check_output_size(output_size)" in text


def test_feedback_html_folds_the_traceback_below_the_message():
    page = feedback_html(_result(_public_failure(), _score(value="0.5", stdout=PARTS)))
    message = page.index("<pre>AssertionError: output_size(5, 3, 1, 1): expected 5, got 3</pre>")
    folded = page.index("<details><summary>Traceback</summary><pre>Traceback (most recent")
    assert message < folded
    assert "----&gt; 1 checks.check_output_size" in page  # escaped
    assert page.count("<details>") == 1  # the partial test has no traceback
    assert "\u2717 padding 1: expected 5, got 3" in page
    assert "Sandbox: bubblewrap" in page
    assert "<script" not in page


def test_results_json_puts_the_message_first_and_the_traceback_after_a_rule():
    data = gradescope_json(_result(_public_failure(), sandbox="off"))
    assert spec_problems(data) == []
    output = data["tests"][0]["output"]
    assert output == (
        "AssertionError: output_size(5, 3, 1, 1): expected 5, got 3\n\n"
        f"{TRACEBACK_RULE}\nTraceback (most recent call last):\nCell In[3], "
        "line 1\n----> 1 checks.check_output_size(output_size)\n    ..."
    )
    assert data["extra_data"]["sandbox"] == "off" and "sandbox: off" in data["output"]
    assert data["output_format"] == data["test_output_format"] == "text"


def test_the_gradebook_has_a_sandbox_column(tmp_path):
    path = write_gradebook([_result(_public_failure())], tmp_path / "g.csv", ["t"])
    with path.open() as f:
        (row,) = list(csv.DictReader(f))
    assert (row["sandbox"], row["status"], row["t"]) == ("bubblewrap", "graded", "0")


# ----------------------------------------------------------------- with a real kernel


@pytest.mark.slow
def test_a_failed_public_check_reads_well_in_every_report(tmp_path):
    sub = answered(
        output_size="def output_size(n, k, stride=1, padding=0):\n    return (n - k) // stride + 1"
    )
    result = grade_notebook(CONV_SOURCE, save(sub, tmp_path / CONV), "ann", FAST)
    test = result.tests[0]
    assert test.message == "AssertionError: output_size(5, 3, 1, 1): expected 5, got 3"
    assert test.details.startswith("Traceback (most recent call last):\nCell In[")
    assert "checks.check_output_size(output_size)" in test.details
    assert "grading/checks" not in test.details and 'File "' not in test.details  # library frames
    assert "AlexNet" not in json.dumps(result.to_dict())


@pytest.mark.slow
def test_a_multi_part_test_shows_the_parts_that_failed(tmp_path):
    check = (
        "def check_parts(fn):\n"
        "    cases = {'n=3': (3, 9), 'n=4': (4, 16), 'n=5': (5, 25)}\n"
        "    right = 0\n"
        "    for name, (n, want) in cases.items():\n"
        "        got = fn(n)\n"
        "        if got == want:\n"
        "            right += 1\n"
        "        else:\n"
        "            print(f'\\u2717 {name}: expected {want}, got {got}')\n"
        "    return right / len(cases)\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbgrader_cell("setup", "setup", "from cnncourse.grading import checks\n\n" + check),
        nbgrader_cell(
            "solution",
            "square",
            "def square(n):\n    ### BEGIN SOLUTION\n    return n * n\n    ### END SOLUTION",
        ),
        nbgrader_cell("test", "square-tests", "checks.points(check_parts(square), out_of=3)", points=3),
    ]
    source = tmp_path / "parts.ipynb"
    nbformat.write(nb, source)
    nb.cells[1].source = "def square(n):\n    return 9 if n == 3 else n + n"
    submission = tmp_path / "ann" / "parts.ipynb"
    submission.parent.mkdir()
    nbformat.write(nb, submission)
    result = grade_notebook(source, submission, "ann", FAST)
    (test,) = result.tests
    assert test.status == "partial" and test.points == pytest.approx(1)
    assert test.message.splitlines()[1:] == [
        "\u2717 n=4: expected 16, got 8",
        "\u2717 n=5: expected 25, got 10",
    ]
    assert "\u2717 n=5: expected 25, got 10" in feedback_html(result)
