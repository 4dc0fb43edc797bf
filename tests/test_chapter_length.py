"""Every chapter's main path fits one sitting: at most CORE_WORDS words of prose.

Material beyond that goes into optional deep dives: sections whose heading starts with
``Deep dive:``. A deep dive runs to the next heading of its level or above; the book sets
it apart (book/_assets/cnncourse.css styles ``section[id^="deep-dive"]``) and a reader
can skip it. Words are those of the markdown cells, maths and inline code included.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

CHAPTERS = Path(__file__).resolve().parents[1] / "book" / "chapters"
CHAPTER_NAMES = sorted(p.stem for p in CHAPTERS.glob("*.ipynb"))
CORE_WORDS = 3500
DEEP_DIVE = "Deep dive:"
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def core_and_deep_dive_words(markdown_cells: list[str]) -> tuple[int, dict[str, int]]:
    """Words of the main path, and of each deep dive by title, in a chapter's markdown
    cells (in order; a deep dive may span cells, code cells between them included)."""
    core, dives = 0, {}
    dive_title, dive_level = None, 0
    for source in markdown_cells:
        in_fence = False
        for line in source.splitlines():
            if _FENCE.match(line):
                in_fence = not in_fence
            heading = None if in_fence else _HEADING.match(line)
            if heading:
                level, title = len(heading.group(1)), heading.group(2).strip()
                if dive_title is not None and level <= dive_level:
                    dive_title = None
                if title.startswith(DEEP_DIVE):
                    if dive_title is not None:
                        raise ValueError(f"deep dive {title!r} nested in {dive_title!r}")
                    dive_title, dive_level = title, level
                    dives[title] = 0
            words = len(line.split())
            if dive_title is None:
                core += words
            else:
                dives[dive_title] += words
    return core, dives


def chapter_words(name: str) -> tuple[int, dict[str, int]]:
    nb = nbformat.read(CHAPTERS / f"{name}.ipynb", as_version=4)
    return core_and_deep_dive_words([c.source for c in nb.cells if c.cell_type == "markdown"])


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_the_main_path_of_every_chapter_fits_one_sitting(name):
    core, dives = chapter_words(name)
    assert core <= CORE_WORDS, (
        f"{name}: {core} words outside deep dives (at most {CORE_WORDS}); move optional "
        f"material into a section titled '{DEEP_DIVE} ...' (deep dives now: {dives})"
    )


def test_words_are_split_between_the_main_path_and_deep_dives():
    cells = [
        "# Title\n\nOne two three.\n\n## Deep dive: float32 rounding\n\nfour five",
        "six seven\n\n```python\n# Deep dive: not a heading in code\n```\n\n### A sub-part\n\neight",
        "## Back on the path\n\nnine ten",
    ]
    core, dives = core_and_deep_dive_words(cells)
    # core: "# Title" 2 + 3 + "## Back on the path" 5 + 2; the deep dive keeps the rest
    assert core == 12
    assert dives == {"Deep dive: float32 rounding": 5 + 2 + 1 + 9 + 1 + 4 + 1}
    with pytest.raises(ValueError, match="nested"):
        core_and_deep_dive_words(["## Deep dive: a\n\n### Deep dive: b"])
