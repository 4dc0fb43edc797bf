"""Every built page in headless Chromium: no console errors, no request leaves localhost,
maths typeset by MathJax, widget controls drawn, images loaded, internal links resolve.
A screenshot of each page goes to ``book/_build/screenshots/``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .conftest import BOOK
from .pagescan import refs, widget_state, widget_views

pytestmark = pytest.mark.slow

SHOTS = BOOK / "_build" / "screenshots"


def _check_page(browser, server, html_dir, page: Path) -> list[str]:
    problems: list[str] = []
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = ctx.new_page()
    tab.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))

    def _route(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            problems.append(f"third-party request: {route.request.url}")
            route.abort()

    tab.route("**/*", _route)
    tab.goto(server + page.as_posix(), wait_until="load")
    tab.wait_for_load_state("networkidle")

    # Maths: MathJax replaces every \(..\) / \[..\] element's text with an mjx-container.
    n_math = tab.locator(".math").count()
    if n_math:
        tab.wait_for_function(
            f"document.querySelectorAll('mjx-container').length >= {n_math}", timeout=20_000
        )
        if tab.locator("mjx-merror").count():
            problems.append("MathJax reported a TeX error")

    # Widgets: the embed manager renders each view from the embedded state.
    n_views = len(widget_views(html_dir / page))
    if n_views:
        try:
            tab.wait_for_function(
                "document.querySelectorAll('.jupyter-widgets.widget-container, "
                f".jupyter-widgets.widget-box').length >= {n_views}",
                timeout=20_000,
            )
        except Exception:
            problems.append(f"{n_views} widget views expected, not rendered")
        if not tab.locator(
            ".jupyter-widgets select, .jupyter-widgets input, .jupyter-widgets button"
        ).count():
            problems.append("no widget controls on the page")
        figures = [m for m in widget_state(html_dir / page).values() if m["model_name"] == "ImageModel"]
        if figures and not tab.locator(".jupyter-widgets img").count():
            problems.append("widget figures are in the state but none is drawn")
        if (
            "Loading widget..." in tab.inner_text("body")
            or tab.locator(".widget-error, .jupyter-widgets-error-widget").count()
        ):
            problems.append("a widget failed to render")

    tab.wait_for_load_state("networkidle")
    broken = tab.evaluate("""() => Array.from(document.images)
        .filter(i => !(i.complete && i.naturalWidth > 0) && i.offsetParent !== null)
        .map(i => i.src.slice(0, 120))""")
    problems += [f"image not loaded: {src}" for src in broken]

    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / (page.as_posix().replace("/", "__") + ".png")), full_page=True)
    ctx.close()
    return problems


def test_every_page_in_chromium(browser, server, html_dir, pages):
    report = {}
    for page in pages:
        problems = _check_page(browser, server, html_dir, page)
        if problems:
            report[str(page)] = problems
    assert not report, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in report.items())


def test_internal_links_resolve(html_dir, pages):
    """Every link to a page of the book points at a file that exists, and to an anchor in
    it when there is a fragment."""
    ids = {page: refs(html_dir / page).ids for page in pages}
    broken = []
    for page in pages:
        for href in refs(html_dir / page).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (html_dir / page).parent / unquote(parts.path) if parts.path else html_dir / page
            if target.is_dir():
                target = target / "index.html"
            if not target.resolve().is_file():
                broken.append(f"{page}: {href}")
                continue
            rel = target.resolve().relative_to(html_dir.resolve())
            if parts.fragment and rel in ids and parts.fragment not in ids[rel]:
                broken.append(f"{page}: {href} (no id {parts.fragment!r})")
    assert not broken, "broken internal links:\n" + "\n".join(broken)
