"""Run the book's notebooks before Sphinx reads them, one per core: ``make book`` does
this first (``python -m cnncourse.publish.execute``).

Jupyter Book runs each notebook as Sphinx reads it, one after the other, and a chapter
keeps about one core busy: on a two-core machine half the machine idled through most of
the build. This module runs the notebooks in parallel, each on a fresh kernel in its own
folder, and stores them in Jupyter Book's execution cache (jupyter-cache, ``execute:
execute_notebooks: cache`` in ``book/_config.yml``). The build that follows finds every
notebook executed and runs none of them again.

Every build still runs every notebook: the cache is emptied first, so no page ever shows
outputs of an older version of the chapter or of ``cnncourse``. The longest notebooks of
the previous run start first, so that the cores finish at about the same time; the few
that measure timings run before the others, one at a time (:func:`runs_alone`). A
notebook that raises stops nothing else; all of them run, and then the build is refused,
naming each failing notebook and its error.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from .executed import CACHE_FOLDER, book_parser, toc_files


@dataclass(frozen=True)
class Run:
    """One notebook's execution: how long it took and the error it raised, if any."""

    path: Path
    seconds: float
    error: str | None = None


class ExecutionFailed(RuntimeError):
    """At least one notebook raised: the book is not built from it."""


def book_notebooks(book: Path) -> list[Path]:
    """The notebooks of the table of contents, in book order."""
    return [book / f"{name}.ipynb" for name in toc_files(book) if (book / f"{name}.ipynb").is_file()]


def cell_timeout(book: Path) -> int:
    """The longest a cell may run, as the book's ``_config.yml`` sets it (``execute:
    timeout``) for Jupyter Book's own executions."""
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    return int(config.get("execute", {}).get("timeout", 30))


def runs_alone(path: Path) -> bool:
    """Whether the notebook asks to run with no other notebook beside it
    (``"cnncourse": {"run_alone": true}`` in its metadata): the chapters that time
    training or hardware print timings of this machine, not of two chapters sharing it."""
    metadata = nbformat.read(path, as_version=4).metadata
    return bool(metadata.get("cnncourse", {}).get("run_alone", False))


def _execute(path: Path, timeout: int) -> tuple[str, float, str | None]:
    """Runs in a worker process: the executed notebook as JSON, its run time, its error."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(path.parent), timeout=timeout, allow_errors=False)
    return nbformat.writes(result.nb), result.time, result.exc_string


def execute_book(book: Path, build: Path, jobs: int | None = None, log=print) -> list[Run]:
    """Execute every notebook of ``book`` into the execution cache in ``build``: those that
    :func:`runs_alone` one by one, then the others ``jobs`` at a time (default: one per
    core). Returns the runs in the order they finished.
    Raises :class:`ExecutionFailed` after all have run if any of them raised."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    notebooks = book_notebooks(book)
    cache = get_cache(str(build / CACHE_FOLDER))
    previous = {Path(r.uri): r.data.get("execution_seconds", 0.0) for r in cache.list_cache_records()}
    cache.clear_cache()
    for path in notebooks:
        cache.add_nb_to_project(str(path))
    # Longest first, as measured last time. Without a last time (a fresh clone), the book's
    # end first: its later chapters train the larger networks.
    order = sorted(reversed(notebooks), key=lambda p: -previous.get(p, float("inf")))
    timeout, runs = cell_timeout(book), []

    def keep(path: Path, executed: str, seconds: float, error: str | None) -> None:
        if error is None:
            bundle = CacheBundleIn(
                nbformat.reads(executed, as_version=4), str(path), data={"execution_seconds": seconds}
            )
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
        runs.append(Run(path, seconds, error))
        log(f"{path.relative_to(book)}: {'executed' if error is None else 'FAILED'} in {seconds:.1f} s")

    for path in [p for p in order if runs_alone(p)]:  # first, with the machine to themselves
        keep(path, *_execute(path, timeout))
    shared = [p for p in order if not runs_alone(p)]
    jobs = jobs or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(shared)))) as pool:
        futures = {pool.submit(_execute, path, timeout): path for path in shared}
        for future in as_completed(futures):
            keep(futures[future], *future.result())
    failed = [run for run in runs if run.error is not None]
    if failed:
        raise ExecutionFailed(
            "\n\n".join(f"{run.path.relative_to(book)} raised:\n{run.error}" for run in failed)
        )
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = book_parser(__doc__)
    parser.add_argument("--jobs", type=int, help="notebooks at a time (default: one per core)")
    args = parser.parse_args(argv)
    book = args.book.resolve()
    build = (args.build or book / "_build").resolve()
    start = time.perf_counter()
    try:
        runs = execute_book(book, build, args.jobs)
    except ExecutionFailed as failure:
        print(f"\n{failure}", file=sys.stderr)
        return 1
    total = sum(run.seconds for run in runs)
    print(f"{len(runs)} notebooks, {total:.0f} s of runs in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
