"""The printed book (``make pdf``, ``cnncourse/publish/pdf.py``): one PDF whose outline has
a top-level entry for every page of the table of contents, in book order; a contents page
whose numbers are the pages those entries point to; "page N of M" at the foot of every
page; maths typeset (no TeX left in the text); at least one embedded image per figure of
the executed chapters, each with its alternative text in the tagged PDF.

``make pdf`` also checks, before it prints, that no code cell, figure or formula is wider
than the page (``layout_problems``; ``tests/test_publish_pdf.py`` tests that check and the
stylesheet that wraps code).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from cnncourse.publish.executed import CACHE_FOLDER, executed_chapters, without_widget_views
from cnncourse.publish.pdf import outline_entries

from .conftest import BOOK, built_html, not_available, toc, toc_files

pytestmark = pytest.mark.slow

PDF = Path(os.environ.get("CNNCOURSE_BOOK_PDF", BOOK / "_build" / "pdf" / "cnncourse.pdf"))
# TeX as MathJax would have replaced it: display delimiters and commands (\\frac). Typeset
# maths has neither in the PDF's text.
RAW_TEX = re.compile(r"\$\$|\\[A-Za-z]+")


def _normal(text: str) -> str:
    """``text`` with ligatures (ﬁ) spelt out and runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def page_title(file: str) -> str:
    """The ``# Title`` a page of the table of contents starts with (``chapters/02_convolution``)."""
    path = BOOK / file
    if path.with_suffix(".ipynb").is_file():
        nb = nbformat.read(path.with_suffix(".ipynb"), as_version=4)
        text = next(c.source for c in nb.cells if c.cell_type == "markdown")
    else:
        text = path.with_suffix(".md").read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    return _normal(heading.removeprefix("# "))


def book_titles() -> list[str]:
    """The title of every page of the book, in table-of-contents order (the root first)."""
    return [page_title(f) for f in [toc()["root"], *toc_files()]]


@pytest.fixture(scope="module")
def pdf() -> PdfReader:
    runs = built_html().parent / CACHE_FOLDER  # the chapters' runs (cnncourse.publish.execute)
    if not PDF.is_file():
        if not runs.is_dir():
            not_available(f"the book is not built ({runs} is missing): run `make book`, then `make pdf`")
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    newer = [p.parent.name for p in runs.rglob("*.ipynb") if p.stat().st_mtime > PDF.stat().st_mtime]
    assert not newer, f"{PDF} is older than the book build ({newer[:3]}): run `make pdf` again"
    reader = PdfReader(PDF)
    print(f"\n{PDF}: {len(reader.pages)} pages, {PDF.stat().st_size / 1e6:.1f} MB")
    return reader


@pytest.fixture(scope="module")
def chapters() -> list[nbformat.NotebookNode]:
    """The executed chapters, widget views left out, as the PDF shows them."""
    return [without_widget_views(nb) for _, nb in executed_chapters(BOOK)]


@pytest.fixture(scope="module")
def page_text(pdf, apt_install):
    """``page_text(n)``: the text of page ``n`` (from 1), normalised.

    Poppler's ``pdftotext`` reads the whole book in about a second; it is installed where
    missing (``poppler-utils``, as root, like Chromium). Where it cannot be had, pypdf
    reads each page once, at about 0.1 s a page on a quiet machine: three minutes for the
    book beside the other tests of ``make test``.
    """
    try:
        poppler = apt_install("pdftotext", "poppler-utils")
    except subprocess.CalledProcessError:
        poppler = False
    if poppler:
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(PDF), "-"], capture_output=True, check=True)
        pages = done.stdout.decode("utf-8").split("\f")  # a form feed ends every page
        assert len(pages) == len(pdf.pages) + 1 and not pages[-1].strip(), (
            f"pdftotext read {len(pages) - 1} pages, pypdf {len(pdf.pages)}"
        )
        texts = [_normal(page) for page in pages[:-1]]
        return lambda number: texts[number - 1]

    @functools.cache
    def text(number: int) -> str:
        return _normal(pdf.pages[number - 1].extract_text())

    return text


def test_the_outline_has_one_top_level_entry_per_chapter_in_book_order(pdf):
    titles = [title for title, _ in outline_entries(pdf)]
    expected = book_titles()
    chapters = [page_title(f) for f in toc_files() if f.startswith("chapters/")]
    assert len(chapters) >= 13
    assert titles == ["Contents", *expected]
    for chapter in chapters:
        assert titles.count(chapter) == 1, chapter


def test_every_entry_points_at_the_page_where_its_title_is_printed(pdf, page_text):
    entries = outline_entries(pdf)
    pages = [page for _, page in entries]
    assert pages == sorted(set(pages)), f"two entries start on one page, or out of order: {entries}"
    for title, page in entries:
        assert title in page_text(page), f"{title!r} is not printed on page {page}"


