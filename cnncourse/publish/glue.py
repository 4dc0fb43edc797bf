"""Measured numbers in the chapters' prose, tied to the code that measured them.

A chapter computes a number, formats it and stores it under a name with :func:`glue`;
its markdown quotes it with myst-nb's role, ``{glue:text}`name```. The book (myst-nb)
pastes the stored text in place, and so do the slides (:func:`paste`), so the text and
the results cannot drift apart. ``tests/test_prose_numbers.py`` fails on a chapter
whose prose states a measured percentage or timing that is not glued.

In JupyterLab the role shows as written; the number is in the output of the cell that
measured it, which also prints it.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a chapter imports this module: nbformat (with jsonschema) costs seconds
    import nbformat

# myst-nb's marker for a glued value that is stored but not shown (glue(display=False)):
# the output's mime types carry this prefix and its metadata names the value.
GLUE_PREFIX = "application/papermill.record/"
_PERCENT = re.compile(r"(\d)%")
GLUE_ROLE = re.compile(r"\{glue(?::text|:any|:md)?\}`([^`:]+)(?::([^`]*))?`")


def glue(name: str, text: str) -> str:
    """Store ``text`` (already formatted, e.g. ``f"{accuracy:.0%}"``) for the prose to
    quote as ``{glue:text}`name```; returns ``text`` so the cell can print it too
    (as a cell's last line it would show as the cell's result: print it, or glue earlier).
    ``name`` is a literal string, which the book's tests look for in the code. The text is
    set in the book's style, with a space before a per cent sign (``f"{0.981:.1%}"`` gives
    ``98.1 %``).

    Outside a book build without myst-nb installed (a learner's plain environment) it
    stores nothing: the roles then show as written, and the printed number remains.
    """
    if not isinstance(text, str):
        raise TypeError(f"glue {name!r}: format the value as text first, got {type(text).__name__}")
    text = _PERCENT.sub(r"\1 %", text)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return text
    myst_glue(name, text, display=False)
    return text


def is_glue_record(output: dict) -> bool:
    """Whether a cell output is a glued value (which the prose shows, not the cell)."""
    return bool(output.get("metadata", {}).get("scrapbook"))


def glued_values(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The values an executed notebook ``nb`` glued, name -> text shown in the book."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if not is_glue_record(output):
                continue
            record = output["metadata"]["scrapbook"]
            data = output.get("data", {})
            plain = data.get(record.get("mime_prefix", "") + "text/plain")
            if plain is not None:
                values[record["name"]] = _shown(plain if isinstance(plain, str) else "".join(plain))
    return values


def _shown(plain: str) -> str:
    """The text myst-nb pastes for a stored ``text/plain``: it evaluates the text as a
    Python literal, so a glued ``str`` (stored as its repr, ``'61,706'``) loses its
    quotes; anything else it shows as stored."""
    try:
        return str(ast.literal_eval(plain))
    except (SyntaxError, ValueError):
        return plain


def glue_names_used(markdown: str) -> list[str]:
    """The names the glue roles in ``markdown`` quote, in order."""
    return [m.group(1) for m in GLUE_ROLE.finditer(markdown)]


def paste(markdown: str, values: dict[str, str]) -> str:
    """``markdown`` with every glue role replaced by its value, formatted as myst-nb
    does when the role gives a format (``{glue:text}`acc:.1%```). An unknown name is an
    error, as it is in the book build."""

    def value(match: re.Match) -> str:
        name, spec = match.group(1), match.group(2)
        if name not in values:
            raise KeyError(f"glue role quotes {name!r}, which the notebook does not glue")
        text = values[name]
        return format(float(text), spec) if spec else text

    return GLUE_ROLE.sub(value, markdown)
