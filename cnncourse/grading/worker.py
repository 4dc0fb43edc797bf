"""A grading process: ``python -m cnncourse.grading.worker`` grades one job per stdin line.

A job is a JSON object ``{"id", "source", "submission", "student", "limits", "result",
"kernels", "tmp"}``. Its temporary files go under ``tmp``, which the coordinator deletes
even when it has to kill the worker. The worker writes the :class:`~.grade.SubmissionResult` to ``result``
(atomically), appends the process group of each kernel it starts to ``kernels`` (so the
coordinator can kill them if it has to kill the worker), then answers ``{"id": ...}`` on
stdout. It lives for many jobs, so its imports are paid once; each submission still gets
its own fresh kernel.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from pathlib import Path

from .atomic import write_text
from .grade import SubmissionResult, grade_notebook, load_source
from .runner import Limits
from .status import Status


def run_job(job: dict, sources: dict) -> SubmissionResult:
    """Grade one job; a failure of the grader itself becomes a ``grader error`` result."""
    source_path = job["source"]
    kernels = Path(job["kernels"])

    def remember(pgid: int) -> None:
        with kernels.open("a") as f:
            f.write(f"{pgid}\n")

    max_score = 0.0
    try:
        if source_path not in sources:
            sources[source_path] = load_source(source_path)
        nb, max_score = sources[source_path]
        return grade_notebook(
            source_path,
            job["submission"],
            job["student"],
            Limits(**job["limits"]),
            source=nb,
            on_kernel=remember,
        )
    except Exception as exc:  # a bug of the grader: report it, keep the batch going
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        return SubmissionResult(
            job["student"],
            job["submission"],
            source_path,
            Status.GRADER_ERROR,
            0.0,
            max_score,
            [],
            [f"grader error: {type(exc).__name__}: {exc}"],
        )


def main() -> int:
    sources: dict = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        Path(job["tmp"]).mkdir(parents=True, exist_ok=True)
        tempfile.tempdir = job["tmp"]
        result = run_job(job, sources)
        write_text(Path(job["result"]), json.dumps(result.to_dict()))
        sys.stdout.write(json.dumps({"id": job["id"]}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
