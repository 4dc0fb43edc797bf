"""Lecture slides: every chapter of the book as a reveal.js deck that works offline.

Each chapter notebook says which of its cells go on slides, in the cell metadata that
Jupyter's own slideshow tools use, ``metadata.slideshow.slide_type``:

- ``slide`` starts a new slide, ``subslide`` a new slide below the current one,
  ``fragment`` appears on the next click, ``-`` continues the current slide;
- ``notes`` goes into the speaker notes and ``skip`` is left out.

The book stays the one source, so its prose is not rewritten for the slides. Inside a
markdown cell that is shown, :func:`slide_cells` keeps on the slide what a lecturer would
put there (headings, display equations, lists, tables) and moves running paragraphs into
the speaker notes. Of a list whose items are paragraphs, the slide shows each item's bold
lead or first sentence and the notes the whole list. A ``##`` heading starts a new slide
and a ``###`` heading a subslide, so a cell can hold several slides. A slide left with a
title only shows the first sentence of each of its paragraphs. Code is hidden unless the
cell is tagged ``slide-code``; outputs show, widgets as their static figure, and a
figure's caption (``mystnb.figure.caption``) under it. The chapter's quiz becomes its
last slides: one question per slide, the answer on the next click.

``python -m cnncourse.publish.slides`` writes ``book/_build/html/slides/``: one deck per
chapter, an index, and the reveal.js and MathJax files the decks load, so the folder can
be copied anywhere (a USB stick) and opened from disk.
"""

from __future__ import annotations

import ast
import functools
import html
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .executed import book_parser, executed_chapters, without_widget_views
from .glue import glued_values, is_glue_record, paste

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
SHOW_CODE_TAG = "slide-code"
TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE = "cnncourse_slides"
WIDTH, HEIGHT = 1280, 720
# The parts of the npm packages that the decks load (reveal.js 5 and MathJax 3).
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme", "plugin/notes/notes.js")
MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")

