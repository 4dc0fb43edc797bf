"""`cnncourse release`: exercises/ is generated from solutions/ and never drifts."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from cnncourse.cli import main
from cnncourse.grading.notebook_format import cell_kind, grade_id, read_source
from cnncourse.grading.release import code_stub, release_dir, release_notebook, stub_solution

from .grading_helpers import CONV_SOURCE, EXERCISES, SOLUTIONS, hidden_lines


def test_committed_exercises_match_a_fresh_release(tmp_path):
    fresh = tmp_path / "exercises"
    release_dir(SOLUTIONS, fresh)
    committed = sorted(p.name for p in EXERCISES.glob("*.ipynb"))
    assert committed == sorted(p.name for p in fresh.glob("*.ipynb"))
    for name in committed:
        assert (EXERCISES / name).read_text() == (fresh / name).read_text(), (
            f"exercises/{name} is stale: run `cnncourse release`"
        )
    assert release_dir(SOLUTIONS, EXERCISES, check=True).changed == []


def test_release_check_fails_on_drift_and_release_repairs_it(tmp_path, capsys):
    shutil.copytree(SOLUTIONS, tmp_path / "solutions")
    out = tmp_path / "exercises"
    args = ["release", "--solutions", str(tmp_path / "solutions"), "--exercises", str(out)]
    assert main([*args, "--check"]) == 1
    assert not out.exists()
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    nb = nbformat.read(out / CONV_SOURCE.name, 4)
    nb.cells[1].source += "\n# edited by hand"
    nbformat.write(nb, out / CONV_SOURCE.name)
    (out / "99_orphan.ipynb").write_text("{}")
    assert main([*args, "--check"]) == 1
    assert "is out of date" in capsys.readouterr().err
    assert main(args) == 0
    assert not (out / "99_orphan.ipynb").exists()
    assert main([*args, "--check"]) == 0


def test_release_refuses_an_invalid_source(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    nb = read_source(CONV_SOURCE)
    nb.cells[3].metadata["nbgrader"]["grade_id"] = "setup"
    nbformat.write(nb, tmp_path / "solutions" / "bad.ipynb")
    code = main(["release", "--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "ex")])
    assert code == 2
    assert "grade_id 'setup' is already used" in capsys.readouterr().err
    assert not (tmp_path / "ex").exists()


@pytest.mark.parametrize("source", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_released_cells(source):
    src = read_source(source)
    out = release_notebook(src)
    assert [grade_id(c) for c in out.cells] == [grade_id(c) for c in src.cells]
    assert [c.id for c in out.cells] == [c.id for c in src.cells]
    text = nbformat.writes(out)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN", "END HIDDEN"):
        assert marker not in text
    for cell in out.cells:
        kind = cell_kind(cell)
        if kind == "solution":
            assert "raise NotImplementedError(" in cell.source
            assert cell.metadata["deletable"] is False and "editable" not in cell.metadata
        if kind in ("test", "locked"):
            assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    nbformat.validate(out)


@pytest.mark.parametrize("source", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_hidden_test_or_solution_code_in_exercises(source):
    text = (EXERCISES / source.name).read_text()
    hidden = hidden_lines(source)
    assert hidden, "the demo notebooks must have hidden tests"
    for line in hidden:
        assert line not in text
    assert "return (n + 2 * padding - k) // stride + 1" not in (EXERCISES / CONV_SOURCE.name).read_text()


def test_stub_keeps_code_around_the_solution_and_its_indentation():
    source = (
        "def f(x):\n    y = 2\n    ### BEGIN SOLUTION: double it\n    return x * y\n    ### END SOLUTION\n"
    )
    assert stub_solution(source) == (
        'def f(x):\n    y = 2\n    # YOUR CODE HERE\n    raise NotImplementedError("double it")'
    )
    assert stub_solution("x = 42") == code_stub().rstrip()
    assert stub_solution("The answer", markdown=True) == "YOUR ANSWER HERE"


def test_stub_instruction_is_a_valid_string_literal():
    stub = code_stub('say "hi" \\ now')
    namespace = {}
    with pytest.raises(NotImplementedError, match=r'say "hi" \\ now'):
        exec(stub, namespace)


def test_test_cell_keeps_its_public_part_and_says_where_hidden_tests_run():
    nb = read_source(CONV_SOURCE)
    released = release_notebook(nb)
    cell = next(c for c in released.cells if grade_id(c) == "output-size-tests")
    assert cell.source == (
        "checks.check_output_size(output_size)\n# Hidden tests run here when your notebook is graded."
    )
    assert "nbgrader" in cell.metadata and cell.metadata["nbgrader"]["points"] == 1
