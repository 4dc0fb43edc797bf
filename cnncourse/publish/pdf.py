"""The whole book as one printable PDF: ``make pdf`` (``python -m cnncourse.publish.pdf``).

Chromium prints the PDF from a single-page HTML build of the book, in four steps:

1. :func:`prepare_source` copies the book's sources into a scratch folder and writes into
   it every chapter as the last ``make book`` executed it (:mod:`.executed`), with the
   widget views left out, so that each explorer prints its static figure (with its alt
   text) and each quiz its questions;
2. :func:`build_single_page` runs Jupyter Book's ``singlehtml`` builder there with
   execution off, so no chapter runs a second time;
3. :func:`prepare_page` rearranges that page for paper in the browser: a title page and a
   table of contents, every page of the table of contents as a top-level section under
   one ``<h1>`` (so the PDF's outline has one top-level entry per chapter), links into
   the web build turned into plain text; ``book/_assets/print.css`` does the rest;
4. :func:`print_book` serves the page on 127.0.0.1 (any other request is refused and
   fails the print), waits for MathJax and every image, sets display formulas wider than
   the page smaller, checks that nothing runs off the page, and prints twice: Chromium
   cannot number the contents (no CSS ``target-counter``), so the first pass tells on
   which page every chapter starts and the second prints those numbers.

The PDF is tagged: its outline (bookmarks) comes from the headings, and every figure keeps
its alternative text for screen readers.
"""

from __future__ import annotations

import html
import io
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import yaml
from pypdf import PdfReader

from .browser import CHROMIUM, CHROMIUM_ARGS, OFFLINE_ARGS, serve
from .executed import book_parser, executed_chapters, toc_files, without_widget_views

PRINT_CSS = "print.css"  # in book/_assets, which the book serves as _static
# Folders beside the book that its pages link to ({download}`../exercises/...`): the
# scratch copy mirrors them so the links resolve as in `make book`.
LINKED_SIBLINGS = ("exercises",)
A4_WIDTH_MM = 210
MARGIN_MM = {"top": 18, "bottom": 16, "left": 16, "right": 16}
# Chromium lays the printed page out at the paper's width between the margins, in CSS
# pixels (96 per inch); the layout check uses a viewport of that width.
CONTENT_WIDTH_PX = round((A4_WIDTH_MM - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96)


class PrintError(RuntimeError):
    """The printed book would be wrong: maths not typeset, a figure missing, code off
    the page, a request that left the machine, page numbers that moved."""


@dataclass(frozen=True)
class ContentsEntry:
    """One line of the table of contents: a page of the book (``intro``, a chapter,
    ``exercises``) as the single-page build shows it."""

    title: str  # its <h1>, "2. Convolution"
    anchor: str  # the id of its section on the single page
    part: str | None  # the caption of its part in _toc.yml; None for the root page


# --- 1. the sources ---------------------------------------------------------------------


def toc_parts(book: Path) -> list[tuple[str | None, list[str]]]:
    """``(caption, files)`` for the root page (caption ``None``) and each part of
    ``book/_toc.yml``, files without suffix (``chapters/02_convolution``)."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    parts = [(None, [toc["root"]])]
    parts += [
        (part.get("caption"), [c["file"] for c in part.get("chapters", [])]) for part in toc.get("parts", [])
    ]
    if [f for _, files in parts for f in files] != toc_files(book):
        raise ValueError(f"{book / '_toc.yml'}: the PDF supports parts of chapters, without sections")
    return parts


def prepare_source(book: Path, scratch: Path) -> Path:
    """Copy the book's sources to ``scratch/<book name>`` with the executed chapters in
    place of the source notebooks, and return that folder.

    The copy's ``_config.yml`` turns execution off and adds the print stylesheet. Raises
    :class:`~.executed.StaleBuildError` when ``make book`` has not run since a chapter
    changed.
    """
    chapters = executed_chapters(book)
    if not (book / "_assets" / PRINT_CSS).is_file():
        raise FileNotFoundError(f"{book / '_assets' / PRINT_CSS} is missing")
    if scratch.exists():
        shutil.rmtree(scratch)
    source = scratch / book.name
    shutil.copytree(
        book,
        source,
        ignore=lambda folder, names: ["_build", "node_modules"] if Path(folder) == book else [],
    )
    for sibling in LINKED_SIBLINGS:
        if (book.parent / sibling).exists():
            (scratch / sibling).symlink_to((book.parent / sibling).resolve())
    for name, nb in chapters:
        nbformat.write(without_widget_views(nb), source / f"{name}.ipynb")
    config_path = source / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = "off"
    sphinx = config["sphinx"]["config"]
    sphinx["html_css_files"] = [*sphinx.get("html_css_files", []), PRINT_CSS]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return source


# --- 2. the single-page build -----------------------------------------------------------


def build_single_page(source: Path) -> Path:
    """Build ``source`` with Sphinx's ``singlehtml`` builder, warnings as errors as in
    ``make book``, and return the page (``source/_build/singlehtml/<root>.html``)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(jupyter_book if jupyter_book.exists() else "jupyter-book"),
        *("build", str(source), "--builder", "singlehtml"),
        *("--warningiserror", "--nitpick", "--keep-going", "--quiet"),
    ]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        log = (run.stdout + run.stderr).strip().splitlines()
        raise PrintError("the single-page build failed:\n" + "\n".join(log[-40:]))
    root = toc_files(source)[0]
    return source / "_build" / "singlehtml" / f"{root}.html"


