"""Grading throughput with and without the sandbox, measured side by side in one run.

    .venv/bin/python benchmarks/grading_throughput.py            # 50 copies, --jobs 2
    .venv/bin/python benchmarks/grading_throughput.py --copies 20 --rounds 2

Grades ``--copies`` copies of ``solutions/00_demo_convolution.ipynb`` (the full solution,
so every cell runs) as one batch per mode, alternating the modes ``--rounds`` times, and
prints submissions per minute for each mode and the ratio. The sandbox mode needs
bubblewrap (``make sandbox``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from cnncourse.grading.batch import grade_batch
from cnncourse.grading.runner import Limits
from cnncourse.grading.submissions import find_submissions

SOURCE = Path(__file__).resolve().parents[1] / "solutions" / "00_demo_convolution.ipynb"


def one_batch(folder: Path, copies: int, jobs: int, mode: str) -> tuple[float, float]:
    """Seconds to grade the batch, and the mean score (to show every copy was graded)."""
    subs = folder / f"subs-{mode}"
    subs.mkdir()
    for i in range(copies):
        shutil.copy(SOURCE, subs / f"student{i:03d}.ipynb")
    found = find_submissions([subs], SOURCE.name, [])
    limits = Limits(threads=max(1, (os.cpu_count() or 1) // jobs), sandbox=mode)
    start = time.perf_counter()
    results = grade_batch(SOURCE, found, folder / f"out-{mode}", jobs=jobs, limits=limits)
    seconds = time.perf_counter() - start
    shutil.rmtree(subs)
    return seconds, statistics.mean(r.score for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(args.rounds):
        for mode in ("on", "off"):
            with tempfile.TemporaryDirectory() as tmp:
                seconds, mean = one_batch(Path(tmp), args.copies, args.jobs, mode)
            times[mode].append(seconds)
            print(
                f"sandbox {mode:>3}: {args.copies} submissions in {seconds:5.1f} s "
                f"({60 * args.copies / seconds:5.1f} per minute), mean score {mean:g}"
            )
    on, off = (statistics.median(times[m]) for m in ("on", "off"))
    print(
        f"median over {args.rounds} round(s), --jobs {args.jobs}, {os.cpu_count()} CPUs: "
        f"sandbox on {60 * args.copies / on:.1f}/min, off {60 * args.copies / off:.1f}/min; "
        f"the sandbox costs {on / off:.2f}x the time"
    )


if __name__ == "__main__":
    main()
