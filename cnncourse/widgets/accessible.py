"""Output widgets that carry their meaning to screen readers: a figure with alternative
text, and HTML that is announced when it changes (an explorer's caption, a quiz's
feedback). ``ipywidgets.Image`` has no alternative text (and its tooltip breaks its view
in ipywidgets 8.1), ``ipywidgets.HTML`` is not a live region."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets as t

_JS = Path(__file__).with_name("js")


class DescribedImage(anywidget.AnyWidget):
    """A PNG (``value``, bytes, as in ``ipywidgets.Image``) shown as an ``<img>`` whose
    ``alt`` is ``alt``; both update together when the figure is redrawn."""

    _esm = (_JS / "described_image.js").read_text(encoding="utf-8")
    value = t.Bytes(b"").tag(sync=True)
    alt = t.Unicode("").tag(sync=True)


class AnnouncedHTML(anywidget.AnyWidget):
    """A line of HTML (``value``, as in ``ipywidgets.HTML``) shown in a live region
    (``role="status"``): a screen reader reads the new text after each change, so a user
    who cannot see the figure hears what a control did."""

    _esm = (_JS / "announced.js").read_text(encoding="utf-8")
    value = t.Unicode("").tag(sync=True)
