"""Every status the grader reports, as one enum whose members *are* their text.

``Status`` is a :class:`~enum.StrEnum`: ``Status.PASSED == "passed"``, ``str()`` and
f-strings give the text, and JSON, CSV and HTML hold the same text as before, so results
read back from JSON (plain strings) compare equal to the members.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status"]


class Status(StrEnum):
    """The status of a step run in the kernel, of a test cell, or of a submission."""

    # What happened to one piece of code or step in the kernel (runner.Execution, Outcome).
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    DIED = "died"
    HUNG = "hung"
    NOT_RUN = "not_run"  # also a test cell's status when its step did not run
    # A test cell's score (grade.TestResult).
    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    # A submission (grade.SubmissionResult).
    GRADED = "graded"
    UNREADABLE = "unreadable"
    MISSING = "missing"
    GRADER_ERROR = "error"  # the same text as ERROR, so the same member: the grader failed
