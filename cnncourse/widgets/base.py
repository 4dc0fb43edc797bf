"""The pattern every explorer follows: controls above a figure that is recomputed and
redrawn (a PNG with its alternative text, in a ``DescribedImage``) whenever a control
changes.

Because the figure is an ordinary widget value, a notebook executed headlessly (the
book's build, nbval, the tests) saves it in the widget state, so the static book shows
the first figure, and tests can set a control's ``value`` and read what was computed.
"""

from __future__ import annotations

import base64
import html
import re

import ipywidgets as w
from matplotlib.figure import Figure

from .. import viz
from .accessible import AnnouncedHTML, DescribedImage


class StaticFallback:
    """Adds a static view to a widget's display data, next to the live widget view.

    Front ends that cannot run widgets (nbconvert, GitHub, an executed notebook opened
    without its widget state) show :meth:`fallback` (e.g. the current figure as a PNG)
    instead of an empty box; the book and JupyterLab still show the live widget.
    """

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle.update(self.fallback())
        if "image/png" in bundle:
            return bundle, {"image/png": {"alt": self.alt_text()}}
        return bundle

    def alt_text(self) -> str:
        """The fallback picture in words, for a reader who cannot see it."""
        return f"{type(self).__name__}, an interactive figure"

    def fallback(self) -> dict:
        return {"text/plain": f"<{type(self).__name__}: interactive, run it in Jupyter>"}


class FigureExplorer(StaticFallback, w.VBox):
    """Subclasses implement :meth:`compute` (read the controls, store results on ``self``)
    and :meth:`draw` (fill a figure); :meth:`update` runs both and refreshes the image.

    ``caption`` is a line of HTML under the figure for numbers and formulas, which screen
    readers announce when it changes; the figure's alternative text is :meth:`alt_text`.
    ``error`` holds the last problem (e.g. an unparsable matrix) or ``""``.
    """

    figsize: tuple[float, float] = (9.0, 3.2)
    dpi = 80

    def __init__(self, controls, **kwargs):
        self.error = ""
        self._holding = False
        super().__init__([*controls, *self._output_widgets()], **kwargs)

    def _output_widgets(self) -> list[w.Widget]:
        """The widgets under the controls: the figure and its caption."""
        self.figure = DescribedImage()
        self.caption = AnnouncedHTML()
        return [self.figure, self.caption]

    def watch(self, *controls) -> None:
        """Recompute whenever one of these controls' ``value`` changes."""
        for control in controls:
            control.observe(self._on_change, names="value")

    def _on_change(self, _change=None) -> None:
        if not self._holding:
            self.update()

    def update(self) -> None:
        """Recompute from the controls and redraw; a ``ValueError`` is shown, not raised."""
        try:
            self.compute()
        except ValueError as exc:
            self.error = str(exc)
            self.caption.value = f'<span style="color:#b00020">&#9888; {html.escape(str(exc))}</span>'
            return
        self.error = ""
        self.figure.value = viz.render_png(self.draw, self.figsize, self.dpi)
        self.figure.alt = self.alt_text()
        self.caption.value = self.describe()

    def fallback(self) -> dict:
        bundle = super().fallback()
        if self.figure.value:
            bundle["image/png"] = base64.b64encode(self.figure.value).decode("ascii")
        return bundle

    def compute(self) -> None:
        raise NotImplementedError

    def draw(self, fig: Figure) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        """HTML for the caption under the figure."""
        return ""

    def alt_text(self) -> str:
        """The figure in words (plain text): by default the caption's text. Subclasses say
        first what kind of picture it is."""
        return html_to_text(self.describe()) or super().alt_text()


def html_to_text(markup: str) -> str:
    """The text of a line of HTML: tags dropped, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " ", markup))
    return " ".join(html.unescape(text).split())