# --- 3. the page, rearranged for paper --------------------------------------------------

# singlehtml nests every page in the root page's section (inside one .toctree-wrapper per
# part), each behind a marker <span id="document-NAME">, its headings one level down. The
# script makes each page a top-level section of the article again, with its headings one
# level up, adds the title page and the part labels, and returns the contents' entries.
_PREPARE_JS = """
({parts, title, author}) => {
  const article = document.querySelector("article.bd-article");
  if (!article) return {error: "the page has no <article class='bd-article'>"};
  for (const link of article.querySelectorAll("a.headerlink")) link.remove();
  // Downloads and other files of the web build mean nothing on paper: keep their text.
  for (const link of article.querySelectorAll("a[href]")) {
    const href = link.getAttribute("href");
    if (!href.startsWith("#") && !/^(https?|mailto):/.test(href)) link.replaceWith(...link.childNodes);
  }
  for (const img of document.images) img.loading = "eager";
  const promote = (section) => {
    const headings = [...section.querySelectorAll(":is(section, :scope) > :is(h1, h2, h3, h4, h5, h6)")];
    const shift = headings.length ? Number(headings[0].tagName[1]) - 1 : 0;
    for (const old of shift ? headings : []) {
      const heading = document.createElement(`h${Number(old.tagName[1]) - shift}`);
      for (const attribute of old.attributes) heading.setAttribute(attribute.name, attribute.value);
      heading.append(...old.childNodes);
      old.replaceWith(heading);
    }
  };
  const sections = new Map([[parts[0][1][0], article.querySelector(":scope > section")]]);
  for (const marker of article.querySelectorAll('span[id^="document-"]')) {
    const section = marker.nextElementSibling;
    if (!section || section.tagName !== "SECTION") return {error: `no section after #${marker.id}`};
    promote(section);
    article.append(marker, section);
    sections.set(marker.id.slice("document-".length), section);
  }
  for (const wrapper of article.querySelectorAll(".toctree-wrapper")) {
    if (!wrapper.children.length) wrapper.remove();
  }
  const entries = [];
  for (const [part, files] of parts) {
    files.forEach((file, i) => {
      const section = sections.get(file);
      const heading = section && section.querySelector(":scope > h1");
      if (!heading) throw new Error(`${file} is not on the page as a section with an <h1>`);
      section.classList.add("cnn-document");
      if (part && i === 0) {
        const label = document.createElement("p");
        label.className = "cnn-part-label";
        label.textContent = part;
        section.prepend(label);
      }
      entries.push({title: heading.textContent.trim().replace(/\\s+/g, " "), anchor: section.id, part});
    });
  }
  const titlePage = document.createElement("section");
  titlePage.className = "cnn-title-page";
  for (const [className, text] of [["cnn-book-title", title], ["cnn-book-author", author]]) {
    const line = document.createElement("p");
    line.className = className;
    line.textContent = text;
    titlePage.append(line);
  }
  article.prepend(titlePage);
  return {entries};
}
"""

_READY_JS = """
async () => {
  if (!window.MathJax?.startup?.promise) throw new Error("MathJax did not load");
  await MathJax.startup.promise;
  await Promise.all(Array.from(document.images, (img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done);
    img.addEventListener("error", done);
  })));
  await document.fonts.ready;
  // MathJax 3 cannot break a line: a display formula wider than the page is set smaller
  // (down to half its size; the layout check reports any still too wide).
  for (const maths of document.querySelectorAll("mjx-container[display='true']")) {
    if (maths.scrollWidth > maths.clientWidth + 1) {
      const size = parseFloat(getComputedStyle(maths).fontSize);
      const fit = (0.98 * size * maths.clientWidth) / maths.scrollWidth;
      maths.style.fontSize = `${Math.max(fit, size / 2)}px`;
    }
  }
}
"""

