"""The chapter notebooks: listed in the table of contents, and stored without outputs
except the expected text of the cells nbval checks (tagged ``nbval-check-output``)."""

from __future__ import annotations

import nbformat
import pytest
import yaml

from .conftest import BOOK, CHAPTERS

EXPECTED = ["01_images_and_cnns", "02_convolution", "03_activations", "04_pooling",
            "05_fully_connected_and_output", "06_backpropagation", "07_training_from_scratch",
            "08_keras", "09_regularisation", "10_architectures", "11_transfer_learning",
            "12_beyond_classification", "13_limits_and_practice"]
CHECK = "nbval-check-output"
TEXT_MIMES = {"text/plain", "text/html", "text/markdown", "text/latex"}


def _toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("chapters", "sections", "parts"):
            yield from _toc_files(entry.get(key, []))


def test_toc_lists_the_chapters_in_order():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = list(_toc_files(toc["parts"]))
    assert [f for f in files if f.startswith("chapters/")] == [f"chapters/{c}" for c in EXPECTED]
    assert "exercises" in files and toc["root"] == "intro"


@pytest.mark.parametrize("name", EXPECTED)
def test_chapter_exists_and_outputs_are_only_the_checked_text(name):
    path = CHAPTERS / f"{name}.ipynb"
    assert path.is_file(), f"{path} is missing (it is in book/_toc.yml)"
    nb = nbformat.read(path, as_version=4)
    problems, checked = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if CHECK in tags:
            checked += 1
            if not cell.outputs:
                problems.append(f"cell {i} is tagged {CHECK} but stores no expected output")
            elif cell.execution_count is None:  # nbval: "Unrun reference cell has outputs"
                problems.append(f"cell {i} stores outputs without an execution count")
            for out in cell.outputs:
                mimes = set(out.get("data", {})) if out.output_type != "stream" else {"text/plain"}
                if out.output_type == "error" or not mimes <= TEXT_MIMES:
                    problems.append(f"cell {i}: checked output must be text, got "
                                    f"{out.output_type} {sorted(mimes)}")
        elif cell.outputs or cell.execution_count is not None:
            problems.append(f"cell {i} stores outputs but is not tagged {CHECK}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    assert checked >= 2, f"{path.name}: tag 2-3 deterministic cells {CHECK} (found {checked})"
