"""The measured numbers a chapter glues into its prose are what the built page and the
chapter's deck show, in place of the roles (``{glue:text}`name```)."""

from __future__ import annotations

import html
import re

import nbformat
import pytest

from cnncourse.publish.executed import executed_chapter
from cnncourse.publish.glue import glue_names_used, glued_values

from .conftest import CHAPTERS, built_html, not_available, toc_chapters

pytestmark = pytest.mark.slow
_TAG = re.compile(r"<[^>]+>")


def _text(page_html: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", page_html)).split())


@pytest.mark.parametrize("name", toc_chapters())
def test_the_page_and_the_deck_show_every_glued_number(name):
    html_dir = built_html()
    page = html_dir / "chapters" / f"{name}.html"
    deck = html_dir / "slides" / f"{name}.html"
    if not (page.is_file() and deck.is_file()):
        not_available(f"the book or its slides are not built ({page}, {deck}): run `make book`")
    source = nbformat.read(CHAPTERS / f"{name}.ipynb", as_version=4)
    quoted = glue_names_used("\n".join(c.source for c in source.cells if c.cell_type == "markdown"))
    values = glued_values(executed_chapter(CHAPTERS / f"{name}.ipynb", html_dir.parent))
    assert set(quoted) <= set(values), (
        f"{name}: quoted but not glued by the build: {set(quoted) - set(values)}"
    )
    page_html, deck_html = page.read_text(encoding="utf-8"), deck.read_text(encoding="utf-8")
    for where, text in (("page", page_html), ("deck", deck_html)):
        assert "{glue" not in text, f"{name}: the {where} shows a glue role instead of its value"
    page_text = _text(page_html)
    missing = [f"{n} = {values[n]!r}" for n in quoted if " ".join(values[n].split()) not in page_text]
    assert not missing, f"{name}: the page does not show these glued values: {missing}"
