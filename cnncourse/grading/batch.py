"""Grade many submissions in parallel; every one of them ends up in the gradebook.

``jobs`` lanes each drive a long-lived worker process (:mod:`.worker`), one submission
at a time. A worker that does not answer within the notebook limit plus a margin, or
that dies, is killed together with its kernels; that submission is reported as a grader
error and the lane starts a new worker. Per-student reports are written as soon as a
submission is done; the CSV gradebook at the end (and ``grader.log`` when a worker
reported errors of its own). All writes are atomic.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

from .assemble import build_plan
from .atomic import write_text
from .grade import SubmissionResult, failed_result, load_source
from .report import write_gradebook, write_student_reports
from .runner import Limits
from .sandbox import resolve_mode
from .status import Status
from .submissions import Submission

MARGIN_S = 60.0


class _Worker:
    """One ``python -m cnncourse.grading.worker`` process and a thread reading its answers."""

    def __init__(self, log: Path):
        self.log = log
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cnncourse.grading.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                bufsize=1,
                start_new_session=True,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
        self.answers: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put(None)

    def run(self, job: dict, timeout: float) -> str | None:
        """Send a job; None when it finished, else why it did not."""
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except OSError:
            return "the grading process had exited"
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.answers.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return (
                    f"grading took longer than {timeout:g} s (the notebook limit plus a "
                    "margin); the grader was stopped"
                )
            if line is None:
                code = self.proc.wait()
                return f"the grading process exited with code {code}"
            try:
                if json.loads(line).get("id") == job["id"]:
                    return None
            except (ValueError, AttributeError):
                continue

    def kill(self, kernels_file: Path | None = None) -> None:
        pgids = {self.proc.pid}
        if kernels_file and kernels_file.exists():
            pgids |= {int(x) for x in kernels_file.read_text().split() if x.isdigit()}
        for pgid in pgids:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


def grade_batch(
    source: Path,
    submissions: Sequence[Submission],
    out_dir: Path,
    *,
    jobs: int = 2,
    limits: Limits | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission and write the reports; returns results in input order.

    Raises :class:`~.notebook_format.NotebookError` only for a bad *source*, and
    :class:`~.sandbox.SandboxUnavailable` before grading anything when ``limits.sandbox``
    is ``"on"`` and the sandbox cannot run; nothing a submission does stops the batch.
    """
    limits = limits or Limits(threads=max(1, (os.cpu_count() or 1) // max(1, jobs)))
    limits = replace(limits, sandbox=resolve_mode(limits.sandbox))
    nb, max_score = load_source(source)
    template = build_plan(nb, None)
    test_ids = [step.grade_id for step in template.tests]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[SubmissionResult | None] = [None] * len(submissions)
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(submissions)):
        todo.put(i)
    lock = threading.Lock()
    done = [0]
    hard_limit = limits.notebook_timeout + MARGIN_S

    def finish(i: int, result: SubmissionResult) -> None:
        sub = submissions[i]
        result.notes = list(sub.notes) + [n for n in result.notes if n not in sub.notes]
        result.sandbox = limits.sandbox
        write_student_reports(result, out_dir)
        with lock:
            results[i] = result
            done[0] += 1
            if progress:
                progress(
                    f"[{done[0]}/{len(submissions)}] {result.student}: "
                    f"{result.score:g}/{result.max_score:g} ({result.status}, "
                    f"{result.seconds:.1f} s)"
                )

    def lane(workdir: Path, lane_id: int) -> None:
        worker = None
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                sub = submissions[i]
                if sub.path is None:
                    reason = sub.notes[-1] if sub.notes else "no submission found"
                    finish(
                        i,
                        failed_result(source, sub.student, None, Status.MISSING, reason, max_score, template),
                    )
                    continue
                worker = worker or _Worker(workdir / f"worker-{lane_id}.log")
                job = {
                    "id": i,
                    "source": str(source),
                    "submission": str(sub.path),
                    "student": sub.student,
                    "limits": asdict(limits),
                    "result": str(workdir / f"result-{i}.json"),
                    "kernels": str(workdir / f"kernels-{i}.txt"),
                    "tmp": str(workdir / f"tmp-{lane_id}"),
                }
                started = time.monotonic()
                problem = worker.run(job, hard_limit)
                result = None
                if problem is None:
                    try:
                        data = json.loads(Path(job["result"]).read_text())
                        result = SubmissionResult.from_dict(data)
                    except (OSError, ValueError, TypeError) as exc:
                        problem = f"the grader's result could not be read ({exc})"
                if problem is not None:
                    worker.kill(Path(job["kernels"]))
                    worker = None
                    result = failed_result(
                        source, sub.student, str(sub.path), Status.GRADER_ERROR, problem, max_score, template
                    )
                    result.seconds = round(time.monotonic() - started, 2)
                finish(i, result)
        finally:
            if worker is not None:
                worker.close()

    with tempfile.TemporaryDirectory(prefix="cnncourse-batch-") as tmp:
        threads = [
            threading.Thread(target=lane, args=(Path(tmp), k), daemon=True)
            for k in range(max(1, min(jobs, len(submissions))))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        logs = "".join(p.read_text(errors="replace") for p in sorted(Path(tmp).glob("*.log")))
        if logs.strip():  # the grader's own errors, for the instructor
            write_text(out_dir / "grader.log", logs)
    final = [
        r
        if r is not None
        else failed_result(
            source, s.student, str(s.path), Status.GRADER_ERROR, "not graded", max_score, template
        )
        for r, s in zip(results, submissions, strict=True)
    ]
    write_gradebook(final, out_dir / "gradebook.csv", test_ids)
    return final
