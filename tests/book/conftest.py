"""Fixtures for the book's tests: where the built HTML is and a local server for it
(Chromium's fixtures are in ``tests/conftest.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import not_available  # tests/conftest.py, which pytest puts on sys.path

from cnncourse.publish import executed
from cnncourse.publish.browser import serve

from .pagescan import built_pages

__all__ = ["built_pages", "not_available"]  # test modules import them from here

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CHAPTERS = BOOK / "chapters"


def toc() -> dict:
    """``book/_toc.yml``, parsed."""
    return yaml.safe_load((BOOK / "_toc.yml").read_text())


def toc_files() -> list[str]:
    """Every file the table of contents lists after the root page, in order, without
    suffix (``chapters/02_convolution``)."""
    return executed.toc_files(BOOK)[1:]


def toc_chapters() -> list[str]:
    """The chapter notebooks' names in book order (``02_convolution``), read from ``_toc.yml``:
    the table of contents is the one list of chapters."""
    return [f.removeprefix("chapters/") for f in toc_files() if f.startswith("chapters/")]


def built_html() -> Path:
    """``book/_build/html`` (or ``$CNNCOURSE_BOOK_HTML``, to test another build)."""
    return Path(os.environ.get("CNNCOURSE_BOOK_HTML", BOOK / "_build" / "html"))


@pytest.fixture(scope="session")
def html_dir() -> Path:
    html = built_html()
    if not (html / "intro.html").is_file():
        not_available(f"the book is not built ({html} has no intro.html): run `make book`")
    return html


@pytest.fixture(scope="session")
def pages(html_dir) -> list[Path]:
    """Every built HTML page, relative to the html folder."""
    return built_pages(html_dir)


@pytest.fixture(scope="session")
def server(html_dir):
    """``http://127.0.0.1:PORT/`` serving the built book."""
    with serve(html_dir) as url:
        yield url
