"""The instructor cell format: every solutions notebook follows nbgrader's rules."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from cnncourse.grading.notebook_format import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    NotebookError,
    Segment,
    cell_kind,
    grade_id,
    make_meta,
    read_source,
    read_submission,
    solution_instruction,
    split_hidden,
    validate_source,
)

from .grading_helpers import CONV_SOURCE, SOLUTIONS

SOURCES = sorted(SOLUTIONS.glob("*.ipynb"))


def test_there_are_solutions_notebooks():
    assert len(SOURCES) >= 2


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_solutions_notebook_is_valid(path):
    nb = read_source(path)
    assert validate_source(nb, path.name) == []
    ids = [grade_id(c) for c in nb.cells if grade_id(c)]
    assert len(ids) == len(set(ids))
    tests = [c for c in nb.cells if cell_kind(c) == "test"]
    assert tests and all(c.metadata["nbgrader"]["points"] > 0 for c in tests)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert cell.metadata["nbgrader"]["schema_version"] == 3


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_solutions_notebook_has_hidden_tests_and_markers(path):
    nb = read_source(path)
    text = "".join(c.source for c in nb.cells)
    assert text.count("### BEGIN SOLUTION") == text.count("### END SOLUTION") > 0
    assert text.count(BEGIN_HIDDEN) == text.count(END_HIDDEN) > 0


def _nb():
    return read_source(CONV_SOURCE)


def _problems(mutate) -> list[str]:
    nb = copy.deepcopy(_nb())
    mutate(nb)
    return validate_source(nb, "nb")


def _cell(nb, gid):
    return next(c for c in nb.cells if grade_id(c) == gid)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda nb: _cell(nb, "output-size").metadata["nbgrader"].update(grade_id="setup"),
            "grade_id 'setup' is already used by cell 1",
        ),
        (
            lambda nb: _cell(nb, "output-size-tests").metadata["nbgrader"].pop("points"),
            "a test cell needs points > 0; got None",
        ),
        (
            lambda nb: _cell(nb, "output-size-tests").metadata["nbgrader"].update(points=0),
            "a test cell needs points > 0; got 0",
        ),
        (
            lambda nb: _cell(nb, "setup").metadata["nbgrader"].update(points=2),
            "only test (grade) cells carry points; got 2",
        ),
        (
            lambda nb: _cell(nb, "output-size").metadata["nbgrader"].update(grade_id="has space"),
            "grade_id must be a non-empty string",
        ),
        (
            lambda nb: _cell(nb, "setup").metadata["nbgrader"].update(schema_version=1),
            "schema_version must be 3; got 1",
        ),
        (
            lambda nb: setattr(
                _cell(nb, "output-size"),
                "source",
                _cell(nb, "output-size").source.replace("### END SOLUTION", ""),
            ),
            "'### BEGIN SOLUTION' is never closed",
        ),
        (
            lambda nb: setattr(
                _cell(nb, "output-size-tests"),
                "source",
                _cell(nb, "output-size-tests").source.replace(BEGIN_HIDDEN, ""),
            ),
            "'### END HIDDEN TESTS' without a matching '### BEGIN HIDDEN TESTS'",
        ),
        (
            lambda nb: setattr(_cell(nb, "setup"), "source", "x = 1\n### BEGIN SOLUTION\n### END SOLUTION"),
            "'### BEGIN SOLUTION' is not allowed in this cell",
        ),
        (
            lambda nb: setattr(_cell(nb, "output-size"), "source", "# begin solution\nx = 1"),
            "looks like a marker but is not spelled as one",
        ),
        (
            lambda nb: setattr(
                _cell(nb, "output-size-tests"),
                "source",
                "if True:\n    ### BEGIN HIDDEN TESTS\n    x = 1\n    ### END HIDDEN TESTS\n",
            ),
            "must start at column 0",
        ),
        (
            lambda nb: setattr(
                _cell(nb, "output-size-tests"),
                "source",
                "for i in range(2):\n### BEGIN HIDDEN TESTS\n    x = 1\n### END HIDDEN TESTS\n",
            ),
            "is not valid code on its own",
        ),
        (
            lambda nb: nb.cells.append(nbformat.v4.new_code_cell("x = 1", id="loose")),
            "code cell without nbgrader metadata",
        ),
        (lambda nb: _cell(nb, "setup").update(execution_count=3), "has outputs stored"),
        (
            lambda nb: _cell(nb, "output-size").metadata["nbgrader"].update(grade=True, points=1),
            "both solution and grade is graded by hand",
        ),
        (
            lambda nb: _cell(nb, "output-size-tests").metadata["nbgrader"].update(locked=False),
            "a test cell must be locked",
        ),
        (
            lambda nb: setattr(nb, "cells", [c for c in nb.cells if cell_kind(c) != "test"]),
            "no test (grade) cells",
        ),
    ],
)
def test_validation_reports_each_broken_rule(mutate, expected):
    problems = _problems(mutate)
    assert any(expected in p for p in problems), problems


def _final_value_problems(source: str, points=3) -> list[str]:
    def mutate(nb):
        cell = _cell(nb, "conv2d-forward-tests")
        cell.source = source
        cell.metadata["nbgrader"]["points"] = points

    return [p for p in _problems(mutate) if "conv2d-forward-tests" in p]


# nbgrader reads the value a test cell's last line shows as its points: the cell ends with
# checks.points(fraction, out_of=P), or shows no value at all (all or nothing).
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "x = 1\nx / 2",
            "ends with the expression x / 2, whose value nbgrader and cnncourse "
            "would read as the points earned; end with checks.points(fraction, "
            "out_of=3) for partial credit, or with a statement for all or nothing",
        ),
        (
            "checks.fraction_correct(f, g, cases)",
            "ends with the expression checks.fraction_correct(f, g, cases)",
        ),
        ("sum(parts) / len(parts)", "ends with the expression sum(parts) / len(parts)"),
        ("True", "ends with the expression True"),
        (
            "checks.points(0.5, out_of=2)",
            "it ends with checks.points(0.5, out_of=2), which must be checks.points(fraction, out_of=3)",
        ),
        ("checks.points(0.5, 3)", "which must be checks.points(fraction, out_of=3)"),
        ("checks.points(0.5)", "which must be checks.points(fraction, out_of=3)"),
        ("n = 3\nchecks.points(0.5, out_of=n)", "which must be checks.points(fraction, out_of=3)"),
        ("checks.points(0.5, out_of=True)", "which must be checks.points(fraction, out_of=3)"),
        ("checks.points(0.5, fraction=1, out_of=3)", "which must be"),
        (
            "checks.points(0.5, out_of=3);",
            "the ';' after checks.points(fraction, out_of=3) hides its "
            "value, so the cell would earn full points",
        ),
        ("x = 1\nx;  # shows nothing", "a part of the cell ends with ';'"),
        (
            "print('public');\n### BEGIN HIDDEN TESTS\nchecks.points(0.5, out_of=3)\n### END HIDDEN TESTS",
            "a part of the cell ends with ';'",
        ),
        (
            "print('public')\n### BEGIN HIDDEN TESTS\nx = 0.5;\n### END HIDDEN TESTS",
            "a part of the cell ends with ';'",
        ),
        (
            "### BEGIN HIDDEN TESTS\nchecks.points(0.5, out_of=3)\n### END HIDDEN TESTS",
            "starts with a hidden block; put public code",
        ),
        (
            "checks.points(1, out_of=3)\n### BEGIN HIDDEN TESTS\nx = 0.5\nx\n### END HIDDEN TESTS",
            "('conv2d-forward-tests'): it ends with the expression x,",
        ),
        (
            "x = 0.5\nx\n### BEGIN HIDDEN TESTS\nchecks.points(x, out_of=3)\n### END HIDDEN TESTS",
            "('conv2d-forward-tests') without its hidden blocks (the learner's copy): it ends with "
            "the expression x,",
        ),
    ],
)
def test_a_test_cell_must_end_with_its_points_or_show_no_value(source, expected):
    problems = _final_value_problems(source)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("source", "points"),
    [
        ("assert True", 3),
        ("checks.points(0.5, out_of=3)", 3),
        ("checks.points(fraction=0.5, out_of=3.0)", 3),
        ("checks.points(0.5, out_of=2.5)  # 1.25 points\n", 2.5),
        ("checks.check_output_size(output_size)", 3),
        ("checks.assert_close(1, 1)", 3),
        ("print('done')", 3),
        (
            "# the hidden tests check everything\n### BEGIN HIDDEN TESTS\n"
            "checks.points(0.5, out_of=3)\n### END HIDDEN TESTS",
            3,
        ),
        ("x = [1, 2]; y = 3", 3),
        ("for i in range(3):\n    i", 3),
        (
            "checks.points(1, out_of=3)\n### BEGIN HIDDEN TESTS\nchecks.points(0.5, out_of=3)\n"
            "### END HIDDEN TESTS",
            3,
        ),
        ("checks.points(1, out_of=3)\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS", 3),
        ("print('ok')\n### BEGIN HIDDEN TESTS\nchecks.points(0.5, out_of=3)\n### END HIDDEN TESTS", 3),
    ],
)
def test_test_cells_that_end_with_their_points_or_no_value_are_valid(source, points):
    assert _final_value_problems(source, points) == []


def test_split_hidden_keeps_public_and_hidden_segments_in_order():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3\n"
    assert split_hidden(source) == [Segment("a = 1\n"), Segment("b = 2\n", True), Segment("c = 3\n")]
    with pytest.raises(NotebookError, match="no matching"):
        split_hidden("### BEGIN HIDDEN TESTS\nx = 1\n")


def test_solution_instruction_comes_from_the_marker_line():
    assert solution_instruction("    ### BEGIN SOLUTION: return the size") == "return the size"
    assert solution_instruction("### BEGIN SOLUTION") == "Replace this line with your code."


def test_make_meta_builds_nbgrader_schema_3():
    meta = make_meta("test", "t1", 2)
    assert meta == {
        "grade": True,
        "grade_id": "t1",
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
        "points": 2,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (0 bytes)"),
        (b"\xff\xfe\x00garbage", "is not a text file"),
        (b"print('hello')", "is not JSON (Expecting value at line 1, column 1)"),
        (b'{"foo": 1}', "is JSON but not a Jupyter notebook"),
        (b"[1, 2]", "got list"),
        (b'{"cells": [], "nbformat": 3}', "nbformat 3 notebook"),
    ],
)
def test_read_submission_says_what_the_file_is(tmp_path, content, message):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_submission(path)


def test_read_submission_accepts_list_sources_and_skips_garbage_cells(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["a", "b"]}, 7]}))
    assert read_submission(path)["cells"] == [{"cell_type": "code", "source": ["a", "b"]}]


# --------------------------------------------------------------------------- own work


def _declaration_problems(mutate):
    nb = copy.deepcopy(read_source(CONV_SOURCE))
    mutate(nb)
    return validate_source(nb, "nb")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda nb: _cell(nb, "conv2d-forward").metadata.pop("cnncourse"),
            "a solution cell must declare metadata.cnncourse.forbidden",
        ),
        (
            lambda nb: _cell(nb, "conv2d-forward").metadata["cnncourse"].update(forbidden="scipy"),
            "must be a list of dotted names",
        ),
        (
            lambda nb: (
                _cell(nb, "conv2d-forward")
                .metadata["cnncourse"]
                .update(forbidden=["scipy.signal", "scipy signal"])
            ),
            "is not a dotted name",
        ),
        (
            lambda nb: (
                _cell(nb, "conv2d-forward")
                .metadata["cnncourse"]
                .update(forbidden=["scipy.signal", "scipy.signal"])
            ),
            "is listed twice",
        ),
        (
            lambda nb: nb.cells.remove(_cell(nb, "conv2d-forward-tests")),
            "no test cell between this solution cell and the next",
        ),
        (
            lambda nb: nb.cells.remove(_cell(nb, "max-pool-forward-tests")),
            "no test cell after this solution cell",
        ),
    ],
)
def test_the_format_checks_validate_the_declaration(mutate, expected):
    problems = _declaration_problems(mutate)
    assert any(expected in p for p in problems), problems
