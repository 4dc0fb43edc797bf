"""Explorers that compute and draw in the browser, so they stay live in the static book.

The figure of a :class:`LiveExplorer` is a :class:`LiveFigure`: an anywidget whose
JavaScript module (the files in ``js/``) travels inside the widget state. ``jslink`` ties
each control's synced value to one of the figure's traits, so moving a control redraws
the figure in the browser, with a kernel (JupyterLab) or without one (the static book,
whose ipywidgets embed manager loads anywidget's front end from the book itself).

Python still computes the same results in :meth:`~FigureExplorer.compute` (for code and
tests) and draws the PNG that front ends without widgets show (nbconvert, GitHub).
"""

from __future__ import annotations

import base64
from pathlib import Path

import anywidget
import ipywidgets as w
import traitlets as t

from .. import viz
from .base import FigureExplorer, StaticFallback

JS_DIR = Path(__file__).with_name("js")

#: Helpers every explorer's module starts with: plain functions, no imports or exports.
SHARED_JS = ("arrays.js", "draw.js")


def js_module(name: str) -> str:
    """The ES module of one explorer: the shared helpers, then ``js/<name>.js``.

    One string, because the widget state carries the module inline: the static book has
    no server that could resolve an ``import`` of a second file.
    """
    return "\n".join((JS_DIR / f).read_text(encoding="utf-8") for f in (*SHARED_JS, f"{name}.js"))


class LiveFigure(anywidget.AnyWidget):
    """A figure drawn by JavaScript. Subclasses set ``_esm`` (:func:`js_module`) and
    declare one synced trait per control they draw from."""


class InputFigure(LiveFigure):
    """A figure whose input comes from an :class:`~cnncourse.widgets.inputs.InputPicker`:
    ``inputs`` (its :meth:`~InputPicker.encoded_inputs`), ``input_names`` (their labels,
    for the figure's descriptions), ``source`` (the picker's index) and ``matrix`` (the
    typed text, parsed in the browser)."""

    inputs = t.List().tag(sync=True)
    input_names = t.List(t.Unicode()).tag(sync=True)
    source = t.Int(0).tag(sync=True)
    matrix = t.Unicode("").tag(sync=True)


class LiveExplorer(FigureExplorer):
    """A :class:`FigureExplorer` whose figure and caption are drawn in the browser by
    ``view``, an instance of ``figure_class``; :meth:`link` connects the controls."""

    figure_class: type[LiveFigure] = LiveFigure

    def _output_widgets(self) -> list[w.Widget]:
        self.view = self.figure_class()
        self.links: list[w.Link] = []
        return [self.view]

    def link(self, **controls: tuple[w.Widget, str]) -> None:
        """``trait=(control, name)``: copy the control's synced ``name`` (``value``, or
        ``index`` for a selection) into the figure's ``trait`` now and, in the browser,
        whenever it changes."""
        for trait, (control, name) in controls.items():
            setattr(self.view, trait, getattr(control, name))
            self.links.append(w.jslink((control, name), (self.view, trait)))

    def link_input(self, picker) -> None:
        """Send every input of an ``InputPicker`` along and link its two controls."""
        self.view.inputs = picker.encoded_inputs()
        self.view.input_names = [label for label, _ in picker.source.options]
        self.link(source=(picker.source, "index"), matrix=(picker.matrix, "value"))

    def update(self) -> None:
        """Recompute in Python (the browser redraws by itself); a ``ValueError`` is kept
        in ``error``, not raised."""
        try:
            self.compute()
        except ValueError as exc:
            self.error = str(exc)
            return
        self.error = ""

    def fallback(self) -> dict:
        bundle = StaticFallback.fallback(self)
        if not self.error:
            png = viz.render_png(self.draw, self.figsize, self.dpi)
            bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle
