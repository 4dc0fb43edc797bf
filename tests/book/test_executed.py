"""Every chapter ran top to bottom on a fresh kernel, and the checked cells printed what is
stored in them.

The book build (``make book``: ``cnncourse.publish.execute``, then Jupyter Book reading its
execution cache) runs every chapter on a fresh kernel and fails on any cell error, and keeps
the runs in that cache. These tests read those runs instead of running the
chapters a second time (as nbval did): every code cell has run, none shows an error, and
each cell tagged ``nbval-check-output`` printed exactly the text stored in the chapter
(its stdout and its results' text, as ``pytest --nbval-lax`` compared them; stderr,
where libraries log, is left out).
"""

from __future__ import annotations

import nbformat
import pytest

from cnncourse.publish.executed import CACHE_FOLDER, StaleBuildError, executed_chapter

from .conftest import CHAPTERS, built_html, not_available, toc_chapters

pytestmark = pytest.mark.slow
CHECK = "nbval-check-output"


def _printed(cell) -> dict[str, str]:
    """What a cell printed: its stdout joined, and its results' text/plain."""
    text: dict[str, str] = {}
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":  # stderr: library logging
            text[out.name] = text.get(out.name, "") + out.text
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            text[out.output_type] = text.get(out.output_type, "") + out.data["text/plain"]
    return text


@pytest.mark.parametrize("name", toc_chapters())
def test_the_book_build_ran_the_chapter_and_its_checked_cells_print_what_is_stored(name):
    source = CHAPTERS / f"{name}.ipynb"
    try:
        ran = executed_chapter(source, built_html().parent)
    except StaleBuildError as error:
        if not (built_html().parent / CACHE_FOLDER).is_dir():
            not_available(f"the book is not built: run `make book` ({error})")
        pytest.fail(str(error))
    stored = nbformat.read(source, as_version=4)
    code = [c for c in stored.cells if c.cell_type == "code"]
    ran_code = [c for c in ran.cells if c.cell_type == "code"]
    assert [c.source for c in ran_code] == [c.source for c in code], "the build ran another version"
    counts = [c.execution_count for c in ran_code if c.source.strip()]
    assert counts == list(range(1, len(counts) + 1)), f"not run top to bottom on a fresh kernel: {counts}"
    errors = [(i, o.ename) for i, c in enumerate(ran_code) for o in c.outputs if o.output_type == "error"]
    assert not errors, f"cells raised: {errors}"
    checked = 0
    for i, (want, got) in enumerate(zip(code, ran_code, strict=True)):
        if CHECK in want.metadata.get("tags", []):
            checked += 1
            expected, printed = _printed(want), _printed(got)
            assert printed == expected, f"code cell {i} printed:\n{printed}\nbut stores:\n{expected}"
    assert checked >= 2, f"{source.name}: fewer than 2 cells tagged {CHECK}"
