"""Finding submissions in the usual layouts, and naming their students."""

from __future__ import annotations

import os

from cnncourse.grading.submissions import find_submissions, safe_name

from .grading_helpers import CONV, answered, save

IDS = ["setup", "output-size", "conv2d-forward"]


def found(paths):
    return [(s.student, s.path.name if s.path else None, s.notes) for s in find_submissions(paths, CONV, IDS)]


def test_flat_folder_one_student_per_notebook(tmp_path):
    for name in ("bob", "amy"):
        save(answered(), tmp_path / f"{name}.ipynb")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    save(answered(), tmp_path / ".ipynb_checkpoints" / "amy-checkpoint.ipynb")
    assert found([tmp_path]) == [("amy", "amy.ipynb", []), ("bob", "bob.ipynb", [])]


def test_student_folders(tmp_path):
    save(answered(), tmp_path / "ann" / CONV)
    save(answered(), tmp_path / "ben" / "Untitled.ipynb")
    save(answered(), tmp_path / "cid" / "old.ipynb")
    save({"cells": []}, tmp_path / "cid" / "empty-notes.ipynb")
    os.utime(tmp_path / "cid" / "empty-notes.ipynb", (2e9, 2e9))  # newer, but no cells match
    save(answered(), tmp_path / "dee" / "answers.json")
    (tmp_path / "eve").mkdir()
    result = dict((s, (p, n)) for s, p, n in found([tmp_path]))
    assert result["ann"] == (CONV, [])
    assert result["ben"] == ("Untitled.ipynb", [f"graded Untitled.ipynb (the expected name is {CONV})"])
    assert result["cid"][0] == "old.ipynb"
    assert "not graded: empty-notes.ipynb" in result["cid"][1][0]
    assert result["dee"] == (
        "answers.json",
        [f"graded answers.json, a notebook saved under another name (the expected name is {CONV})"],
    )
    assert result["eve"] == (None, ["no notebook found in eve/"])


def test_files_and_one_student_folder_given_directly(tmp_path):
    save(answered(), tmp_path / "fay" / CONV)
    save(answered(), tmp_path / "gus.ipynb")
    assert found([tmp_path / "fay" / CONV, tmp_path / "gus.ipynb", tmp_path / "fay"]) == [
        ("fay", CONV, []),
        ("gus", "gus.ipynb", []),
        ("fay-2", CONV, ["another submission is also named 'fay'; this one is reported as fay-2"]),
    ]


def test_a_missing_path_is_reported():
    assert found(["/nonexistent/hal.ipynb"]) == [("hal", None, ["/nonexistent/hal.ipynb does not exist"])]


def test_safe_name():
    assert safe_name("Zoë O'Neil / 2") == "Zo_O_Neil_2"
    assert safe_name("../..") == "student"
