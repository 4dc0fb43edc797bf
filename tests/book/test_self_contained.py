"""Every built page loads its scripts, stylesheets and images from the book itself, and
every widget shown has its state, with its first figure, embedded in the page."""

from __future__ import annotations

import pytest

from .conftest import BOOK
from .pagescan import figure_models, is_third_party, refs, widget_state, widget_views


def test_is_third_party():
    assert is_third_party("https://cdn.jsdelivr.net/npm/x.js")
    assert is_third_party("//cdnjs.cloudflare.com/x.js")
    assert not is_third_party("../_static/require.js?v=1")
    assert not is_third_party("data:image/png;base64,AAAA")


def test_no_page_loads_third_party_scripts_or_styles(html_dir, pages):
    assert pages, "no HTML pages were built"
    offenders = []
    for page in pages:
        r = refs(html_dir / page)
        offenders += [f"{page}: {url}" for url in r.scripts + r.styles + r.images if is_third_party(url)]
    assert not offenders, "third-party resources:\n" + "\n".join(offenders)


def test_local_scripts_and_styles_exist(html_dir, pages):
    missing = []
    for page in pages:
        r = refs(html_dir / page)
        for url in r.scripts + r.styles:
            target = (html_dir / page).parent / url.split("?")[0].split("#")[0]
            if not target.is_file():
                missing.append(f"{page}: {url}")
    assert not missing, "\n".join(missing)


def test_mathjax_and_widget_manager_are_served_by_the_book(html_dir, pages):
    intro = refs(html_dir / "intro.html")
    assert any(s.startswith("_static/mathjax/tex-chtml.js") for s in intro.scripts), intro.scripts
    assert (html_dir / "_static/mathjax/output/chtml/fonts/woff-v2").is_dir()
    widget_pages = [p for p in pages if widget_views(html_dir / p)]
    for page in widget_pages:
        scripts = [s.split("?")[0].rsplit("_static/", 1)[-1] for s in refs(html_dir / page).scripts]
        assert "require.js" in scripts and "html-manager/embed-amd.js" in scripts, (page, scripts)
        assert scripts.index("require.js") < scripts.index("html-manager/embed-amd.js")


def test_vendored_js_is_not_injected_into_every_page(html_dir):
    # Jupyter Book adds every .js under book/_static to every page; the vendored files
    # live in book/_vendor instead, so pages load only what they need.
    assert not (BOOK / "_static").exists() or not list((BOOK / "_static").rglob("*.js"))
    scripts = refs(html_dir / "intro.html").scripts
    assert not [s for s in scripts if "mathjax/" in s and "tex-chtml" not in s], scripts
    assert not [s for s in scripts if "embed-amd" in s], "intro has no widgets"


def test_every_widget_view_has_its_state_and_first_figure(html_dir, pages):
    chapters = [p for p in pages if p.parts[0] == "chapters"]
    shown = 0
    for page in chapters:
        views = widget_views(html_dir / page)
        if not views:
            continue
        state = widget_state(html_dir / page)
        for model_id in views:
            assert model_id in state, f"{page}: widget {model_id} shown without its state"
            shown += 1
        images = figure_models(state)
        for image in images:
            buffers = {tuple(b["path"]): b["data"] for b in image.get("buffers", [])}
            assert len(buffers.get(("value",), "")) > 100, f"{page}: a widget figure is empty"
            if image["model_name"] != "ImageModel":
                assert image["state"]["alt"].strip(), f"{page}: a widget figure has no alternative text"
    if not shown:
        pytest.skip("no chapter displays a widget yet")
