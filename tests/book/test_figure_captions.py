"""Every figure of the book has a caption that tells the reader what to see.

A figure is a code cell whose executed output holds a picture (a matplotlib PNG, or an
explorer's static figure). Its caption is the cell's ``mystnb.figure.caption`` metadata,
which myst-nb renders as the ``<figcaption>`` of an HTML ``<figure>`` (and so the PDF
and the slides show it too). Measured numbers do not belong in a caption, where they
would drift from the run: the prose and the alternative text carry those.
"""

from __future__ import annotations

import re

import pytest

from cnncourse.publish.executed import StaleBuildError, executed_chapters

from .conftest import BOOK, built_html, not_available

NAME = re.compile(r"fig-\d\d-[a-z0-9-]+")
# A decimal or a percentage is a measured number (sizes such as 4 × 4 are whole numbers).
MEASURED = re.compile(r"\d+\.\d+|\d+\s*%")


def figure_cells() -> list[tuple[str, int, dict]]:
    """``(chapter, cell index, cell)`` for every cell whose executed outputs hold a PNG."""
    try:
        chapters = executed_chapters(BOOK, built_html().parent)
    except StaleBuildError as error:
        not_available(str(error))
    return [
        (name.removeprefix("chapters/"), index, cell)
        for name, nb in chapters
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and any("image/png" in output.get("data", {}) for output in cell.outputs)
    ]


@pytest.fixture(scope="module")
def figures():
    cells = figure_cells()
    assert cells, "the executed chapters have no figures"
    return cells


def test_every_figure_has_a_caption_and_a_name(figures):
    missing, bad_names, measured = [], [], []
    for chapter, index, cell in figures:
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        caption = " ".join(str(figure.get("caption", "")).split())
        where = f"{chapter} cell {index} ({cell.source.strip().splitlines()[0][:50]!r})"
        if len(caption.split()) < 5:
            missing.append(where)
        if not NAME.fullmatch(str(figure.get("name", ""))) or not figure["name"].startswith(
            f"fig-{chapter[:2]}-"
        ):
            bad_names.append(f"{where}: {figure.get('name')!r}")
        if MEASURED.search(caption):
            measured.append(f"{where}: {caption!r}")
    assert not missing, f"{len(missing)} figures without a caption of at least five words: {missing}"
    assert not bad_names, f"figure names must be fig-NN-words, NN the chapter: {bad_names}"
    assert not measured, f"captions that quote measured numbers (put them in the prose): {measured}"
    names = [cell.metadata["mystnb"]["figure"]["name"] for _, _, cell in figures]
    assert len(set(names)) == len(names), "two figures share a name"


def test_the_built_pages_show_the_captions(figures, html_dir):
    for chapter in sorted({chapter for chapter, _, _ in figures}):
        page = (html_dir / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
        expected = sum(1 for c, _, _ in figures if c == chapter)
        shown = len(re.findall(r"<figcaption", page))
        assert shown >= expected, f"{chapter}.html shows {shown} figure captions for {expected} figures"
