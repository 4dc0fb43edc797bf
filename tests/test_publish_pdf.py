"""The pieces of ``cnncourse.publish.pdf`` that need no book build: the table of contents,
reading a PDF's outline, the parts of ``_toc.yml``; and, in Chromium, the rearranging of a
small single-page build, the layout check and the print stylesheet that wraps code.
(``tests/book/test_pdf.py`` tests the printed book itself.)"""

from __future__ import annotations

import io
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from cnncourse.publish.pdf import (
    CONTENT_WIDTH_PX,
    ContentsEntry,
    PrintError,
    contents_html,
    layout_problems,
    outline_entries,
    prepare_page,
    start_pages,
    toc_parts,
)

PRINT_CSS = Path(__file__).resolve().parents[1] / "book" / "_assets" / "print.css"

ENTRIES = [
    ContentsEntry("Welcome", "welcome", None),
    ContentsEntry("1. Pixels", "pixels", "Basics"),
    ContentsEntry("2. Kernels", "kernels", "Basics"),
    ContentsEntry("Exercises", "exercises", "Practice"),
]


def _lines(element: ET.Element) -> list:
    """The contents as nested lists: ``(title, anchor, page)`` per entry, ``(caption, [...])``
    per part."""
    lines = []
    for item in element.findall("li"):
        if item.get("class") == "cnn-contents-part":
            lines.append((item.find("span").text, _lines(item.find("ol"))))
        else:
            link, page = item.find("a"), item.find("span")
            lines.append((link.text, link.get("href"), page.text))
    return lines


def test_contents_list_each_part_under_its_caption_with_page_numbers():
    nav = ET.fromstring(contents_html(ENTRIES, [3, 5, 12, 40]))
    assert nav.get("id") == "cnn-contents"
    assert nav.find("h1").text == "Contents"
    assert _lines(nav.find("ol")) == [
        ("Welcome", "#welcome", "3"),
        ("Basics", [("1. Pixels", "#pixels", "5"), ("2. Kernels", "#kernels", "12")]),
        ("Practice", [("Exercises", "#exercises", "40")]),
    ]


def test_contents_before_the_numbers_are_known_have_placeholders_and_escape_titles():
    entries = [ContentsEntry("Q&A <fast>", "q&a", None), ContentsEntry("B", "b", "Part & parcel")]
    markup = contents_html(entries)
    assert "Q&amp;A &lt;fast&gt;" in markup and 'href="#q&amp;a"' in markup
    assert _lines(ET.fromstring(markup).find("ol")) == [
        ("Q&A <fast>", "#q&a", "–"),
        ("Part & parcel", [("B", "#b", "–")]),
    ]


def test_contents_need_one_page_number_per_entry():
    with pytest.raises(ValueError, match="4 contents entries but 3 page numbers"):
        contents_html(ENTRIES, [1, 2, 3])


