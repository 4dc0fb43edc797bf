"""Reports of graded submissions: CSV gradebook, Gradescope JSON, HTML feedback, text.

Everything is written atomically. The learner-facing files hold test names, points,
public failure messages and notes; hidden tests appear only as "hidden tests failed
(ExceptionType)", never with their code or message.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path

from .atomic import write_text
from .grade import FAILED_MARK, SubmissionResult
from .status import Status
from .submissions import safe_name

HIDDEN_FOOTNOTE = (
    "Tests marked 'with hidden tests' also ran tests you cannot see; their code and messages are not shown."
)


TRACEBACK_RULE = "-" * 20 + " traceback " + "-" * 20


def _num(x: float) -> str:
    return f"{x:g}"


def _sandbox(result: SubmissionResult) -> str:
    """How the learner's code was isolated, in words."""
    if result.sandbox == "bubblewrap":
        return "bubblewrap (the notebook ran isolated, with limits on memory, processes and files)"
    return result.sandbox or "off"


def message_lines(test) -> list[str]:
    """What a test says, as the notebook showed it: the message, then one line per part.

    The parts are the lines the public part printed (``checks.run_parts`` prints
    "\u2713 name" or "\u2717 name: message" for each part), in the order they ran; the
    message's own "\u2717" lines are those, so they are not repeated.
    """
    parts = list(getattr(test, "parts", None) or [])
    lines = test.message.splitlines()
    if not parts:
        return lines
    head = [line for line in lines if not line.startswith(FAILED_MARK) or line not in parts]
    return head + parts


def feedback_text(test) -> str:
    """A test's feedback as plain text: the message and its parts, then the traceback
    below a rule."""
    message = "\n".join(message_lines(test))
    if not test.details:
        return message
    return f"{message}\n\n{TRACEBACK_RULE}\n{test.details}"


def gradescope_json(result: SubmissionResult) -> dict:
    """The result as Gradescope's ``results.json`` (its autograder specification).

    Every text is plain (``"text"`` formats: nothing the learner wrote is rendered as HTML),
    and every test and the output are visible to the learner; the grader's own log
    (stdout) is not.
    """
    tests = []
    for number, test in enumerate(result.tests, 1):
        tests.append(
            {
                "name": test.grade_id + (" (includes hidden tests)" if test.hidden else ""),
                "name_format": "text",
                "number": str(number),
                "score": test.points,
                "max_score": test.max_points,
                "status": Status.PASSED if test.status == Status.PASSED else Status.FAILED,
                "output": feedback_text(test),
                "output_format": "text",
                "visibility": "visible",
                "extra_data": {"grade_id": test.grade_id, "result": test.status, "hidden_tests": test.hidden},
            }
        )
    return {
        "score": result.score,
        "execution_time": round(result.seconds),
        "output": summary_text(result, tests=False),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "student": result.student,
            "status": result.status,
            "max_score": result.max_score,
            "sandbox": result.sandbox,
            "submission": Path(result.submission).name if result.submission else None,
        },
        "tests": tests,
    }


def summary_text(result: SubmissionResult, tests: bool = True) -> str:
    """Plain-text report: score, sandbox, notes and (optionally) one block per test."""
    lines = [f"{result.student}: {_num(result.score)} / {_num(result.max_score)} points ({result.status})"]
    lines.append(f"sandbox: {_sandbox(result)}")
    lines += [f"note: {note}" for note in result.notes]
    if tests:
        for test in result.tests:
            mark = {Status.PASSED: "PASS", Status.PARTIAL: "PART"}.get(test.status, "FAIL")
            hidden = " [hidden tests]" if test.hidden else ""
            lines.append(f"{mark} {test.grade_id}{hidden}: {_num(test.points)} / {_num(test.max_points)}")
            if test.status != Status.PASSED:
                lines += ["    " + line for line in test.message.splitlines()]
                if test.details:
                    lines.append("    traceback:")
                    lines += ["        " + line for line in test.details.splitlines()]
    return "\n".join(lines)


PUBLIC_ONLY = (
    "These are the public checks only: when the notebook is graded, hidden tests "
    "check more cases, so the final score may be lower."
)


