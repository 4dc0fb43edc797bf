"""Every chapter's lecture deck in headless Chromium, opened from disk as on a USB stick.

Per deck: at least 8 slides, no request that leaves the deck's folder, maths typeset by
MathJax, speaker notes, and no slide whose content runs outside the 1280x720 frame.
A screenshot of every slide is kept in ``book/_build/slides-screenshots/<chapter>/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnncourse.publish.slides import HEIGHT, WIDTH

from .conftest import CHAPTERS, built_html, not_available, toc_chapters

MIN_SLIDES = 8

# For the slide shown now: the elements whose box leaves the slide's 1280x720 frame,
# measured in slide pixels (reveal.js scales the frame to the window).
OVERFLOW = """() => {
  const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
  const scale = Reveal.getScale();
  const slide = Reveal.getCurrentSlide();
  const out = [];
  for (const el of slide.querySelectorAll('*')) {
    // maths is measured as a whole: the parts of MathJax's stretchy delimiters report odd boxes
    if (el.closest('aside.notes') || el.parentElement.closest('mjx-container')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const right = (box.right - frame.left) / scale, bottom = (box.bottom - frame.top) / scale;
    const left = (box.left - frame.left) / scale, top = (box.top - frame.top) / scale;
    if (right > WIDTH + 1 || bottom > HEIGHT + 1 || left < -1 || top < -1) {
      const name = `${el.tagName.toLowerCase()}.${el.className}`;
      out.push(`${name} to (${Math.round(right)}, ${Math.round(bottom)})`);
    }
  }
  return out.slice(0, 5);
}""".replace("WIDTH", str(WIDTH)).replace("HEIGHT", str(HEIGHT))


def slides_dir() -> Path:
    return built_html() / "slides"


@pytest.fixture(scope="module")
def decks() -> Path:
    folder = slides_dir()
    if not (built_html() / "intro.html").is_file():
        not_available(f"the book is not built ({built_html()}): run `make book`")
    if not (folder / "index.html").is_file():
        pytest.fail(f"{folder} has no decks: `make book` builds them (python -m cnncourse.publish.slides)")
    return folder


@pytest.mark.parametrize("chapter", toc_chapters())
def test_deck_in_chromium(browser, decks, chapter):
    deck = decks / f"{chapter}.html"
    assert deck.is_file(), f"no deck for {chapter} in {decks}"
    shots = built_html().parent / "slides-screenshots" / chapter
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()

    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("window.deckReady !== undefined", timeout=30_000)
        state = page.evaluate(
            "Promise.race([window.deckReady.then(() => 'ready'),"
            " new Promise(done => setTimeout(() => done('not ready after 30 s'), 30000))])"
        )
        assert state == "ready", f"{chapter}: the deck is {state}; JavaScript errors: {errors}"

        total = page.evaluate("Reveal.getTotalSlides()")
        assert total >= MIN_SLIDES, f"{chapter}: {total} slides (at least {MIN_SLIDES} expected)"
        notes = page.evaluate("document.querySelectorAll('aside.notes').length")
        assert notes > 0, f"{chapter}: no speaker notes"

        overflowing = {}
        for index in range(total):
            page.evaluate(f"Reveal.slide(...Object.values(Reveal.getIndices(Reveal.getSlides()[{index}])))")
            page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            problems = page.evaluate(OVERFLOW)
            if problems:
                overflowing[index + 1] = problems
            page.screenshot(path=str(shots / f"{index + 1:02d}.png"))
        assert not overflowing, f"{chapter}: content outside the {WIDTH}x{HEIGHT} frame: {overflowing}"

        text = page.evaluate(
            "Array.from(document.querySelectorAll('.reveal .slides section')).map(s => {"
            " const c = s.cloneNode(true);"
            " c.querySelectorAll('aside.notes, mjx-container').forEach(n => n.remove());"
            " return c.textContent; }).join(' ')"
        )
        raw_tex = re.findall(r"\$\$|\\frac|\\sum|\\times|\\text\{", text)
        assert not raw_tex, f"{chapter}: TeX left untypeset on the slides: {raw_tex[:5]}"
        source = (CHAPTERS / f"{chapter}.ipynb").read_text(encoding="utf-8")
        if re.search(r"\$[^$]+\$", source):
            typeset = page.evaluate("document.querySelectorAll('.slides mjx-container').length")
            assert typeset > 0, f"{chapter}: the chapter has maths but its deck shows none"
    finally:
        page.close()

    remote = [url for url in requests if not url.startswith(("file://", "data:", "blob:", "about:"))]
    assert not remote, f"{chapter}: the deck requested {remote[:5]}"
    outside = [url for url in requests if url.startswith("file://") and not url.startswith(decks.as_uri())]
    assert not outside, f"{chapter}: the deck loads files from outside its folder: {outside[:5]}"
    assert not errors, f"{chapter}: JavaScript errors {errors}"


def test_the_instructors_page_links_every_deck(decks):
    page = (built_html() / "instructors.html").read_text(encoding="utf-8")
    linked = set(re.findall(r'href="slides/([^"#]+\.html)"', page))
    expected = {f"{chapter}.html" for chapter in toc_chapters()}
    assert expected <= linked, f"decks not linked from instructors.html: {sorted(expected - linked)}"
    assert all((decks / name).is_file() for name in linked), "a deck link on instructors.html is dead"
