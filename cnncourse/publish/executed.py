"""The chapters as the last book build executed them, in table-of-contents order.

``make book`` runs every chapter into Jupyter Book's execution cache
(``_build/.jupyter_cache``, see :mod:`.execute`), and the pages are built from it. The
slides and the PDF are made from the same runs, read from the cache with jupyter-cache;
a chapter whose code changed since the build is refused rather than published stale.
(Not from ``_build/jupyter_execute/``: in cache mode myst-nb writes the notebook there
without the cached outputs, and it always takes the glued values out of the cells.)
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import nbformat
import yaml

CACHE_FOLDER = ".jupyter_cache"  # Jupyter Book's execution cache, under _build
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


class StaleBuildError(RuntimeError):
    """The book build is missing or older than a chapter it should contain."""


def _toc_files(entries: list[dict]):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("chapters", "sections", "parts"):
            yield from _toc_files(entry.get(key, []))


def toc_files(book: Path) -> list[str]:
    """Every file ``book/_toc.yml`` lists, in order, without suffix (``chapters/02_convolution``);
    the root page first."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"], *_toc_files(toc.get("parts", toc.get("chapters", [])))]


def book_parser(doc: str, build: bool = True) -> argparse.ArgumentParser:
    """The command line of a ``python -m cnncourse.publish.<module>`` program: described by
    the first paragraph of ``doc``, with ``--book`` and, if ``build``, ``--build``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=Path("book"), help="the book's source folder")
    if build:
        parser.add_argument("--build", type=Path, help="the book's build folder (default: BOOK/_build)")
    return parser


def executed_chapter(source_path: Path, build: Path) -> nbformat.NotebookNode:
    """The notebook at ``source_path`` (its cells and their metadata, such as the slide
    types) with the outputs of its latest run in the execution cache of ``build``, glued
    values and widget state included, so a change of metadata or prose needs no new
    build. Raises :class:`StaleBuildError` when there is no run, or the code changed."""
    from jupyter_cache import get_cache

    cache_dir = build / CACHE_FOLDER
    if not cache_dir.is_dir():
        raise StaleBuildError(
            f"the book has not been executed: run `make book` first ({cache_dir} is missing)"
        )
    cache = get_cache(str(cache_dir))
    # by path, not by jupyter-cache's hash, which also covers every cell's metadata
    runs = [r for r in cache.list_cache_records() if Path(r.uri) == source_path.resolve()]
    if not runs:
        raise StaleBuildError(f"{source_path} has not been executed: run `make book` first")
    run = cache.get_cache_bundle(max(runs, key=lambda r: r.created).pk).nb  # its code cells
    source = nbformat.read(source_path, as_version=4)
    code = [cell for cell in source.cells if cell.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in run.cells]:
        raise StaleBuildError(f"{source_path} changed after the last book build: run `make book` again")
    for cell, ran in zip(code, run.cells, strict=True):
        cell.outputs = ran.outputs
        cell.execution_count = ran.execution_count
    source.metadata.update({k: v for k, v in run.metadata.items() if k not in source.metadata})
    return source


def executed_chapters(book: Path, build: Path | None = None) -> list[tuple[str, nbformat.NotebookNode]]:
    """``(name, notebook)`` for every notebook in the table of contents, in book order
    (``name`` as in the table, ``chapters/04_pooling``), each as :func:`executed_chapter`
    gives it (``build`` is ``book/_build`` by default)."""
    build = build or book / "_build"
    return [
        (name, executed_chapter(book / f"{name}.ipynb", build))
        for name in toc_files(book)
        if (book / f"{name}.ipynb").is_file()  # not a Markdown page
    ]


def without_widget_views(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose widget outputs show a static figure.

    A deck or a printed page has no widget manager, so the widget views and the saved
    widget state go. What stays is each widget's last picture: the PNG of the first
    ``DescribedImage`` inside it as the saved state holds it at the end of the run (with
    its alt text), or else the fallback the widget displayed with its view (a PNG or
    HTML). The difference matters for widgets that keep drawing after they are shown,
    such as a training monitor, whose fallback is its empty first frame. Outputs that
    were nothing but a widget view disappear.
    """
    nb = copy.deepcopy(nb)
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            data = output.get("data")
            if data is not None and WIDGET_VIEW in data:
                picture = last_picture(state, data.pop(WIDGET_VIEW).get("model_id", ""))
                if picture is not None:
                    data["image/png"], alt = picture
                    output.setdefault("metadata", {})["image/png"] = {"alt": alt}
                if set(data) <= {"text/plain"}:
                    continue  # the widget had no picture and no fallback but its repr
            kept.append(output)
        cell.outputs = kept
    return nb


def last_picture(state: dict, model_id: str) -> tuple[str, str] | None:
    """``(base64 PNG, alt text)`` of the first picture (a model with an ``alt`` and a
    base64 ``value`` buffer: ``cnncourse.widgets.accessible.DescribedImage``) found
    breadth-first among the children of widget ``model_id`` in the saved widget
    ``state``; ``None`` if there is none."""
    queue, seen = [model_id], set()
    while queue:
        current = queue.pop(0)
        if current in seen or current not in state:
            continue
        seen.add(current)
        model = state[current]
        buffers = {tuple(b.get("path", ())): b for b in model.get("buffers", [])}
        value = buffers.get(("value",))
        if "alt" in model.get("state", {}) and value is not None and value.get("encoding") == "base64":
            return value["data"], model["state"]["alt"]
        children = model.get("state", {}).get("children", [])
        queue.extend(child.removeprefix("IPY_MODEL_") for child in children if isinstance(child, str))
    return None
