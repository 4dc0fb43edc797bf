"""Figures carry written alternative text from the code that draws them to the page:
``viz.describe`` puts it in the output's metadata, the book's myst-nb renderer
(``cnncourse.mystnb_renderer``) writes it into ``<img alt>``."""

from __future__ import annotations

import base64

import matplotlib.pyplot as plt
import nbformat
import pytest

from cnncourse import viz


def test_describe_displays_the_figure_once_with_its_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    fig = viz.show_images([[[0.0, 1.0], [1.0, 0.0]]], ["checker"])
    viz.describe(fig, "  A 2×2 checker:\n black and white. ")
    assert not plt.fignum_exists(fig.number), "closed, so Jupyter does not show it again"
    [described] = shown
    data, metadata = described._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert data["text/plain"] == "A 2×2 checker: black and white."
    assert metadata == {"image/png": {"alt": "A 2×2 checker: black and white."}}


def test_describe_refuses_a_figure_without_text():
    fig = plt.figure()
    with pytest.raises(ValueError, match="alternative text"):
        viz.describe(fig, "  ")
    plt.close(fig)


def test_describe_history_gives_the_ends_of_each_curve():
    history = {"loss": [2.3, 1.0, 0.41], "val_loss": [2.2, 1.1, 0.5], "accuracy": [0.1, 0.6, 0.87]}
    assert viz.describe_history(history) == (
        "Loss and accuracy over 3 epochs: training loss 2.3 to 0.41, validation loss 2.2 to 0.5, "
        "training accuracy 10% to 87%."
    )
    assert viz.describe_history({}) == "Loss and accuracy per epoch: no data yet."


def test_readable_on_picks_the_colour_with_more_contrast():
    assert viz.readable_on((0.0, 0.0, 0.0, 1.0)) == "white"
    assert viz.readable_on((1.0, 1.0, 1.0, 1.0)) == "black"
    # white on this blue is 4.43:1, below AA; black is 4.74:1
    assert viz.readable_on((0x44 / 255, 0x7B / 255, 0xB3 / 255)) == "black"


def test_the_book_renderer_writes_the_alt_text_into_the_page(tmp_path):
    """A notebook with a described figure and a plain one, built by Sphinx with myst-nb
    and ``nb_render_plugin = "cnncourse"``, as the book is."""
    sphinx_build = pytest.importorskip("sphinx.cmd.build")
    png = base64.b64encode(viz.render_png(lambda fig: fig.subplots().plot([0, 1]))).decode()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Figures"),
        nbformat.v4.new_code_cell(
            "viz.describe(fig, ...)",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={"image/png": png, "text/plain": "A line rising from 0 to 1."},
                    metadata={"image/png": {"alt": "A line rising from 0 to 1."}},
                ),
                nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
            ],
        ),
    ]
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(nb, src / "index.ipynb")
    (src / "conf.py").write_text(
        'extensions = ["myst_nb"]\nnb_execution_mode = "off"\nnb_render_plugin = "cnncourse"\n'
    )
    assert sphinx_build.build_main(["-q", "-b", "html", str(src), str(tmp_path / "html")]) == 0
    page = (tmp_path / "html" / "index.html").read_text()
    assert '<img alt="A line rising from 0 to 1." src="_images/' in page
    # without a description, myst-nb's default: the file path, which the browser test rejects
    assert page.count('<img alt="_images/') == 1


def test_matrix_cell_numbers_drop_trailing_zeros_and_a_bare_point():
    assert [viz._number(v) for v in (3.0, 2.5, 0.25, 0.996, -0.999, 9.999, 10.04)] == [
        "3",
        "2.5",
        "0.25",
        "1",
        "-1",
        "10",
        "10.0",
    ]
