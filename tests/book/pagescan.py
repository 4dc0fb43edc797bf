"""Reading built pages: the scripts, stylesheets, images and links they refer to, and the
embedded ipywidgets state."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit


def built_pages(html: Path) -> list[Path]:
    """Every HTML page of the book in ``html``, relative to it (Sphinx's _sources and
    _static excluded, and the slides, which test_slides.py checks); ``[]`` when nothing is
    built."""
    return sorted(
        page.relative_to(html)
        for page in html.rglob("*.html")
        if not page.relative_to(html).parts[0].startswith("_") and page.relative_to(html).parts[0] != "slides"
    )


_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.S)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.styles, self.images, self.links, self.ids = [], [], [], [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif (
            tag == "link"
            and a.get("href")
            and {"stylesheet", "preload", "modulepreload"} & set((a.get("rel") or "").split())
        ):
            self.styles.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def is_third_party(url: str) -> bool:
    """Absolute or protocol-relative URLs to another host (not a file of the book)."""
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data", "blob")


def widget_state(page: Path) -> dict:
    """``{model_id: model}`` of the page's embedded ipywidgets state (``{}`` if none)."""
    found = _STATE.findall(page.read_text(encoding="utf-8"))
    return json.loads(found[0])["state"] if found else {}


def figure_models(state: dict) -> list[dict]:
    """The models in a widget ``state`` that hold a figure drawn by the kernel: an
    explorer's ``DescribedImage`` (its PNG in the ``value`` buffer) or an
    ``ipywidgets.Image``."""
    return [
        m
        for m in state.values()
        if m["model_name"] == "ImageModel"
        or m["state"].get("_anywidget_id") == "cnncourse.widgets.accessible.DescribedImage"
    ]


def widget_views(page: Path) -> list[str]:
    """Model ids of the widget views shown on the page, in order."""
    return [json.loads(v)["model_id"] for v in _VIEW.findall(page.read_text(encoding="utf-8"))]
