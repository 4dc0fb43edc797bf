"""Atomic writes, and the statuses that the written reports hold as their text."""

from __future__ import annotations

import json
import os
import stat

import pytest

from cnncourse.grading import atomic, grade
from cnncourse.grading.status import Status


def test_write_text_creates_the_folder_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "out" / "results" / "ann.json"
    atomic.write_text(path, "caf\u00e9\nline two\n")
    assert path.read_bytes() == "caf\u00e9\nline two\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(path.parent) == ["ann.json"]
    atomic.write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01" and os.listdir(path.parent) == ["ann.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "gradebook.csv"
    path.write_text("old\n")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(path, "new\n")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["gradebook.csv"]


def test_statuses_are_written_as_their_text_and_read_back_as_statuses():
    result = grade.SubmissionResult(
        "ann",
        None,
        "src.ipynb",
        Status.GRADER_ERROR,
        0.0,
        1.0,
        [grade.TestResult("t", 0.0, 1.0, Status.NOT_RUN, "not run")],
    )
    text = json.dumps(result.to_dict())
    assert '"status": "error"' in text and '"status": "not_run"' in text
    back = grade.SubmissionResult.from_dict(json.loads(text))
    assert back.status is Status.GRADER_ERROR is Status.ERROR and back.status == "error"
    assert back.tests[0].status is Status.NOT_RUN and f"{back.tests[0].status}" == "not_run"
    assert back == result
