"""The book's myst-nb renderer: a figure keeps the alternative text its code gave it.

myst-nb reads an image output's width and height from the output's metadata but not its
``alt``, so every figure of the book would get its file path as alternative text. This
renderer (``nb_render_plugin: cnncourse`` in the book's configuration, registered under
``myst_nb.renderers`` in ``pyproject.toml``) also copies ``alt``, which
:func:`cnncourse.viz.describe` puts there.
"""

from __future__ import annotations

from docutils import nodes
from myst_nb.core.render import MimeData, NbElementRenderer


class AltTextRenderer(NbElementRenderer):
    """myst-nb's default renderer, plus ``alt`` from an image output's metadata."""

    def render_image(self, data: MimeData) -> list[nodes.Element]:
        rendered = super().render_image(data)
        alt = data.output_metadata.get(data.mime_type, {}).get("alt")
        if alt:
            for node in rendered:
                if isinstance(node, nodes.image):
                    node["alt"] = " ".join(str(alt).split())
        return rendered
