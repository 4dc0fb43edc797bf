"""The chapter notebooks: listed in the table of contents, and stored without outputs
except the expected text of the cells nbval checks (tagged ``nbval-check-output``)."""

from __future__ import annotations

import nbformat
import pytest

from .conftest import CHAPTERS, toc, toc_chapters, toc_files

CHAPTERS_IN_TOC = toc_chapters()
CHECK = "nbval-check-output"
TEXT_MIMES = {"text/plain", "text/html", "text/markdown", "text/latex"}


def test_toc_lists_every_chapter_once_and_in_order():
    files = toc_files()
    assert CHAPTERS_IN_TOC, "book/_toc.yml lists no chapters/ files"
    assert len(set(CHAPTERS_IN_TOC)) == len(CHAPTERS_IN_TOC), f"listed twice: {CHAPTERS_IN_TOC}"
    # chapter files are numbered, so the table of contents must list them by number
    assert CHAPTERS_IN_TOC == sorted(CHAPTERS_IN_TOC)
    on_disk = sorted(p.stem for p in CHAPTERS.glob("*.ipynb"))
    assert on_disk == sorted(CHAPTERS_IN_TOC), (
        "book/chapters and book/_toc.yml disagree: not in the table of contents "
        f"{sorted(set(on_disk) - set(CHAPTERS_IN_TOC))}, missing from book/chapters "
        f"{sorted(set(CHAPTERS_IN_TOC) - set(on_disk))}"
    )
    assert "exercises" in files and toc()["root"] == "intro"


@pytest.mark.parametrize("name", CHAPTERS_IN_TOC)
def test_chapter_exists_and_outputs_are_only_the_checked_text(name):
    path = CHAPTERS / f"{name}.ipynb"
    assert path.is_file(), f"{path} is missing (it is in book/_toc.yml)"
    nb = nbformat.read(path, as_version=4)
    problems, checked = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if CHECK in tags:
            checked += 1
            if not cell.outputs:
                problems.append(f"cell {i} is tagged {CHECK} but stores no expected output")
            elif cell.execution_count is None:  # nbval: "Unrun reference cell has outputs"
                problems.append(f"cell {i} stores outputs without an execution count")
            for out in cell.outputs:
                mimes = set(out.get("data", {})) if out.output_type != "stream" else {"text/plain"}
                if out.output_type == "error" or not mimes <= TEXT_MIMES:
                    problems.append(
                        f"cell {i}: checked output must be text, got {out.output_type} {sorted(mimes)}"
                    )
        elif cell.outputs or cell.execution_count is not None:
            problems.append(f"cell {i} stores outputs but is not tagged {CHECK}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    assert checked >= 2, f"{path.name}: tag 2-3 deterministic cells {CHECK} (found {checked})"
