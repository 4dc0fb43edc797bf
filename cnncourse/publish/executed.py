"""The chapters as the last book build executed them, in table-of-contents order.

``jupyter-book build`` runs every chapter and keeps the executed notebook, outputs
included, under ``_build/jupyter_execute/``. The slides and the PDF are made from those
copies; a chapter edited since the build is refused rather than published stale.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import yaml

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


def executed_chapters(book: Path, build: Path | None = None) -> list[tuple[str, nbformat.NotebookNode]]:
    """``(name, notebook)`` for every notebook in the table of contents, in book order
    (``name`` as in the table, ``chapters/04_pooling``).

    Each notebook is the source notebook (its cells and their metadata, such as the slide
    types) with the outputs of its executed copy in ``build`` (``book/_build`` by
    default), so a change of metadata needs no new build. Raises
    :class:`StaleBuildError` naming the chapter when the executed copy is missing or its
    cells differ from the source, so a deck or PDF never shows outputs of other code.
    """
    build = build or book / "_build"
    chapters = []
    for name in toc_files(book):
        source_path = book / f"{name}.ipynb"
        if not source_path.is_file():
            continue  # a Markdown page, not a notebook
        executed_path = build / "jupyter_execute" / f"{name}.ipynb"
        if not executed_path.is_file():
            raise StaleBuildError(
                f"{name} has not been executed: run `make book` first ({executed_path} is missing)"
            )
        source = nbformat.read(source_path, as_version=4)
        executed = nbformat.read(executed_path, as_version=4)
        if [c.source for c in source.cells] != [c.source for c in executed.cells]:
            raise StaleBuildError(f"{source_path} changed after the last book build: run `make book` again")
        for cell, run in zip(source.cells, executed.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs = run.outputs
                cell.execution_count = run.execution_count
        source.metadata.update({k: v for k, v in executed.metadata.items() if k not in source.metadata})
        chapters.append((name, source))
    return chapters


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
