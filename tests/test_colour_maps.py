"""Every colour map the package and the book draw with is one that ``viz.COLOUR_MAPS`` lists
with the reason it suits readers with colour-vision deficiencies (issue: an accessible
book). A rainbow map such as ``jet`` slipping in fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

from cnncourse import viz

ROOT = Path(__file__).resolve().parents[1]
# cmap="name", cmap='name', colormaps["name"], _colour_table("name") and the like
_NAMED_MAP = re.compile(r"""(?:cmap\s*=\s*|colormaps\[\s*|_colour_table\(\s*)["']([A-Za-z_]+)["']""")


def _sources() -> dict[str, str]:
    texts = {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in (ROOT / "cnncourse").rglob("*.py")
    }
    for nb in sorted((ROOT / "book" / "chapters").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        texts[str(nb.relative_to(ROOT))] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "code"
        )
    return texts


def test_the_maps_listed_exist_and_say_why():
    for name, reason in viz.COLOUR_MAPS.items():
        assert name in matplotlib.colormaps, name
        assert len(reason) > 30, f"{name}: say why it reads well"


def test_only_listed_colour_maps_are_used():
    used = {source: set(_NAMED_MAP.findall(text)) for source, text in _sources().items()}
    assert set().union(*used.values()) >= {"RdBu_r", "viridis", "inferno"}, "the pattern finds maps"
    unlisted = {source: sorted(maps - set(viz.COLOUR_MAPS)) for source, maps in used.items()}
    assert not any(unlisted.values()), {s: m for s, m in unlisted.items() if m}


def test_the_pattern_finds_maps():
    assert _NAMED_MAP.findall('ax.imshow(x, cmap="jet"); matplotlib.colormaps["hsv"]') == ["jet", "hsv"]
