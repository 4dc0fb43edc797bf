"""Every built page at a phone's width (390x844 CSS pixels): the page never scrolls
sideways and no element sticks out past the right edge of the screen.

An element that overflows inside a box that scrolls on its own (a code cell, a wide table
or figure in an ``overflow-x: auto`` wrapper) is fine: the learner swipes that box, not the
page. A screenshot of each page at this width goes to ``screenshots/phone/`` beside the
built ``html`` folder (``book/_build/screenshots/phone/``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}

# Elements whose right edge passes the viewport's, skipping what is not drawn and what an
# ancestor box below <body> scrolls (or clips) horizontally on its own. A widget's own panels
# do not count as such a box: its controls must fit the screen, since a menu scrolled out of
# sight cannot be used. Only the outermost offender of each subtree is listed: its
# descendants stick out with it. Returns [{what, right, past}] with `past` in CSS pixels.
_OFFENDERS_JS = """(tolerance) => {
    const edge = document.documentElement.clientWidth;
    const clipsX = (el) => {
        if (el === document.body || el === document.documentElement) return false;
        if (el.closest('.jupyter-widgets, .lm-Widget')) return false;
        const style = getComputedStyle(el);
        // overflow does not apply to inline boxes, whatever the computed value says
        if (['inline', 'contents'].includes(style.display)) return false;
        return ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX);
    };
    const drawn = (el) => {
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return style.visibility !== 'hidden' && box.width > 0 && box.height > 0;
    };
    const describe = (el) => {
        let what = el.tagName.toLowerCase();
        if (el.id) what += '#' + el.id;
        const classes = Array.from(el.classList).slice(0, 3);
        if (classes.length) what += '.' + classes.join('.');
        const control = el.closest('.widget-inline-hbox');
        const label = control && control.querySelector('.widget-label');
        const text = ((label && label.textContent) || el.textContent || '').trim().slice(0, 40);
        if (text) what += ` "${text}"`;
        const section = el.closest('section[id]');
        return section ? `${what} in section #${section.id}` : what;
    };
    const sticksOut = (el) => {
        if (!drawn(el) || el.getBoundingClientRect().right <= edge + tolerance) return false;
        for (let up = el.parentElement; up; up = up.parentElement) {
            if (clipsX(up)) return false;
        }
        return true;
    };
    const found = [];
    for (const el of document.body.querySelectorAll('*')) {
        if (!sticksOut(el)) continue;
        let outer = true;
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            if (sticksOut(up)) { outer = false; break; }
        }
        if (!outer) continue;
        const right = el.getBoundingClientRect().right;
        found.push({what: describe(el), right: Math.round(right), past: Math.round(right - edge)});
    }
    return found;
}"""


@pytest.fixture(scope="module")
def phone(browser):
    """A Chromium context at a phone's viewport."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    yield context
    context.close()


def phone_width_problems(tab, url: str, shot: Path | None = None) -> list[str]:
    """What sticks out past the right edge of ``url`` at the tab's width, once scripts
    (MathJax, the widget manager) have drawn the page."""
    tab.goto(url, wait_until="load")
    tab.wait_for_load_state("networkidle")
    n_math = tab.locator(".math").count()
    if n_math:
        tab.wait_for_function(
            f"document.querySelectorAll('mjx-container').length >= {n_math}", timeout=20_000
        )
    tab.wait_for_function("!document.body.innerText.includes('Loading widget...')", timeout=20_000)
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(shot), full_page=True)
    problems = [
        f"{o['what']}: right edge at {o['right']} px, {o['past']} px past the edge"
        for o in tab.evaluate(_OFFENDERS_JS, 1)
    ]
    scroll_width, width = tab.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if scroll_width > width:
        problems.append(f"the page scrolls sideways: {scroll_width} px wide in a {width} px viewport")
    return problems


def test_no_page_sticks_out_at_phone_width(phone, server, html_dir, pages):
    tab = phone.new_page()
    report = {}
    for page in pages:
        shot = html_dir.parent / "screenshots" / "phone" / (page.as_posix().replace("/", "__") + ".png")
        problems = phone_width_problems(tab, server + page.as_posix(), shot)
        if problems:
            report[page.as_posix()] = problems
    assert not report, f"at {PHONE['width']}x{PHONE['height']}:\n" + "\n".join(
        f"{page}:\n  " + "\n  ".join(problems) for page, problems in report.items()
    )