def _pdf_with_outline(items: list[tuple[str, int, int | None]], pages: int = 6) -> PdfReader:
    """A blank PDF of ``pages`` pages whose outline has ``(title, page index, parent index)``."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(100, 100)
    added = []
    for title, page, parent in items:
        parent_item = None if parent is None else added[parent]
        added.append(writer.add_outline_item(title=title, page_number=page, parent=parent_item))
    buffer = io.BytesIO()
    writer.write(buffer)
    return PdfReader(buffer)


def test_outline_entries_are_the_top_level_bookmarks_with_pages_from_one():
    reader = _pdf_with_outline(
        [("Contents", 1, None), ("2.  Convolution", 3, None), ("Stride", 4, 1), ("Exercises", 5, None)]
    )
    assert outline_entries(reader) == [("Contents", 2), ("2. Convolution", 4), ("Exercises", 6)]


def test_start_pages_take_each_entry_from_the_outline():
    outline = [("Contents", 2), ("Welcome", 3), ("1. Pixels", 5), ("2. Kernels", 12), ("Exercises", 40)]
    assert start_pages(ENTRIES, outline) == [3, 5, 12, 40]


@pytest.mark.parametrize(
    ("outline", "count"),
    [
        ([("Welcome", 3), ("1. Pixels", 5), ("Exercises", 40)], 0),
        ([("Welcome", 3), ("1. Pixels", 5), ("2. Kernels", 12), ("2. Kernels", 13), ("Exercises", 40)], 2),
    ],
)
def test_start_pages_refuse_a_chapter_missing_from_the_outline_or_there_twice(outline, count):
    with pytest.raises(PrintError, match=f"has {count} top-level entries '2. Kernels'"):
        start_pages(ENTRIES, outline)


def test_toc_parts_are_the_root_page_then_each_part(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        textwrap.dedent(
            """\
            format: jb-book
            root: intro
            parts:
              - caption: Basics
                chapters:
                  - file: chapters/a
                  - file: chapters/b
              - caption: Practice
                chapters:
                  - file: exercises
            """
        )
    )
    assert toc_parts(tmp_path) == [
        (None, ["intro"]),
        ("Basics", ["chapters/a", "chapters/b"]),
        ("Practice", ["exercises"]),
    ]


def test_toc_parts_refuse_sections_the_pdf_would_lose(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "root: intro\nparts:\n  - caption: A\n    chapters:\n      - file: a\n        sections:\n"
        "          - file: a1\n"
    )
    with pytest.raises(ValueError, match="without sections"):
        toc_parts(tmp_path)


# The shape of Sphinx's singlehtml output: every page after the root nested in the root's
# section, behind a marker span, one heading level down.
SINGLE_PAGE = """
<html><head><title>t</title></head><body><article class="bd-article">
<section id="welcome"><h1>Welcome<a class="headerlink" href="#welcome">#</a></h1>
<p>Get <a class="download" href="_downloads/0a/ex.ipynb"><code>ex.ipynb</code></a>, read
<a href="https://keras.io/">Keras</a> or <a href="#document-chapters/b">chapter 2</a>.</p>
<div class="toctree-wrapper compound">
<span id="document-chapters/a"></span><section id="pixels"><h2>1. Pixels<a class="headerlink"
href="#pixels">#</a></h2><p>Text.</p><section id="grids"><h3>Grids</h3></section></section>
<span id="document-chapters/b"></span><section id="kernels"><h2>2. Kernels</h2>
<div class="output text_html"><h4>a heading in an output</h4></div></section>
</div></section></article></body></html>
"""
PARTS = [(None, ["intro"]), ("Basics", ["chapters/a", "chapters/b"])]


def test_prepare_page_makes_every_page_a_top_level_section_under_an_h1(browser):
    page = browser.new_page()
    page.set_content(SINGLE_PAGE)
    entries = prepare_page(page, PARTS, "A book", "Its author")
    assert entries == [
        ContentsEntry("Welcome", "welcome", None),
        ContentsEntry("1. Pixels", "pixels", "Basics"),
        ContentsEntry("2. Kernels", "kernels", "Basics"),
    ]
    children = page.eval_on_selector(
        "article", "a => [...a.children].map(c => c.id || c.className || c.tagName.toLowerCase())"
    )
    assert children == [
        "cnn-title-page",
        "cnn-contents",
        "welcome",
        "document-chapters/a",
        "pixels",
        "document-chapters/b",
        "kernels",
    ]
    headings = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "hs => hs.map(h => `${h.tagName} ${h.textContent}`)"
    )
    assert headings == [
        "H1 Contents",
        "H1 Welcome",
        "H1 1. Pixels",
        "H2 Grids",
        "H1 2. Kernels",
        "H4 a heading in an output",  # not a section title: left as it is
    ]
    assert page.text_content(".cnn-title-page") == "A bookIts author"
    labels = page.eval_on_selector_all(
        ".cnn-part-label", "ls => ls.map(l => [l.textContent, l.parentElement.id])"
    )
    assert labels == [["Basics", "pixels"]]
    links = page.eval_on_selector_all("article a", "as => as.map(a => a.getAttribute('href'))")
    assert links == ["#welcome", "#pixels", "#kernels", "https://keras.io/", "#document-chapters/b"]
    assert page.text_content("#welcome p").split() == "Get ex.ipynb, read Keras or chapter 2.".split()
    page.close()


def test_prepare_page_names_the_page_that_is_missing(browser):
    page = browser.new_page()
    page.set_content(SINGLE_PAGE)
    with pytest.raises(Exception, match="chapters/c is not on the page"):
        prepare_page(page, [(None, ["intro"]), ("Basics", ["chapters/a", "chapters/c"])], "A book", "")
    page.close()


def test_the_print_stylesheet_wraps_code_and_fits_figures_to_the_page(browser):
    page = browser.new_page(viewport={"width": CONTENT_WIDTH_PX, "height": 800})
    page.emulate_media(media="print")
    code = "total = " + " + ".join(f"weights_{i} * inputs_{i}" for i in range(40)) + "  # " + "x" * 300
    wide = 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="200"/>'
    page.set_content(
        f'<article class="bd-article"><section><h1>T</h1><div class="cell_input"><pre>{code}</pre></div>'
        f"<div class='cell_output'><img alt='a wide figure' src='{wide}'></div></section></article>"
    )
    problems = layout_problems(page)
    assert [p.split(' under "T"')[0] for p in problems] == [
        "runs off the page: <pre>",
        "wider than the page: <img>",
    ], problems
    page.add_style_tag(path=str(PRINT_CSS))
    assert layout_problems(page) == []
    lines = page.eval_on_selector("pre", "p => p.clientHeight / parseFloat(getComputedStyle(p).lineHeight)")
    assert lines > 5, "the long line did not wrap"
    page.close()
