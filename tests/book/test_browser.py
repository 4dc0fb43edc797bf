"""Every built page in headless Chromium: no console errors, no request leaves localhost,
maths typeset by MathJax, widget controls drawn, images loaded, internal links resolve.
A screenshot of each page goes to ``screenshots/`` beside the built ``html`` folder
(``book/_build/screenshots/``).

Accessibility, on the same page loads: axe-core finds no violation of WCAG 2.1 A or AA, in
light and in dark mode (``axe.py``; excluded rules, if any, are listed there with their
reason); every image has a text alternative that is not a file name; headings go down one
level at a time; the first Tab reaches the "skip to main content" link; every equation
carries MathML for screen readers.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .axe import AXE_JS, describe, run_axe, set_colour_mode
from .conftest import built_html, built_pages, not_available
from .pagescan import figure_models, refs, widget_state, widget_views

pytestmark = pytest.mark.slow


# Images whose text alternative (what a screen reader says: alt, else aria-label, else
# title, as browsers compute an image's name) is missing, empty or a file name, skipping
# what is hidden from assistive technology.
_UNDESCRIBED_IMAGES_JS = """() => Array.from(document.querySelectorAll('img, [role=img]'))
    .filter(el => !el.closest('[aria-hidden=true]') && el.getAttribute('role') !== 'presentation')
    .map(el => ({el, text: (el.getAttribute('alt') || el.getAttribute('aria-label')
                            || el.getAttribute('title') || '').trim()}))
    .filter(({text}) => !text || /^\\S+\\.(png|jpe?g|gif|svg|webp)$/i.test(text)
                        || (/[\\/]/.test(text) && !/\\s/.test(text)))
    .map(({el, text}) => `${el.tagName.toLowerCase()} ${JSON.stringify(text)} `
                         + `(${(el.getAttribute('src') || '').slice(0, 60)})`)"""

# Headings of the article in document order, those drawn on the page only (a widget's
# included): [level, text].
_HEADINGS_JS = """() => Array.from(document.querySelectorAll(
        '#main-content h1, #main-content h2, #main-content h3, #main-content h4, '
        + '#main-content h5, #main-content h6'))
    .filter(h => h.getClientRects().length)
    .map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 50)])"""


def heading_problems(headings: list[list]) -> list[str]:
    """The article starts with one ``h1`` and never goes down more than one level at once
    (an ``h2`` may be followed by an ``h3``, not an ``h4``)."""
    problems = []
    if not headings or headings[0][0] != 1:
        problems.append(f"the article does not start with an h1: {headings[:1]}")
    if sum(level == 1 for level, _ in headings) > 1:
        problems.append("more than one h1 in the article")
    for (before, _), (level, text) in itertools.pairwise(headings):
        if level > before + 1:
            problems.append(f"heading h{level} {text!r} follows an h{before}")
    return problems


def _accessibility_problems(tab) -> list[str]:
    problems = [f"axe: {line}" for line in describe(run_axe(tab))]
    set_colour_mode(tab, "dark")  # the reader's other colour mode
    problems += [f"axe, dark mode: {line}" for line in describe(run_axe(tab))]
    set_colour_mode(tab, "light")
    problems += [f"image without a text alternative: {i}" for i in tab.evaluate(_UNDESCRIBED_IMAGES_JS)]
    problems += heading_problems(tab.evaluate(_HEADINGS_JS))
    if tab.locator("mjx-container").count() != tab.locator("mjx-container mjx-assistive-mml math").count():
        problems.append("an equation has no assistive MathML for screen readers")
    tab.locator("body").press("Tab")
    text, target = tab.evaluate(
        "() => [document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]"
    )
    works = (target or "").startswith("#") and tab.locator(target).count() == 1
    if text != "Skip to main content" or not works:
        problems.append(f"the first Tab reaches {text!r} ({target}), not a working skip link")
    return problems


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
        figures = figure_models(widget_state(html_dir / page))
        if figures and not tab.locator(".jupyter-widgets img").count():
            problems.append("widget figures are in the state but none is drawn")
        if (
            "Loading widget..." in tab.inner_text("body")
            or tab.locator(".widget-error, .jupyter-widgets-error-widget").count()
        ):
            problems.append("a widget failed to render")

    tab.wait_for_load_state("networkidle")
    problems += _accessibility_problems(tab)
    broken = tab.evaluate("""() => Array.from(document.images)
        .filter(i => !(i.complete && i.naturalWidth > 0) && i.offsetParent !== null)
        .map(i => i.src.slice(0, 120))""")
    problems += [f"image not loaded: {src}" for src in broken]

    shots = html_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(shots / (page.as_posix().replace("/", "__") + ".png")), full_page=True)
    ctx.close()
    return problems


# One test per page, so that test workers (``pytest -n``) share the pages out. Before the
# book is built there is one placeholder, and the html_dir fixture says what is missing.
@pytest.mark.parametrize("page", built_pages(built_html()) or [Path("intro.html")], ids=str)
def test_every_page_in_chromium(browser, server, html_dir, page):
    if not AXE_JS.is_file():
        not_available(f"axe-core is not installed ({AXE_JS} is missing): run `make vendor`")
    problems = _check_page(browser, server, html_dir, page)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


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