# What would print wrong: a block wider than the page (Chromium cuts it at the margin), a
# figure that did not load, maths MathJax left as TeX. Returns one line per problem.
LAYOUT_CHECK_JS = """
() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const right = article.getBoundingClientRect().right + 1;
  const where = (el) => {
    const heading = el.closest("section")?.querySelector(":scope > :is(h1, h2, h3, h4)");
    const text = (el.textContent || el.getAttribute("src") || "").trim().replace(/\\s+/g, " ");
    const under = heading ? heading.textContent.trim() : "?";
    return `<${el.tagName.toLowerCase()}> under "${under}": ${text.slice(0, 70)}`;
  };
  const problems = [];
  for (const el of article.querySelectorAll("pre, div.math, mjx-container[display='true'], table")) {
    const shown = el.getClientRects().length > 0;
    if (shown && el.scrollWidth > el.clientWidth + 1) problems.push(`runs off the page: ${where(el)}`);
  }
  for (const el of article.querySelectorAll("img, pre, table, mjx-container, .cell_output > *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > right) problems.push(`wider than the page: ${where(el)}`);
  }
  for (const img of article.querySelectorAll("img")) {
    if (!img.naturalWidth) problems.push(`did not load: ${where(img)}`);
  }
  for (const math of article.querySelectorAll(".math")) {
    if (!math.querySelector("mjx-container")) problems.push(`not typeset: ${where(math)}`);
  }
  return problems;
}
"""


def contents_html(entries: Sequence[ContentsEntry], pages: Sequence[int] | None = None) -> str:
    """The table of contents: the root page, then each part's caption with its pages,
    each title linked to its section and followed by its page number (``pages``, one per
    entry) or, before the numbers are known, a placeholder of the same width."""
    if pages is not None and len(pages) != len(entries):
        raise ValueError(f"{len(entries)} contents entries but {len(pages)} page numbers")
    numbers = [str(p) for p in pages] if pages is not None else ["–"] * len(entries)

    def line(entry: ContentsEntry, number: str) -> str:
        return (
            f'<li class="cnn-contents-entry"><a href="#{html.escape(entry.anchor)}">'
            f'{html.escape(entry.title)}</a><span class="cnn-contents-page">{number}</span></li>'
        )

    items: list[str] = []
    open_part: str | None = None
    for entry, number in zip(entries, numbers, strict=True):
        if entry.part != open_part:
            if open_part is not None:
                items.append("</ol></li>")
            if entry.part is not None:
                items.append(
                    f'<li class="cnn-contents-part"><span class="cnn-contents-part-title">'
                    f"{html.escape(entry.part)}</span><ol>"
                )
            open_part = entry.part
        items.append(line(entry, number))
    if open_part is not None:
        items.append("</ol></li>")
    return (
        '<nav id="cnn-contents" class="cnn-contents" aria-labelledby="cnn-contents-title">'
        '<h1 id="cnn-contents-title">Contents</h1><ol>' + "".join(items) + "</ol></nav>"
    )


def prepare_page(
    page, parts: list[tuple[str | None, list[str]]], title: str, author: str
) -> list[ContentsEntry]:
    """Rearrange the loaded single page (a Playwright ``Page``) for paper and add the
    title page and the contents, without page numbers; returns the contents' entries."""
    result = page.evaluate(_PREPARE_JS, {"parts": parts, "title": title, "author": author})
    if "error" in result:
        raise PrintError(f"the single page is not what the PDF expects: {result['error']}")
    entries = [ContentsEntry(**e) for e in result["entries"]]
    set_contents(page, contents_html(entries))
    return entries


def set_contents(page, contents: str) -> None:
    """Put ``contents`` (from :func:`contents_html`) after the title page, in place of
    the contents there before."""
    page.evaluate(
        """(contents) => {
          document.getElementById("cnn-contents")?.remove();
          document.querySelector(".cnn-title-page").insertAdjacentHTML("afterend", contents);
        }""",
        contents,
    )


def wait_until_ready(page) -> None:
    """Wait until MathJax has typeset the page and every image and font has loaded, then
    shrink the display formulas that are wider than the page."""
    page.evaluate(_READY_JS)


def layout_problems(page) -> list[str]:
    """What would print wrong on the page, laid out at the paper's width under print
    media: one line per block wider than the page, figure not loaded or formula not
    typeset (see ``LAYOUT_CHECK_JS``)."""
    return page.evaluate(LAYOUT_CHECK_JS)


# --- 4. printing ------------------------------------------------------------------------


def outline_entries(reader: PdfReader) -> list[tuple[str, int]]:
    """``(title, page)`` of every top-level entry of a PDF's outline (its bookmarks),
    pages counted from 1."""
    return [
        (" ".join(item.title.split()), reader.get_destination_page_number(item) + 1)
        for item in reader.outline
        if not isinstance(item, list)  # a list holds the children of the entry before it
    ]