def check_text(result: SubmissionResult) -> str:
    """What ``cnncourse check`` prints: the points on the public checks, then each test
    with the lines its cell showed in the notebook (a "\u2713" or "\u2717" line per part)."""
    hidden = any(t.hidden for t in result.tests)
    what = "the public and hidden tests" if hidden else "the public checks"
    status = "" if result.status == Status.GRADED else f" ({result.status})"  # missing, unreadable, error
    lines = [f"{result.student}: {_num(result.score)} / {_num(result.max_score)} points on {what}{status}"]
    lines.append(f"sandbox: {_sandbox(result)}")
    lines += [f"note: {note}" for note in result.notes]
    for test in result.tests:
        mark = {Status.PASSED: "PASS", Status.PARTIAL: "PART"}.get(test.status, "FAIL")
        with_hidden = " [hidden tests]" if test.hidden else ""
        lines.append(f"{mark} {test.grade_id}{with_hidden}: {_num(test.points)} / {_num(test.max_points)}")
        if test.status != Status.PASSED:
            lines += ["    " + line for line in message_lines(test)]
            if test.details:
                lines.append("    traceback:")
                lines += ["        " + line for line in test.details.splitlines()]
    if not hidden:
        lines += ["", PUBLIC_ONLY]
    return "\n".join(lines)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem; text-align: left; vertical-align: top; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .5rem; margin: 0; }
details { margin-top: .3rem; } summary { cursor: pointer; color: #555; }
details pre { background: #fbfbfb; color: #444; font-size: .9em; }
.passed { color: #176b2c; } .partial { color: #8a5a00; } .failed, .not_run { color: #a11; }
"""


def feedback_html(result: SubmissionResult) -> str:
    """A self-contained feedback page for the learner (no scripts, everything escaped)."""
    e = html.escape
    rows = []
    for test in result.tests:
        label = e(test.grade_id) + (" <small>(with hidden tests)</small>" if test.hidden else "")
        shown = "\n".join(message_lines(test))
        message = "" if test.status == Status.PASSED else f"<pre>{e(shown)}</pre>"
        if message and test.details:
            message += f"<details><summary>Traceback</summary><pre>{e(test.details)}</pre></details>"
        rows.append(
            f'<tr><td>{label}</td><td class="{e(test.status)}">{e(test.status)}</td>'
            f"<td>{_num(test.points)} / {_num(test.max_points)}</td>"
            f"<td>{message}</td></tr>"
        )
    notes = "".join(f"<li>{e(n)}</li>" for n in result.notes)
    name = Path(result.submission).name if result.submission else "(none)"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Feedback: {e(result.student)}</title><style>{_CSS}</style></head>
<body>
<h1>Feedback for {e(result.student)}</h1>
<p>Notebook: <code>{e(name)}</code> &middot; score <strong>{_num(result.score)} /
{_num(result.max_score)}</strong> &middot; {e(result.status)}</p>
<p>Sandbox: {e(_sandbox(result))}</p>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Tests</h2>
<table><tr><th>Test</th><th>Result</th><th>Points</th><th>Details</th></tr>
{"".join(rows)}
</table>
<p><small>{e(HIDDEN_FOOTNOTE)}</small></p>
</body></html>
"""


def write_student_reports(result: SubmissionResult, out_dir: Path) -> tuple[Path, Path]:
    """``results/<student>.json`` and ``feedback/<student>.html`` under ``out_dir``."""
    name = safe_name(result.student)
    json_path = out_dir / "results" / f"{name}.json"
    html_path = out_dir / "feedback" / f"{name}.html"
    write_text(json_path, json.dumps(gradescope_json(result), indent=1) + "\n")
    write_text(html_path, feedback_html(result))
    return json_path, html_path


def _cell(text: str) -> str:
    """Defuse spreadsheet formulas in learner-controlled text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_gradebook(results: Sequence[SubmissionResult], path: Path, test_ids: Sequence[str]) -> Path:
    """One row per submission: score, status, sandbox, points per test and the notes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["student", "submission", "score", "max_score", "status", "sandbox", *test_ids, "seconds", "notes"]
    )
    for r in results:
        points = {t.grade_id: _num(t.points) for t in r.tests}
        writer.writerow(
            [
                _cell(r.student),
                _cell(r.submission or ""),
                _num(r.score),
                _num(r.max_score),
                r.status,
                _cell(r.sandbox),
                *(points.get(t, "0") for t in test_ids),
                _num(r.seconds),
                _cell(" | ".join(r.notes)),
            ]
        )
    write_text(path, buffer.getvalue())
    return path
