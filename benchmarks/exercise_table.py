"""The exercise notebooks side by side: graded parts, points and the time to grade each.

    .venv/bin/python benchmarks/exercise_table.py              # every solutions notebook
    .venv/bin/python benchmarks/exercise_table.py 02 14        # notebooks starting with 02, 14

For every ``solutions/*.ipynb``, grades the full solution (so every cell and every hidden
test runs) the way an instructor does (``grade_notebook``, sandbox when available) and
prints its parts (graded test cells), points, the score the solution earned, the wall
time of grading it, and the share of the whole. The course's target is under 90 s per
notebook on a 2-core machine. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from cnncourse.grading.assemble import build_plan
from cnncourse.grading.grade import grade_notebook, load_source
from cnncourse.grading.runner import Limits

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
TARGET_S = 90.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebook name prefixes (default: all)")
    args = parser.parse_args()
    paths = [
        p
        for p in sorted(SOLUTIONS.glob("*.ipynb"))
        if not args.prefixes or p.name.startswith(tuple(args.prefixes))
    ]
    limits = Limits(cell_timeout=300, notebook_timeout=900, threads=os.cpu_count() or 1, sandbox="auto")
    rows = []
    for path in paths:
        nb, max_score = load_source(path)
        parts = len(build_plan(nb, None).tests)
        start = time.perf_counter()
        result = grade_notebook(path, path, "solution", limits, source=nb)
        rows.append((path.stem, parts, max_score, result.score, time.perf_counter() - start, result.sandbox))
    total = sum(r[4] for r in rows)
    print("| notebook | parts | points | solution's score | grading time (s) | sandbox |")
    print("|---|---:|---:|---:|---:|---|")
    for name, parts, points, score, seconds, sandbox in rows:
        flag = "" if seconds < TARGET_S else f" (over {TARGET_S:g} s)"
        print(f"| {name} | {parts} | {points:g} | {score:g} | {seconds:.1f}{flag} | {sandbox} |")
    print(
        f"| **total** | {sum(r[1] for r in rows)} | {sum(r[2] for r in rows):g} | "
        f"{sum(r[3] for r in rows):g} | {total:.1f} | |"
    )


if __name__ == "__main__":
    main()
