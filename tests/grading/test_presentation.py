"""One presentation everywhere: a multi-part test cell shows one line per part in the notebook,
and `cnncourse check` and the feedback show the same lines."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from IPython.core.formatters import PlainTextFormatter

from cnncourse.cli import main
from cnncourse.grading import checking, checks
from cnncourse.grading.checking import points_summary
from cnncourse.grading.grade import SubmissionResult
from cnncourse.grading.grade import TestResult as CellResult
from cnncourse.grading.report import check_text, feedback_html, message_lines
from cnncourse.grading.status import Status

from .grading_helpers import EXERCISES, SOLUTIONS, load, save

POOLING = "04_pooling.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WRONG_SUM_POOL = (
    "def sum_pool_forward(x, pool_size=2, stride=None):\n"
    "    return avg_pool_forward(x, pool_size, stride)  # the mean, not the sum\n"
)


def _wrong(name):
    def part():
        checks.assert_close(1.0, 2.0, f"{name}(1)")

    return part


# ----------------------------------------------------------------- run_parts


def test_run_parts_prints_a_line_per_part_when_all_pass(capsys):
    passed = checks.run_parts(
        {
            "negate": lambda: checks.check_function(lambda x: -x, lambda x: -x, [(1.0,)], name="negate"),
            "silent": lambda: None,
        }
    )
    assert passed == {"negate": True, "silent": True}
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("\u2713 negate: 1 public check passed")  # the check's own line
    assert lines[1] == "\u2713 silent"  # a part that printed no line gets one


def test_run_parts_names_the_parts_that_failed(capsys):
    def broken():
        raise IndexError("index 3 is out of bounds")

    passed = checks.run_parts({"good": lambda: print("working"), "bad": _wrong("bad"), "broken": broken})
    assert passed == {"good": True, "bad": False, "broken": False}
    assert capsys.readouterr().out.splitlines() == [
        "working",
        "\u2713 good",
        "\u2717 bad: bad(1): expected 2, got 1",
        "\u2717 broken: IndexError: index 3 is out of bounds",
    ]


def test_run_parts_raises_the_first_failure_when_every_part_fails(capsys):
    with pytest.raises(AssertionError, match=r"first\(1\): expected 2, got 1") as info:
        checks.run_parts({"first": _wrong("first"), "second": _wrong("second")})
    assert capsys.readouterr().out.splitlines() == [
        "\u2717 first: first(1): expected 2, got 1",
        "\u2717 second: second(1): expected 2, got 1",
    ]
    # Below the test, only the run_parts frame itself is the framework's, and it is marked
    # for IPython to hide; the frames of assert_close and the checks are gone.
    tb, library = info.value.__traceback__, []
    while tb is not None:
        if "cnncourse/grading/" in tb.tb_frame.f_code.co_filename.replace("\\", "/"):
            library.append(tb.tb_frame)
        tb = tb.tb_next
    assert [f.f_code.co_name for f in library] == ["run_parts"]
    assert library[0].f_locals.get("__tracebackhide__") is True


def test_run_parts_needs_a_part():
    with pytest.raises(ValueError, match="at least one part"):
        checks.run_parts({})


# ----------------------------------------------------------------- tracebacks of single checks

GRADING = Path(checking.__file__).resolve().parent
LEARNER_FACING = sorted(
    [n for n in checks.__all__ if n.startswith(("check_", "assert_", "score_"))]
    + ["first_output", "fraction_correct", "gradients_correct", "points"]
)


def _frames(exc: BaseException) -> list:
    tb, frames = exc.__traceback__, []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _is_library(frame) -> bool:
    return Path(frame.f_code.co_filename).resolve().parent == GRADING


def _zeros_conv(x, w, b, stride=1, padding=0):
    return np.zeros(1)  # the wrong shape


@pytest.mark.parametrize("name", LEARNER_FACING)
def test_every_entry_point_a_learner_calls_is_learner_facing(name):
    fn = getattr(checks, name)
    assert fn.__name__ == name and fn.__doc__ == fn.__wrapped__.__doc__
    assert inspect.signature(fn) == inspect.signature(fn.__wrapped__)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: checks.check_conv2d_forward(_zeros_conv), AssertionError),
        (lambda: checks.assert_close(1.0, 2.0, "x"), AssertionError),
        (lambda: checks.check_function(lambda x: x, lambda x: -x, [(1.0,)]), AssertionError),
        (lambda: checks.points(2, out_of=1), ValueError),
        (lambda: checks.fraction_correct(abs, abs, []), ValueError),
    ],
)
def test_a_failing_check_raises_without_the_frameworks_frames(call, error):
    with pytest.raises(error) as info:
        call()
    frames = _frames(info.value)
    # Only the decorator's frame is left: it re-raises, so it cannot leave, and is marked
    # for IPython to hide. Below it comes the caller's line again (the lambda here), as
    # IPython never hides the innermost frame.
    library = [f for f in frames if _is_library(f)]
    assert [f.f_code.co_name for f in library] == ["wrapper"]
    assert library[0].f_locals.get("__tracebackhide__") is True
    assert frames[-1].f_code.co_name == "<lambda>" and frames[-2] is library[0]


def test_the_message_of_a_failing_check_is_unchanged():
    with pytest.raises(AssertionError) as plain:
        checks.check_conv2d_forward.__wrapped__(_zeros_conv)
    with pytest.raises(AssertionError) as info:
        checks.check_conv2d_forward(_zeros_conv)
    assert str(info.value) == str(plain.value)
    assert str(info.value).startswith("_zeros_conv(x (1, 4, 4, 1) float64, w (3, 3, 1, 1) float64")
    assert "shape expected (1, 2, 2, 1), got (1,)" in str(info.value)


def test_a_check_keeps_the_frames_of_the_learners_code_that_raised():
    def conv2d_forward(x, w, b, stride=1, padding=0):
        return pad(x)

    def pad(x):
        return x[99]

    with pytest.raises(IndexError, match="index 99 is out of bounds") as info:
        checks.check_conv2d_forward(conv2d_forward)
    frames = _frames(info.value)
    assert [f.f_code.co_name for f in frames if not _is_library(f)] == [
        "test_a_check_keeps_the_frames_of_the_learners_code_that_raised",
        "conv2d_forward",
        "pad",
    ]
    assert [f.f_code.co_name for f in frames if _is_library(f)] == ["wrapper"]
    (note,) = info.value.__notes__
    assert note.startswith("(raised by conv2d_forward(x (1, 4, 4, 1) float64")


def test_a_check_keeps_the_cause_and_context_of_the_learners_error():
    def caused(x):
        raise ValueError("caused") from KeyError("k")

    def during(x):
        try:
            {}["k"]
        except KeyError:
            if x > 1:
                raise ValueError("during") from None
            raise ValueError("during")  # noqa: B904

    with pytest.raises(ValueError, match="caused") as info:
        checks.check_function(caused, abs, [(1.0,)])
    assert isinstance(info.value.__cause__, KeyError) and info.value.__suppress_context__
    with pytest.raises(ValueError, match="during") as info:
        checks.check_function(during, abs, [(1.0,)])
    assert info.value.__cause__ is None and not info.value.__suppress_context__
    assert isinstance(info.value.__context__, KeyError)
    with pytest.raises(ValueError, match="during") as info:
        checks.check_function(during, abs, [(2.0,)])
    assert info.value.__cause__ is None and info.value.__suppress_context__


# ----------------------------------------------------------------- points


@pytest.mark.parametrize(("fraction", "out_of", "text"), [(0.75, 2, "1.5"), (1, 3, "3.0"), (0.0, 4, "0.0")])
def test_points_shows_the_number_nbgrader_reads_and_prints_a_summary(fraction, out_of, text, capsys):
    got = checks.points(fraction, out_of=out_of)
    assert isinstance(got, float) and float(got) == float(text)
    plain = PlainTextFormatter()(got)  # the execute_result's text/plain, which nbgrader parses
    assert plain == text and float(plain) == got
    shown = f'<pre class="cnncourse-points">{float(text):g} of {out_of:g} points for this cell</pre>'
    assert got._repr_html_() == shown  # what JupyterLab shows instead of the bare number
    assert capsys.readouterr().out == ""


def test_points_summary_of_a_one_point_cell():
    assert points_summary(1.0, 1) == "1 of 1 point for this cell"


# ----------------------------------------------------------------- reports


def _partial() -> SubmissionResult:
    test = CellResult(
        "avg-pool-tests",
        1.0,
        2.0,
        Status.PARTIAL,
        "partial credit: 1 of 2 points (sum_pool_forward failed)\n"
        "\u2717 sum_pool_forward: 8 of 8 values differ",
        parts=[
            "\u2713 avg_pool_forward: 3 public checks passed.",
            "\u2717 sum_pool_forward: 8 of 8 values differ",
        ],
    )
    return SubmissionResult("ann", "ann.ipynb", "src.ipynb", Status.GRADED, 1.0, 2.0, [test])


def test_a_partial_test_shows_every_part_once_in_order():
    (test,) = _partial().tests
    assert message_lines(test) == [
        "partial credit: 1 of 2 points (sum_pool_forward failed)",
        "\u2713 avg_pool_forward: 3 public checks passed.",
        "\u2717 sum_pool_forward: 8 of 8 values differ",
    ]
    page = feedback_html(_partial())
    assert "\u2713 avg_pool_forward: 3 public checks passed." in page
    assert page.count("\u2717 sum_pool_forward") == 1
    text = check_text(_partial())
    assert text.splitlines()[0] == "ann: 1 / 2 points on the public checks"
    assert "graded" not in text.splitlines()[0]
    assert "    \u2713 avg_pool_forward: 3 public checks passed." in text


# ----------------------------------------------------------------- with a real kernel


def _pooling_submission(**answers: str) -> dict:
    """The learner's pooling notebook answered from the source, except ``answers``
    (function name -> code) that replace the cell defining that function."""
    nb, solved = load(EXERCISES / POOLING), load(SOLUTIONS / POOLING)
    source = {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in solved["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            code = source[meta["grade_id"]]
            for name, answer in answers.items():
                code = re.sub(
                    rf"def {name}\(.*?(?=\n\n\ndef |\Z)", lambda _, a=answer: a.rstrip("\n"), code, flags=re.S
                )
            cell["source"] = code
    return nb


@pytest.mark.slow
def test_check_names_the_part_that_failed_and_says_public_checks(tmp_path, capsys):
    path = save(_pooling_submission(sum_pool_forward=WRONG_SUM_POOL), tmp_path / POOLING)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "04_pooling: 11 / 12 points on the public checks"
    assert "graded" not in lines[0]
    part = lines.index("PART avg-pool-tests: 1 / 2")
    assert lines[part + 1] == "    partial credit: 1 of 2 points (sum_pool_forward failed)"
    assert lines[part + 2].startswith("    \u2713 avg_pool_forward: ")
    assert lines[part + 3].startswith("    \u2717 sum_pool_forward: sum_pool_forward(")
    assert "values differ" in lines[part + 3]


@pytest.mark.slow
def test_a_failing_check_in_the_notebook_shows_no_framework_frames(tmp_path):
    from nbclient import NotebookClient

    wrong_avg = (
        "def avg_pool_forward(x, pool_size=2, stride=None):\n"
        "    return x[:, ::pool_size, ::pool_size], None  # a corner, not the mean\n"
    )
    submission = _pooling_submission(avg_pool_forward=wrong_avg, sum_pool_forward=WRONG_SUM_POOL)
    nb = nbformat.reads(json.dumps(submission), as_version=4)
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, resources=resources).execute()
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "avg-pool-tests"]
    stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    assert [line.split(":")[0] for line in stdout.splitlines()] == [
        "\u2717 avg_pool_forward",
        "\u2717 sum_pool_forward",
    ]
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    traceback = ANSI.sub("", "\n".join(error.traceback))
    assert error.ename == "AssertionError" and "avg_pool_forward(" in error.evalue
    assert "checking.py" not in traceback and "cnncourse/grading/checks" not in traceback
    assert "passed = checks.run_parts({" in traceback  # the cell's line
    assert "lambda: checks.check_avg_pool_forward(avg_pool_forward)" in traceback  # the failing part


@pytest.mark.slow
def test_a_failing_single_check_in_a_kernel_shows_only_the_learners_lines(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from cnncourse.grading import checks\nimport numpy as np"),
        nbformat.v4.new_code_cell(
            "def conv2d_forward(x, w, b, stride=1, padding=0):\n    return np.zeros(1)\n\n"
            "def broken(x, w, b, stride=1, padding=0):\n    return x[99]"
        ),
        nbformat.v4.new_code_cell("checks.check_conv2d_forward(conv2d_forward)"),
        nbformat.v4.new_code_cell("checks.check_conv2d_forward(broken)"),
    ]
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True, resources=resources).execute()
    wrong, raising = (
        ANSI.sub("", "\n".join(o.traceback))
        for c in nb.cells[2:]
        for o in c.outputs
        if o.output_type == "error"
    )
    for traceback in (wrong, raising):
        assert "checking.py" not in traceback and "cnncourse/grading/checks" not in traceback
        assert "----> 1 checks.check_conv2d_forward(" in traceback
    assert "AssertionError: conv2d_forward(x (1, 4, 4, 1) float64" in wrong
    assert "shape expected (1, 2, 2, 1), got (1,)" in wrong
    assert "in broken(x, w, b, stride, padding)" in raising and "----> 5     return x[99]" in raising
    assert "IndexError: index 99 is out of bounds" in raising