def test_the_contents_give_the_page_on_which_each_chapter_starts(pdf, page_text):
    entries = outline_entries(pdf)
    (contents_page,) = [page for title, page in entries if title == "Contents"]
    first_page_after = min(page for _, page in entries if page > contents_page)
    contents = " ".join(page_text(n) for n in range(contents_page, first_page_after))
    for title, page in entries:
        if title == "Contents":
            continue
        listed = re.search(rf"{re.escape(title)} (\d+)\b", contents)
        assert listed, f"the contents do not list {title!r}: {contents[:300]}"
        assert int(listed.group(1)) == page, f"the contents put {title!r} on page {listed.group(1)}"


def test_every_page_is_numbered_in_its_footer(pdf, page_text):
    total = len(pdf.pages)
    assert total >= 5 * len(book_titles()), f"only {total} pages for {len(book_titles())} chapters"
    for number in sorted({1, 2, 5, total // 2, total}):
        assert f"page {number} of {total}" in page_text(number)


def _code_spans(markdown: str) -> list[str]:
    """The code spans and fenced blocks of ``markdown``."""
    return [span.group(2) for span in re.finditer(r"(`+)(.+?)\1", markdown, flags=re.S)]


def _verbatim(chapters: list[nbformat.NotebookNode]) -> str:
    """The text that the book prints as it is: code, its text outputs, and code in the
    prose of the chapters and the Markdown pages (where a backslash is no TeX: ``"\\n"``)."""
    parts = [_code_spans(page.read_text(encoding="utf-8")) for page in BOOK.glob("*.md")]
    for nb in chapters:
        for cell in nb.cells:
            if cell.cell_type == "code":
                parts.append([cell.source])
                for output in cell.get("outputs", []):
                    parts.append([output.get("text", ""), output.get("data", {}).get("text/plain", "")])
            else:
                parts.append(_code_spans(cell.source))
    return "\n".join(text for texts in parts for text in texts)


def test_the_maths_is_typeset(pdf, page_text, chapters):
    prose = " ".join(c.source for nb in chapters for c in nb.cells if c.cell_type == "markdown")
    assert "$$" in prose and "\\frac" in prose, "the chapters have no TeX to typeset"
    verbatim = set(RAW_TEX.findall(_verbatim(chapters)))
    untypeset = []
    for number in range(1, len(pdf.pages) + 1):
        text = page_text(number)
        for tex in RAW_TEX.finditer(text):
            if tex.group() not in verbatim:
                untypeset.append(f"page {number}: ...{text[max(tex.start() - 60, 0) : tex.end() + 40]}...")
    assert not untypeset, "TeX left as it is (not typeset):\n" + "\n".join(untypeset[:10])


def _images_drawn(resources) -> int:
    """How many times a page's (or a form's) ``resources`` draw an image, forms included."""
    xobjects = resources.get("/XObject") if resources else None
    count = 0
    for ref in (xobjects.get_object() if xobjects else {}).values():
        xobject = ref.get_object()
        if xobject["/Subtype"] == "/Image":
            count += 1
        elif xobject["/Subtype"] == "/Form":
            count += _images_drawn(xobject.get("/Resources"))
    return count


def test_every_figure_of_the_chapters_is_in_the_pdf(pdf, chapters):
    figures = 0
    for nb in chapters:
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                # What the book shows of an output with HTML is the HTML (a quiz), not an image.
                figures += any(m.startswith("image/") for m in data) and "text/html" not in data
    assert figures >= 13, "the executed chapters have fewer figures than chapters"
    images = sum(_images_drawn(page.get("/Resources")) for page in pdf.pages)
    assert images >= figures, f"the PDF draws {images} images; the chapters have {figures} figures"


def _figure_alt_texts(pdf: PdfReader) -> list[str]:
    """The alternative text of every figure in the tagged PDF's structure tree."""
    alts, todo = [], [pdf.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop().get_object()
        if not hasattr(node, "get"):
            continue  # a marked-content id: no structure below it
        if node.get("/S") == "/Figure" and "/Alt" in node:
            alts.append(_normal(str(node["/Alt"])))
        kids = node.get("/K")
        kids = kids.get_object() if kids is not None else []
        todo += kids if isinstance(kids, list) else [kids]
    return alts


def test_every_figure_keeps_its_alternative_text(pdf, chapters):
    described = [
        _normal(output["metadata"][mime]["alt"])
        for nb in chapters
        for cell in nb.cells
        for output in cell.get("outputs", [])
        for mime in output.get("data", {})
        if mime.startswith("image/") and "alt" in output.get("metadata", {}).get(mime, {})
    ]
    assert len(described) >= 13, "the chapters' figures have no alternative text"
    alts = _figure_alt_texts(pdf)
    missing = [alt for alt in described if alt not in alts]
    assert not missing, f"{len(missing)} figures lost their alternative text, e.g. {missing[0]!r}"
