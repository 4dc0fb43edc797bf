"""axe-core in a Playwright page: the WCAG 2.1 A and AA rules, run on what the page shows.

axe-core comes from npm with the book's other front-end files (``book/package.json``); the
tests inject it from ``book/node_modules`` and it is never copied into the built book.

Run as a script, it prints the violations of every page of a built book (light mode, then
dark mode), one line per page, then each violated rule with its elements::

    .venv/bin/python -m tests.book.axe [book/_build/html]
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "book" / "node_modules" / "axe-core" / "axe.min.js"

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Rules switched off, each with the reason. Keep this empty unless a rule reports something
# that is not a barrier to a reader (a false positive), and say why.
EXCLUDED: dict[str, str] = {}


def run_axe(tab) -> list[dict]:
    """axe-core's violations on the page open in ``tab``, as axe reports them: one dict per
    rule (``id``, ``impact``, ``help``, ``nodes`` with each element's ``target`` and
    ``failureSummary``)."""
    if not tab.evaluate("() => typeof window.axe === 'object'"):
        tab.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    options = {
        "runOnly": {"type": "tag", "values": TAGS},
        "rules": {rule: {"enabled": False} for rule in EXCLUDED},
        "resultTypes": ["violations"],
    }
    result = tab.evaluate("options => axe.run(document, options)", options)
    return result["violations"]


def set_colour_mode(tab, mode: str) -> None:
    """Switch the page to the theme's ``"light"`` or ``"dark"`` mode, as its button does,
    and wait until the colours have finished their CSS transitions (axe-core would
    otherwise measure the contrast of a colour half-way)."""
    tab.evaluate(
        """async mode => {
            document.documentElement.dataset.theme = mode;
            await new Promise(requestAnimationFrame);
            const moving = document.getAnimations().filter(a => a instanceof CSSTransition);
            await Promise.all(moving.map(a => a.finished.catch(() => null)));
        }""",
        mode,
    )


def describe(violations: list[dict], max_nodes: int = 4) -> list[str]:
    """One line per rule, then up to ``max_nodes`` of its elements with axe's reason."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
        for node in v["nodes"][:max_nodes]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' > '.join(map(str, node['target']))}: {summary[:300]}")
        if len(v["nodes"]) > max_nodes:
            lines.append(f"    ... and {len(v['nodes']) - max_nodes} more")
    return lines


def _report(html_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    from cnncourse.publish.browser import CHROMIUM, CHROMIUM_ARGS, serve

    from .pagescan import built_pages

    pages = built_pages(html_dir)
    total, total_dark, details = 0, 0, []
    with serve(html_dir) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        for page in pages:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(server + page.as_posix(), wait_until="load")
            tab.wait_for_load_state("networkidle")
            tab.wait_for_timeout(1500)
            violations = run_axe(tab)
            set_colour_mode(tab, "dark")
            dark = run_axe(tab)
            n, n_dark = (sum(len(v["nodes"]) for v in found) for found in (violations, dark))
            total, total_dark = total + n, total_dark + n_dark
            print(f"{page}: {n} failing elements ({len(violations)} rules), dark mode {n_dark}", flush=True)
            details += [f"== {page}", *describe(violations), f"== {page}, dark mode", *describe(dark)]
            tab.close()
        browser.close()
    print(f"total: {total} failing elements on {len(pages)} pages, dark mode {total_dark}")
    print("\n".join(details))


if __name__ == "__main__":
    import sys

    _report(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "book" / "_build" / "html"))
