"""Which code runs: the source's cells with the learner's answers put in."""

from __future__ import annotations

import copy

from cnncourse.grading.assemble import build_plan
from cnncourse.grading.notebook_format import read_source

from .grading_helpers import CONV_SOURCE, add_cell_after, answered, index_of, source_of, with_cell

SRC = read_source(CONV_SOURCE)


def kinds(plan):
    return [(s.kind, s.grade_id, s.origin) for s in plan.steps]


def test_plan_follows_the_source_and_takes_only_solutions_from_the_submission():
    sub = answered(output_size="def output_size(n, k, stride=1, padding=0):\n    return 1")
    plan = build_plan(SRC, sub)
    assert kinds(plan) == [
        ("setup", "setup", "source"),
        ("solution", "output-size", "submission"),
        ("test", "output-size-tests", "source"),
        ("solution", "conv2d-forward", "submission"),
        ("test", "conv2d-forward-tests", "source"),
        ("solution", "max-pool-forward", "submission"),
        ("test", "max-pool-forward-tests", "source"),
    ]
    assert plan.steps[1].segments[0].code.endswith("return 1")
    test = plan.steps[2]
    assert test.points == 1 and [s.hidden for s in test.segments] == [False, True]
    assert "AlexNet" in test.segments[1].code
    assert plan.notes == []
    assert "from cnncourse.grading import checks" in plan.imports
    assert "from cnncourse.nn import functional as F" in plan.imports


def test_edited_and_deleted_test_cells_are_restored_with_a_note():
    sub = with_cell(answered(), "output-size-tests", "pass")
    sub["cells"].pop(index_of(sub, "conv2d-forward-tests"))
    plan = build_plan(SRC, sub)
    assert [s.grade_id for s in plan.tests] == [
        "output-size-tests",
        "conv2d-forward-tests",
        "max-pool-forward-tests",
    ]
    assert plan.tests[0].segments[0].code.startswith("checks.check_output_size(output_size)")
    assert plan.notes == [
        "the test cell 'output-size-tests' was edited; the original was used",
        "the test cell 'conv2d-forward-tests' was deleted; the original was used",
    ]


def test_reordered_cells_run_in_the_source_order():
    sub = answered()
    sub["cells"] = list(reversed(sub["cells"]))
    assert kinds(build_plan(SRC, sub)) == kinds(build_plan(SRC, answered()))


def test_missing_solution_is_graded_as_the_stub():
    sub = answered()
    sub["cells"].pop(index_of(sub, "conv2d-forward"))
    plan = build_plan(SRC, sub)
    step = next(s for s in plan.steps if s.grade_id == "conv2d-forward")
    assert step.origin == "stub" and "raise NotImplementedError(" in step.segments[0].code
    assert "your cell 'conv2d-forward' is missing" in plan.notes[0]


def test_learner_cells_run_after_the_cell_they_followed():
    sub = add_cell_after(answered(), "output-size", "helper = 1")
    sub = add_cell_after(sub, "max-pool-forward-tests", "print('done')")
    plan = build_plan(SRC, sub)
    extras = [(i, s.grade_id) for i, s in enumerate(plan.steps) if s.kind == "extra"]
    assert extras == [(2, "output-size"), (8, "max-pool-forward-tests")]
    assert plan.steps[2].label == "a cell you added after 'output-size'"


def test_cells_without_metadata_are_matched_by_cell_id():
    sub = answered(conv2d_forward="def conv2d_forward(*a):\n    return 'mine'")
    del sub["cells"][index_of(sub, "conv2d-forward")]["metadata"]["nbgrader"]
    step = next(s for s in build_plan(SRC, sub).steps if s.grade_id == "conv2d-forward")
    assert step.origin == "submission" and "'mine'" in step.segments[0].code


def test_duplicated_solution_cell_grades_the_last_copy():
    sub = answered()
    i = index_of(sub, "output-size")
    first = copy.deepcopy(sub["cells"][i])
    first["source"] = "scratch = 1"
    sub["cells"].insert(i, first)
    plan = build_plan(SRC, sub)
    solution = next(s for s in plan.steps if s.grade_id == "output-size")
    assert solution.segments[0].code == source_of(answered(), "output-size")
    assert plan.steps[1].kind == "extra" and plan.steps[1].segments[0].code == "scratch = 1"
    assert "appears 2 times; the last copy was graded" in plan.notes[0]


def test_a_notebook_with_nothing_matching_gets_stubs_and_runs_its_cells_first():
    sub = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}}]}
    plan = build_plan(SRC, sub)
    assert plan.steps[0].kind == "extra"
    assert sum(s.origin == "stub" for s in plan.steps) == 3
    assert len(plan.tests) == 3
