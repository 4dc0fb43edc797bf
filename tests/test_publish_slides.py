"""The slide builder on small hand-made notebooks: which text goes on a slide and which
into the speaker notes, how quizzes become slides, and what a stale build is refused for.
(The decks of the real chapters are tested in a browser by tests/book/test_slides.py.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from cnncourse.publish import executed, slides
from cnncourse.publish.executed import WIDGET_VIEW, StaleBuildError


def md(source: str, kind: str = "-"):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def code(source: str, kind: str = "-", outputs=(), tags=(), caption=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["slideshow"] = {"slide_type": kind}
    if caption:
        cell.metadata["mystnb"] = {"figure": {"caption": caption, "name": "fig-00-test"}}
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def png(alt: str = "a plot"):
    return {
        "output_type": "display_data",
        "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
        "metadata": {"image/png": {"alt": alt}},
    }


def printed(text: str):
    return {"output_type": "stream", "name": "stdout", "text": text}


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def layout(cells) -> list[tuple[str, str]]:
    """``(slide type, first line)`` of every deck cell, the way a test reads a deck."""
    return [
        (c.metadata.slideshow.slide_type, c.source.strip().splitlines()[0] if c.source.strip() else "")
        for c in cells
    ]


CHAPTER_TEXT = """\
## Window and stride

On a larger input the window slides. With window $k$ and stride $s$, the output height is

$$
H_\\text{out} = \\lfloor (H - k)/s \\rfloor + 1 ,
$$

the same formula as for a convolution. See {doc}`the exercises <../exercises>`.

**Remember**

- $k = s = 2$ halves each side;
- overlapping windows need $s < k$.

| k | s | output of 4 |
|---|---|---|
| 2 | 2 | 2 |

### Overlapping windows