_MYST_ROLE = re.compile(r"\{(?:doc|download|ref|numref|term)\}`([^`<]*?)\s*(?:<[^`>]*>)?`")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(`*$\"'])")
_LIST_ITEM = re.compile(r"([-*+]|\d+\.)\s+(.*)")
# A list item longer than this is a paragraph: the slide shows its lead, the notes all of it.
LONG_ITEM_WORDS = 30


def slide_type(cell) -> str:
    """The cell's ``slideshow.slide_type``; a cell without one is an error, so that every
    new cell of a chapter gets a deliberate place in the deck."""
    kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
    if kind not in SLIDE_TYPES:
        first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "(empty)"
        raise ValueError(
            f"cell {cell.get('id', '?')} ({first!r}) has slide_type {kind!r}; "
            f"set metadata.slideshow.slide_type to one of {', '.join(SLIDE_TYPES)}"
        )
    return kind


@dataclass
class Block:
    """A piece of a markdown cell: ``kind`` is heading, math, list, table, code, label or
    paragraph; ``level`` is the heading level (0 otherwise)."""

    kind: str
    text: str
    level: int = 0

    @property
    def on_slide(self) -> bool:
        return self.kind != "paragraph"


def markdown_blocks(source: str) -> list[Block]:
    """Split markdown into headings, display maths, lists, tables, fenced code, bold labels
    and paragraphs, in order. MyST roles (``{doc}`text <target>` ``) become their text."""
    source = _MYST_ROLE.sub(lambda m: m.group(1), source)
    blocks: list[Block] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
        elif stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            blocks.append(Block("heading", stripped[level:].strip(), level))
            i += 1
        elif stripped.startswith(("```", "~~~", "$$")):
            fence = "$$" if stripped.startswith("$$") else stripped[:3]
            end = i + 1
            # `$$ x $$` on one line closes itself
            if not (fence == "$$" and len(stripped) > 4 and stripped.endswith("$$")):
                while end < len(lines) and not lines[end].strip().startswith(fence):
                    end += 1
                end += 1
            blocks.append(Block("code" if fence != "$$" else "math", "\n".join(lines[i:end])))
            i = end
        else:
            end = i
            while (
                end < len(lines)
                and lines[end].strip()
                and not lines[end].strip().startswith(("#", "$$", "```"))
            ):
                end += 1
            text = "\n".join(lines[i:end])
            if re.match(r"\s*([-*+]|\d+\.)\s", line):
                kind = "list"
            elif stripped.startswith("|"):
                kind = "table"
            elif re.fullmatch(r"\*\*[^*]+\*\*:?", stripped) and end == i + 1:
                kind = "label"
            else:
                kind = "paragraph"
            blocks.append(Block(kind, text))
            i = end
    return blocks


def first_sentence(paragraph: str) -> str:
    """The paragraph's first sentence, on one line."""
    text = " ".join(paragraph.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def list_items(block: str) -> list[tuple[str, str]]:
    """``(marker, text)`` of each top-level item of a markdown list, the text on one line."""
    items: list[tuple[str, str]] = []
    for line in block.splitlines():
        item = _LIST_ITEM.match(line)
        if item:
            items.append((item.group(1), item.group(2)))
        elif items:
            items[-1] = (items[-1][0], f"{items[-1][1]} {line.strip()}")
    return items


def condensed_list(block: str) -> str | None:
    """A list whose items are paragraphs, cut to what fits on a slide: each item's bold
    lead (``**Memory.**``) or else its first sentence. ``None`` when every item is short
    enough (at most ``LONG_ITEM_WORDS`` words) to stay as it is."""
    items = list_items(block)
    if all(len(text.split()) <= LONG_ITEM_WORDS for _, text in items):
        return None
    lines = []
    for marker, text in items:
        lead = re.match(r"\*\*(.+?)\*\*", text)
        short = f"**{lead.group(1).rstrip('.:')}**" if lead else first_sentence(text)
        lines.append(f"{marker} {short}")
    return "\n".join(lines)


def quiz_questions(source: str) -> list[tuple[str, tuple[str, ...], int, str]]:
    """``(prompt, options, answer, explanation)`` of every ``Question(...)`` in a quiz cell,
    read from its source with :func:`ast.literal_eval` (nothing is executed)."""
    questions = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Question":
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            prompt, options, answer, *rest = [*args, *kwargs.values()]
            questions.append((prompt, tuple(options), answer, rest[0] if rest else ""))
    return questions


def _cell(kind: str, source: str, cell_type: str = "markdown"):
    maker = nbformat.v4.new_markdown_cell if cell_type == "markdown" else nbformat.v4.new_code_cell
    cell = maker(source)
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def _quiz_cells(source: str) -> list:
    cells = []
    questions = quiz_questions(source)
    for number, (prompt, options, answer, explanation) in enumerate(questions, start=1):
        items = "".join(f"<li>{html.escape(option)}</li>" for option in options)
        cells.append(
            _cell(
                "subslide",
                f"<h3>Question {number} of {len(questions)}</h3>\n\n"
                f'<p class="question">{html.escape(prompt)}</p>\n'
                f'<ol type="A" class="options">{items}</ol>',
            )
        )
        letter = chr(ord("A") + answer)
        reveal = f"<p class='answer'><b>Answer {letter}:</b> {html.escape(options[answer])}"
        if explanation:
            reveal += f"<br>{html.escape(explanation)}"
        cells.append(_cell("fragment", reveal + "</p>"))
    return cells


def _is_quiz(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith("Quiz(")


class _Deck:
    """Builds the cell list of a deck, remembering the latest heading so that a slide
    that starts with a figure still says what it is about."""

    def __init__(self):
        self.cells: list = []
        self.section = ""
        self.slide_has_body = True
        self.slide_paragraphs: list[str] = []
        self.title_index = 0

    def start(self, kind: str, title: str | None = None, level: int = 2) -> None:
        self._finish_slide()
        heading = title if title is not None else self.section
        self.title_index = len(self.cells)
        self.cells.append(_cell(kind, f"{'#' * level} {heading}" if heading else ""))
        self.slide_has_body = False
        self.slide_paragraphs = []

    def add(self, cell, kind: str = "-") -> None:
        cell.metadata["slideshow"] = {"slide_type": kind}
        self.cells.append(cell)
        if kind != "notes":
            self.slide_has_body = True

    def note(self, text: str) -> None:
        self.cells.append(_cell("notes", text))
        self.slide_paragraphs.append(text)

    def _finish_slide(self) -> None:
        """A slide with a title only shows the first sentence of each of its paragraphs."""
        if self.cells and not self.slide_has_body and self.slide_paragraphs:
            bullets = "\n".join(f"- {first_sentence(p)}" for p in self.slide_paragraphs[:4])
            self.cells.insert(self.title_index + 1, _cell("-", bullets))
        self.slide_has_body = True

    def finish(self) -> list:
        self._finish_slide()
        return self.cells


def slide_cells(nb: nbformat.NotebookNode) -> list:
    """The cells of the deck made from an executed chapter notebook ``nb``, each with the
    slide type nbconvert's reveal exporter reads (see the module docstring for the rules)."""
    nb = without_widget_views(nb)
    glued = glued_values(nb)
    deck = _Deck()
    for cell in nb.cells:
        kind = slide_type(cell)
        if kind == "skip":
            continue
        if _is_quiz(cell):
            for quiz_cell in _quiz_cells(cell.source):
                deck.add(quiz_cell, quiz_cell.metadata.slideshow.slide_type)
            continue
        if cell.cell_type == "code":
            cell.outputs = [out for out in cell.outputs if not is_glue_record(out)]
            if SHOW_CODE_TAG not in cell.metadata.get("tags", []):
                cell.metadata["transient"] = {"remove_source": True}
            if not cell.outputs and "remove_source" in cell.metadata.get("transient", {}):
                continue
            if kind in ("slide", "subslide"):
                deck.start(kind)
                kind = "-"
            deck.add(cell, kind)
            caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
            if caption and cell.outputs:
                deck.add(_cell("-", f'<div class="caption">\n\n{caption}\n\n</div>'), kind)
            continue
        source = paste(cell.source, glued)
        if kind == "notes":
            deck.note(source)
            continue
        pending = kind  # the first block on the slide takes the cell's own slide type
        for block in markdown_blocks(source):
            if block.kind == "heading":
                deck.section = block.text
                deck.start("slide" if block.level <= 2 else "subslide", block.text, min(block.level, 3))
                pending = "-"
            elif block.on_slide:
                if pending in ("slide", "subslide"):
                    deck.start(pending)
                    pending = "-"
                short = condensed_list(block.text) if block.kind == "list" else None
                deck.add(_cell("-", short or block.text), pending)
                if short:
                    deck.note(block.text)
                pending = "-"
            else:
                deck.note(block.text)
    return deck.finish()


def deck_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with its cells replaced by :func:`slide_cells`; the first cell is a slide.
    Cells are numbered ``deck-0``, ``deck-1``, ... so the same chapter always gives the
    same HTML (new cells would otherwise get random ids)."""
    deck = nbformat.v4.new_notebook(metadata=dict(nb.metadata))
    deck.metadata.pop("widgets", None)
    deck.cells = slide_cells(nb)
    for number, cell in enumerate(deck.cells):
        cell.id = f"deck-{number}"
    if deck.cells:
        deck.cells[0].metadata.slideshow = {"slide_type": "slide"}
    return deck


@functools.cache
def _exporter():
    """nbconvert's slides exporter with the course's template, made once per process
    (it loads and compiles the templates)."""
    from nbconvert import SlidesExporter

    return SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name=TEMPLATE,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        reveal_url_prefix="reveal.js",
        reveal_width=str(WIDTH),
        reveal_height=str(HEIGHT),
        reveal_number="c/t",
        reveal_transition="none",
        reveal_theme="white",
        mathjax_url="mathjax/tex-chtml.js",
    )


def export_deck(nb: nbformat.NotebookNode, title: str) -> str:
    """The reveal.js HTML of one chapter's deck. Scripts and styles are loaded from
    ``reveal.js/`` and ``mathjax/`` beside the deck (see :func:`copy_runtime`)."""
    deck = deck_notebook(nb)
    deck.metadata["title"] = title
    body, _resources = _exporter().from_notebook_node(deck)
    return body


def copy_runtime(node_modules: Path, mathjax: Path, out: Path) -> None:
    """Copy the reveal.js and MathJax files the decks load into ``out``."""
    for name in REVEAL_FILES:
        _copy(node_modules / "reveal.js" / name, out / "reveal.js" / name)
    for name in MATHJAX_FILES:
        _copy(mathjax / name, out / "mathjax" / name)


def _copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing: run `make vendor` (npm ci in book/)")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map", "*.scss"))
    else:
        shutil.copy2(source, target)


def chapter_title(nb: nbformat.NotebookNode) -> str:
    """The text of the chapter's ``#`` heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for block in markdown_blocks(cell.source):
                if block.kind == "heading" and block.level == 1:
                    return block.text
    raise ValueError("the chapter has no # heading")


def _index_page(decks: list[tuple[str, str, int]]) -> str:
    rows = "\n".join(
        f'<li><a href="{html.escape(file)}">{html.escape(title)}</a> ({slides} slides)</li>'
        for file, title, slides in decks
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Slides: Convolutional neural networks</title>\n"
        "<style>body { font: 18px/1.5 system-ui, sans-serif; max-width: 44em; margin: 2em auto; "
        "padding: 0 1em; color: #222; } a { color: #1565c0; } li { margin: 0.3em 0; }</style>\n"
        "</head>\n<body>\n"
        "<h1>Lecture slides</h1>\n<p>One deck per chapter of the book. Press <kbd>S</kbd> in a deck "
        "for the speaker view with the notes, <kbd>Esc</kbd> for an overview.</p>\n"
        f"<ol>\n{rows}\n</ol>\n</body>\n</html>\n"
    )


def count_slides(deck_html: str) -> int:
    """The number of slides in a deck: ``<section>`` elements with no section inside."""
    count = 0
    depth_has_child: list[bool] = []
    for match in re.finditer(r"<(/?)section\b", deck_html):
        if match.group(1):
            if not depth_has_child.pop():
                count += 1
        else:
            if depth_has_child:
                depth_has_child[-1] = True
            depth_has_child.append(False)
    return count


def build(book: Path, out: Path, build_dir: Path | None = None) -> list[tuple[str, str, int]]:
    """Write every chapter's deck, an index and the runtime files into ``out``, from the
    chapters executed in ``build_dir`` (``book/_build`` by default); returns ``(file, title,
    number of slides)`` per deck."""
    out.mkdir(parents=True, exist_ok=True)
    copy_runtime(book / "node_modules", book / "_vendor" / "mathjax", out)
    decks = []
    for name, nb in executed_chapters(book, build_dir):
        title = chapter_title(nb)
        deck_html = export_deck(nb, title)
        file = f"{Path(name).name}.html"
        (out / file).write_text(deck_html, encoding="utf-8")
        decks.append((file, title, count_slides(deck_html)))
    (out / "index.html").write_text(_index_page(decks), encoding="utf-8")
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = book_parser(__doc__)
    parser.add_argument("--out", type=Path, help="where the decks go (default: BUILD/html/slides)")
    args = parser.parse_args(argv)
    build_dir = args.build or args.book / "_build"
    out = args.out or build_dir / "html" / "slides"
    start = time.perf_counter()
    try:
        decks = build(args.book, out, build_dir)
    except (RuntimeError, ValueError, FileNotFoundError) as error:
        print(f"slides: {error}", file=sys.stderr)
        return 1
    for file, _title, slides in decks:
        print(f"{file:40} {slides:3} slides")
    print(f"{len(decks)} decks in {out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