def start_pages(entries: Sequence[ContentsEntry], outline: Sequence[tuple[str, int]]) -> list[int]:
    """The page on which each contents entry starts, read from the PDF's top-level
    ``outline``; raises :class:`PrintError` unless every title is there exactly once."""
    pages = []
    for entry in entries:
        found = [page for title, page in outline if title == entry.title]
        if len(found) != 1:
            titles = [title for title, _ in outline]
            raise PrintError(f"the PDF outline has {len(found)} top-level entries {entry.title!r}: {titles}")
        pages.append(found[0])
    return pages


def _pdf_options(title: str) -> dict:
    side = MARGIN_MM["left"]
    label = f"font-size: 8pt; color: #555; width: 100%; box-sizing: border-box; padding: 0 {side}mm;"
    return {
        "format": "A4",
        "margin": {side: f"{mm}mm" for side, mm in MARGIN_MM.items()},
        "print_background": True,
        "outline": True,
        "tagged": True,
        "display_header_footer": True,
        "header_template": f'<div style="{label} text-align: right;">{html.escape(title)}</div>',
        "footer_template": (
            f'<div style="{label} text-align: center;">'
            'page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
        ),
    }


@dataclass(frozen=True)
class PrintedBook:
    pages: int
    contents: list[tuple[ContentsEntry, int]]  # each entry with the page it starts on


def print_book(
    single_page: Path, out: Path, parts, title: str, author: str, chromium: str = CHROMIUM
) -> PrintedBook:
    """Print ``single_page`` (from :func:`build_single_page`) to ``out`` as A4 with a
    title page, contents, outline and page numbers. Raises :class:`PrintError` when the
    page asked for anything but 127.0.0.1 (Chromium also refuses to fetch it), or when
    :func:`layout_problems` finds any."""
    from playwright.sync_api import sync_playwright

    with serve(single_page.parent) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, *OFFLINE_ARGS])
        try:
            page = browser.new_page(viewport={"width": CONTENT_WIDTH_PX, "height": 1000})
            local = urlsplit(url).netloc
            refused: list[str] = []

            def note_if_remote(request):
                if urlsplit(request.url).netloc not in (local, ""):
                    refused.append(request.url)

            page.on("request", note_if_remote)
            page.emulate_media(media="print")
            page.goto(url + single_page.name, wait_until="load", timeout=120_000)
            entries = prepare_page(page, parts, title, author)
            wait_until_ready(page)
            if refused:
                raise PrintError("the book asked for files from other hosts: " + ", ".join(refused[:5]))
            problems = layout_problems(page)
            if problems:
                raise PrintError(f"{len(problems)} things would print wrong:\n" + "\n".join(problems[:15]))
            options = _pdf_options(title)
            first = start_pages(entries, outline_entries(PdfReader(io.BytesIO(page.pdf(**options)))))
            set_contents(page, contents_html(entries, first))
            pdf = page.pdf(**options)
        finally:
            browser.close()
    reader = PdfReader(io.BytesIO(pdf))
    second = start_pages(entries, outline_entries(reader))
    if second != first:
        moved = [(e.title, a, b) for e, a, b in zip(entries, first, second, strict=True) if a != b]
        raise PrintError(f"the page numbers moved when the contents got them: {moved}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    return PrintedBook(len(reader.pages), list(zip(entries, second, strict=True)))


# --- the command ------------------------------------------------------------------------


def build(book: Path, out: Path, chromium: str = CHROMIUM) -> tuple[PrintedBook, dict[str, float]]:
    """Write the book ``book`` as one PDF to ``out``; returns what was printed and the
    seconds each step took."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now

    if not Path(chromium).exists():
        raise FileNotFoundError(f"{chromium} is missing: install Chromium (`make chromium`)")
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    parts = toc_parts(book)
    source = prepare_source(book, book / "_build" / "pdf_src")
    lap("copy")
    single_page = build_single_page(source)
    lap("single-page build")
    printed = print_book(single_page, out, parts, config["title"], config.get("author", ""), chromium)
    lap("print (two passes)")
    return printed, seconds


def main(argv: list[str] | None = None) -> int:
    parser = book_parser(__doc__, build=False)
    parser.add_argument("--out", type=Path, help="the PDF (default: BOOK/_build/pdf/cnncourse.pdf)")
    parser.add_argument("--chromium", default=CHROMIUM, help="the Chromium to print with")
    args = parser.parse_args(argv)
    out = args.out or args.book / "_build" / "pdf" / "cnncourse.pdf"
    start = time.perf_counter()
    try:
        printed, seconds = build(args.book.resolve(), out, args.chromium)
    except (RuntimeError, ValueError, FileNotFoundError) as error:
        print(f"pdf: {error}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    report = [
        f"{out}: {printed.pages} pages, {out.stat().st_size / 1e6:.1f} MB, {total:.0f} s",
        "  " + ", ".join(f"{step} {s:.0f} s" for step, s in seconds.items()),
        *(f"  page {page:4}  {entry.title}" for entry, page in printed.contents),
    ]
    (out.parent / "report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
