"""Glued numbers: what a chapter's ``glue`` call stores, and how the slides paste it back
into the prose (the book's own pasting is myst-nb's, checked by the book build)."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

from cnncourse.publish import slides
from cnncourse.publish.glue import (
    GLUE_PREFIX,
    glue,
    glue_names_used,
    glued_values,
    paste,
)


class _Recorder(DisplayPublisher):
    """Keeps what a kernel would send to the notebook as display_data outputs."""

    def __init__(self):
        super().__init__()
        self.outputs = []

    def publish(self, data, metadata=None, **kwargs):
        self.outputs.append({"output_type": "display_data", "data": data, "metadata": metadata or {}})


@pytest.fixture
def recorded(monkeypatch):
    shell = InteractiveShell.instance()
    recorder = _Recorder()
    monkeypatch.setattr(shell, "display_pub", recorder)
    yield recorder.outputs
    InteractiveShell.clear_instance()


def test_glue_stores_the_text_and_the_book_shows_it_as_written(recorded):
    assert glue("face_acc", f"{0.98:.0%}") == "98 %"  # the book's style: a space before %
    for name, text in [("params", "61,706"), ("brightness", "0.30"), ("verdict", "within")]:
        glue(name, text)
    output = recorded[0]
    assert output["metadata"]["scrapbook"] == {"name": "face_acc", "mime_prefix": GLUE_PREFIX}
    assert output["data"] == {GLUE_PREFIX + "text/plain": "'98 %'"}  # a str's repr, as myst-nb stores it
    cells = []
    for output in recorded:
        cell = nbformat.v4.new_code_cell("glue(...)")
        cell.outputs = [nbformat.from_dict(output)]
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    # not (61, 706) or 0.3: myst-nb evaluates what it pastes, and the quotes keep it text
    expected = {"face_acc": "98 %", "params": "61,706", "brightness": "0.30", "verdict": "within"}
    assert glued_values(nb) == expected
    from myst_nb.core.variables import format_plain_text  # what the book build pastes

    assert {
        n: format_plain_text(o["data"][GLUE_PREFIX + "text/plain"], "")
        for n, o in zip(expected, recorded, strict=True)
    } == expected


def test_glue_refuses_an_unformatted_number(recorded):
    with pytest.raises(TypeError, match="glue 'acc': format the value as text first, got float"):
        glue("acc", 0.98)
    assert recorded == []


def test_without_myst_nb_glue_only_returns_the_text(recorded, monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now fails
    assert glue("acc", "0.97") == "0.97"
    assert recorded == []


def test_paste_replaces_roles_and_applies_a_format_like_myst_nb():
    values = {"acc": "0.9712", "time": "4.2 s"}
    text = "It reaches {glue:text}`acc:.1%` in {glue}`time`; again {glue:text}`acc`."
    assert glue_names_used(text) == ["acc", "time", "acc"]
    assert paste(text, values) == "It reaches 97.1% in 4.2 s; again 0.9712."
    with pytest.raises(KeyError, match="'missing'"):
        paste("{glue:text}`missing`", values)


def test_the_slides_show_glued_values_and_not_the_glue_records():
    record = {
        "output_type": "display_data",
        "data": {GLUE_PREFIX + "text/plain": "98%"},
        "metadata": {"scrapbook": {"name": "face_acc", "mime_prefix": GLUE_PREFIX}},
    }
    printed = {"output_type": "stream", "name": "stdout", "text": "test accuracy 98%\n"}
    measure = nbformat.v4.new_code_cell("print(...)")
    measure.metadata["slideshow"] = {"slide_type": "-"}
    measure.outputs = [nbformat.from_dict(record), nbformat.from_dict(printed)]
    prose = nbformat.v4.new_markdown_cell("## Faces\n\n- The CNN gets {glue:text}`face_acc` of the photos.")
    prose.metadata["slideshow"] = {"slide_type": "-"}
    deck = slides.slide_cells(nbformat.v4.new_notebook(cells=[measure, prose]))
    sources = [cell.source for cell in deck if cell.cell_type == "markdown"]
    assert "- The CNN gets 98% of the photos." in sources
    [code] = [cell for cell in deck if cell.cell_type == "code"]
    assert code.outputs == [nbformat.from_dict(printed)]


def test_a_chapter_importing_glue_does_not_load_nbformat():
    code = "import sys, cnncourse.publish.glue; print('nbformat' in sys.modules, 'jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]  # both cost seconds in every chapter's kernel
