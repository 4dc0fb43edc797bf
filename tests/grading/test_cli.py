"""The `cnncourse` command: grade, check, doctor, and a light import."""

from __future__ import annotations

import csv
import subprocess
import sys
import types

import pytest

from cnncourse.cli import main

from .grading_helpers import CONV, CONV_SOURCE, EXERCISES, answered, load, save, with_cell


def test_importing_the_cli_does_not_import_tensorflow_or_nbclient():
    code = (
        "import sys, cnncourse.cli; "
        "print(sorted(m for m in ('tensorflow', 'nbclient', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_grade_command_writes_the_gradebook(tmp_path, capsys, sandbox_ready):
    subs = tmp_path / "subs"
    save(answered(), subs / "ann" / CONV)
    save(answered(output_size="raise KeyError('x')"), subs / "ben" / CONV)
    (subs / "cat").mkdir()
    out = tmp_path / "out"
    code = main(
        [
            "grade",
            "--source",
            str(CONV_SOURCE),
            str(subs),
            "--jobs",
            "2",
            "--timeout",
            "20",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 submissions (2 graded, 1 not); mean 2.67 / 6" in printed
    with (out / "gradebook.csv").open() as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert (rows["ann"]["score"], rows["ben"]["score"], rows["cat"]["score"]) == ("6", "2", "0")
    assert rows["ben"]["output-size-tests"] == "0"
    assert "raised KeyError: 'x'" in rows["ben"]["notes"]
    assert rows["cat"]["status"] == "missing" and "no notebook found in cat/" in rows["cat"]["notes"]


def test_grade_command_rejects_a_bad_source(tmp_path, capsys):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{}")
    assert main(["grade", "--source", str(bad), str(tmp_path)]) == 2
    assert "cnncourse grade:" in capsys.readouterr().err


@pytest.mark.slow
def test_check_tells_the_learner_about_hidden_tests(tmp_path, capsys):
    nb = answered()
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": 3,
            "source": "print('my own cell')",
        }
    )
    path = save(nb, tmp_path / CONV)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "6 / 6 points" in out
    assert "hidden tests check more cases, so the final score may be lower" in out

    assert main(["check", str(EXERCISES / CONV)]) == 1
    out = capsys.readouterr().out
    assert "0 / 6 points" in out and "FAIL conv2d-forward-tests: 0 / 3" in out


def test_check_reports_an_unreadable_notebook(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    path.write_text("not json")
    assert main(["check", str(path)]) == 2
    assert "broken.ipynb is not JSON" in capsys.readouterr().err


def test_doctor_prints_versions_and_devices(monkeypatch, capsys):
    fake_tf = types.SimpleNamespace(
        __version__="9.9", config=types.SimpleNamespace(list_physical_devices=lambda kind: [])
    )
    monkeypatch.setitem(sys.modules, "tensorflow", fake_tf)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "python      3." in out and "numpy " in out
    assert "tensorflow  9.9" in out and "gpu         none visible" in out


def test_usage_errors_exit_with_argparse_code():
    with pytest.raises(SystemExit) as info:
        main(["grade", "--source", "x.ipynb", "subs", "--jobs", "0"])
    assert info.value.code == 2


@pytest.mark.slow
def test_check_with_source_restores_edited_test_cells(tmp_path, capsys):
    nb = with_cell(load(EXERCISES / CONV), "output-size-tests", "pass")
    path = save(nb, tmp_path / CONV)
    main(["check", str(path)])
    assert "PASS output-size-tests: 1 / 1" in capsys.readouterr().out
    assert main(["check", str(path), "--source", str(EXERCISES / CONV)]) == 1
    out = capsys.readouterr().out
    assert "FAIL output-size-tests: 0 / 1" in out
    assert "note: the test cell 'output-size-tests' was edited; the original was used" in out