AlexNet used overlapping windows. Nothing forces the stride to equal the window.
"""


def test_markdown_blocks_sorts_a_cell_into_slide_and_notes_parts():
    blocks = slides.markdown_blocks(CHAPTER_TEXT)
    assert [(b.kind, b.level) for b in blocks] == [
        ("heading", 2),
        ("paragraph", 0),
        ("math", 0),
        ("paragraph", 0),
        ("label", 0),
        ("list", 0),
        ("table", 0),
        ("heading", 3),
        ("paragraph", 0),
    ]
    assert blocks[0].text == "Window and stride"
    assert blocks[2].text.splitlines()[0] == "$$" and blocks[2].text.splitlines()[-1] == "$$"
    assert (
        blocks[3].text == "the same formula as for a convolution. See the exercises."
    )  # MyST role unwrapped
    assert [b.on_slide for b in blocks] == [True, False, True, False, True, True, True, True, False]


def test_one_line_display_maths_and_fenced_code_are_single_blocks():
    blocks = slides.markdown_blocks("$$ y = wx + b $$\n\n```python\nx = 1\n\ny = 2\n```\nAfter.")
    assert [(b.kind, b.text) for b in blocks] == [
        ("math", "$$ y = wx + b $$"),
        ("code", "```python\nx = 1\n\ny = 2\n```"),
        ("paragraph", "After."),
    ]


def test_first_sentence():
    assert (
        slides.first_sentence("Pooling has no weights.\nIt keeps channels. (Always.)")
        == "Pooling has no weights."
    )
    assert (
        slides.first_sentence("See e.g. the figure; it is 2.5 wide") == "See e.g. the figure; it is 2.5 wide"
    )


def test_headings_start_slides_and_paragraphs_become_notes():
    deck = slides.slide_cells(
        notebook(md("# 4. Pooling\n\nIntro text.\n\n- one\n- two", "slide"), md(CHAPTER_TEXT))
    )
    assert layout(deck) == [
        ("slide", "# 4. Pooling"),
        ("notes", "Intro text."),
        ("-", "- one"),
        ("slide", "## Window and stride"),
        (
            "notes",
            "On a larger input the window slides. With window $k$ and stride $s$, the output height is",
        ),
        ("-", "$$"),
        ("notes", "the same formula as for a convolution. See the exercises."),
        ("-", "**Remember**"),
        ("-", "- $k = s = 2$ halves each side;"),
        ("-", "| k | s | output of 4 |"),
        ("subslide", "### Overlapping windows"),
        # a slide left with a title only shows its paragraphs' first sentences
        ("-", "- AlexNet used overlapping windows."),
        ("notes", "AlexNet used overlapping windows. Nothing forces the stride to equal the window."),
    ]


def test_figures_keep_their_section_title_and_code_shows_only_when_tagged():
    deck = slides.slide_cells(
        notebook(
            md("## Pooling\n\nText.\n\n### Shifts\n\n$$a = b$$"),
            code("print(1)", "-", [printed("1\n")]),
            code("plot()", "subslide", [png("bars")], caption="Wider windows, *shorter* bars."),
            code("import numpy", "skip"),
            code("model = build()", "-", [], tags=["slide-code"]),
            code("setup()", "-", []),  # nothing to show: no output, code hidden
        )
    )
    assert layout(deck) == [
        ("slide", "## Pooling"),
        ("-", "- Text."),
        ("notes", "Text."),
        ("subslide", "### Shifts"),
        ("-", "$$a = b$$"),
        ("-", "print(1)"),
        ("subslide", "## Shifts"),
        ("-", "plot()"),
        ("-", '<div class="caption">'),
        ("-", "model = build()"),
    ]
    assert "Wider windows, *shorter* bars." in deck[8].source  # the figure's caption, under it
    hidden = [
        c.metadata.get("transient", {}).get("remove_source", False) for c in deck if c.cell_type == "code"
    ]
    assert hidden == [True, True, False]


def test_every_cell_needs_a_slide_type():
    cell = nbformat.v4.new_markdown_cell("## Untyped\n\ntext")
    with pytest.raises(ValueError, match=r"'## Untyped'.*slide_type None.*slide, subslide, fragment"):
        slides.slide_cells(notebook(md("# T", "slide"), cell))


QUIZ = """Quiz([
    Question("What does 2x2 max pooling return for [[1, 3], [2, 4]]?", ("2.5", "4"), 1,
             "Max keeps the largest value."),
    Question("Parameters of MaxPool2D?", ("None", "k<sup>2</sup>"), 0),
])"""


def test_a_quiz_becomes_one_slide_per_question_with_the_answer_on_the_next_click():
    assert slides.quiz_questions(QUIZ) == [
        (
            "What does 2x2 max pooling return for [[1, 3], [2, 4]]?",
            ("2.5", "4"),
            1,
            "Max keeps the largest value.",
        ),
        ("Parameters of MaxPool2D?", ("None", "k<sup>2</sup>"), 0, ""),
    ]
    deck = slides.slide_cells(
        notebook(
            md("## Quiz"),
            code(
                QUIZ,
                "slide",
                [
                    {
                        "output_type": "execute_result",
                        "data": {"text/plain": "<Quiz>"},
                        "metadata": {},
                        "execution_count": 1,
                    }
                ],
            ),
        )
    )
    assert [c.metadata.slideshow.slide_type for c in deck] == [
        "slide",
        "subslide",
        "fragment",
        "subslide",
        "fragment",
    ]
    assert "Question 1 of 2" in deck[1].source and "<li>4</li>" in deck[1].source
    assert deck[2].source == "<p class='answer'><b>Answer B:</b> 4<br>Max keeps the largest value.</p>"
    assert "k&lt;sup&gt;2&lt;/sup&gt;" in deck[3].source  # quiz text is escaped, not markup
    assert deck[4].source == "<p class='answer'><b>Answer A:</b> None</p>"


def _widget_output(model_id: str, **fallback):
    view = {"model_id": model_id, "version_major": 2, "version_minor": 0}
    return {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {WIDGET_VIEW: view, **fallback},
    }


def test_widgets_show_their_last_picture_or_their_fallback():
    state = {  # a monitor (VBox) whose picture was redrawn after it was shown
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_caption", "IPY_MODEL_picture"]}},
        "caption": {"model_name": "HTMLModel", "state": {"value": "done"}},
        "picture": {
            "model_name": "AnyModel",
            "state": {"alt": "loss falls from 2.3 to 0.4"},
            "buffers": [{"encoding": "base64", "path": ["value"], "data": "TEFTVA=="}],
        },
    }
    nb = notebook(
        code("Monitor()", "-", [_widget_output("box", **{"image/png": "RklSU1Q=", "text/plain": "<M>"})]),
        code(
            "Explorer()", "-", [_widget_output("gone", **{"image/png": "iVBORw0KGgo=", "text/plain": "<E>"})]
        ),
        code("Bare()", "-", [_widget_output("gone", **{"text/plain": "<B>"})]),
    )
    nb.metadata["widgets"] = {executed.WIDGET_STATE: {"state": state}}
    static = executed.without_widget_views(nb)
    assert "widgets" not in static.metadata and "widgets" in nb.metadata  # the original is untouched
    monitor = static.cells[0].outputs[0]
    assert (
        monitor.data["image/png"] == "TEFTVA=="
        and monitor.metadata["image/png"]["alt"] == "loss falls from 2.3 to 0.4"
    )
    assert list(static.cells[1].outputs[0].data) == ["image/png", "text/plain"]  # no state: its own fallback
    assert static.cells[1].outputs[0].data["image/png"] == "iVBORw0KGgo="
    assert static.cells[2].outputs == []


def test_the_exported_deck_loads_nothing_from_the_network(tmp_path):
    nb = notebook(
        md("# 2. Convolution\n\n- a list", "slide"),
        md("## Maths\n\n$$y = \\sum_i w_i x_i$$"),
        code("plot()", "subslide", [png('the "kernel" <3x3>')]),
    )
    deck_html = slides.export_deck(nb, "2. Convolution")
    sources = re.findall(r'(?:src|href)="([^"]+)"', deck_html)
    assert "reveal.js/dist/reveal.js" in sources and "mathjax/tex-chtml.js" in sources
    remote = [s for s in sources if re.match(r"[a-z]+://|//", s) and not s.startswith("data:")]
    assert remote == []
    assert _image_alts(deck_html) == ['the "kernel" <3x3>']
    assert "<title>2. Convolution slides</title>" in deck_html
    assert slides.count_slides(deck_html) == 3


def _image_alts(page: str) -> list[str]:
    alts = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                alts.append(dict(attrs).get("alt"))

    Images().feed(page)
    return alts


def test_count_slides_counts_leaf_sections():
    assert (
        slides.count_slides("<section>a</section><section><section>b</section><section>c</section></section>")
        == 3
    )
    assert slides.count_slides("") == 0


def _book(tmp_path, source_cells, executed_cells=None):
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_a\n")
    (book / "intro.md").write_text("# Intro\n")
    nbformat.write(notebook(*source_cells), book / "chapters" / "01_a.ipynb")
    if executed_cells is not None:  # a run in the execution cache, as make book leaves it
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        cache = get_cache(str(book / "_build" / executed.CACHE_FOLDER))
        path = str(book / "chapters" / "01_a.ipynb")
        cache.add_nb_to_project(path)
        cache.cache_notebook_bundle(CacheBundleIn(notebook(*executed_cells), path), check_validity=False)
    return book


def test_executed_chapters_take_metadata_from_the_source_and_outputs_from_the_build(tmp_path):
    run = code("plot()", "skip", [png()])
    book = _book(tmp_path, [md("# A", "slide"), code("plot()", "subslide")], [md("# A"), run])
    [(name, nb)] = executed.executed_chapters(book)
    assert name == "chapters/01_a"
    assert nb.cells[1].metadata.slideshow.slide_type == "subslide"
    assert nb.cells[1].outputs[0].data["image/png"] == "iVBORw0KGgo="


def test_a_missing_or_stale_build_is_refused_and_new_prose_is_not(tmp_path):
    with pytest.raises(StaleBuildError, match="the book has not been executed"):
        executed.executed_chapters(_book(tmp_path / "1", [md("# A")]))
    ran = [md("# A"), code("plot()", "-", [png()])]
    with pytest.raises(StaleBuildError, match=r"01_a.ipynb changed after the last book build"):
        executed.executed_chapters(_book(tmp_path / "2", [md("# A"), code("plot(2)")], ran))
    [(_, nb)] = executed.executed_chapters(_book(tmp_path / "3", [md("# A, edited"), code("plot()")], ran))
    assert nb.cells[0].source == "# A, edited" and nb.cells[1].outputs[0].data["image/png"]


def test_every_chapter_cell_has_a_place_in_the_deck():
    chapters = sorted((Path(__file__).parents[1] / "book" / "chapters").glob("*.ipynb"))
    assert chapters
    for path in chapters:
        for cell in nbformat.read(path, as_version=4).cells:
            slides.slide_type(cell)  # raises, naming the cell, if it has none


def test_a_list_of_paragraphs_is_cut_to_its_leads():
    long = " ".join(["word"] * 31)
    assert slides.condensed_list("- short\n- also short") is None
    assert slides.condensed_list(f"- **Memory.** {long}\n  continued.\n- Plain first. Then {long}") == (
        "- **Memory**\n- Plain first."
    )
    assert slides.list_items("1. one\n   more\n2. two") == [("1.", "one more"), ("2.", "two")]
