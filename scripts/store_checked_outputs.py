"""Execute book chapters and store them the way the repository keeps them.

Every code cell is cleared except those tagged ``nbval-check-output``: their text output
from a fresh run is kept as the expected output nbval compares against. The run's wall
time per notebook is printed, so a slow chapter shows up while you write it.

    .venv/bin/python scripts/store_checked_outputs.py book/chapters/06_backpropagation.ipynb
    .venv/bin/python scripts/store_checked_outputs.py --check book/chapters/*.ipynb

``--check`` executes and reports (time, tagged cells, errors) without writing anything.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK = "nbval-check-output"
TEXT_MIMES = {"text/plain"}


def _kept_outputs(outputs) -> list:
    kept = []
    for out in outputs:
        if out.output_type == "stream" and out.name == "stdout":
            kept.append(out)
        elif out.output_type in ("execute_result", "display_data"):
            data = {k: v for k, v in out.get("data", {}).items() if k in TEXT_MIMES}
            if data:
                kept.append(nbformat.v4.new_output("execute_result", data=data, execution_count=None))
    return kept


def execute(path: Path, timeout: int = 600) -> tuple[nbformat.NotebookNode, float]:
    """Run ``path`` on a fresh kernel in its own folder; return (executed copy, seconds)."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return nb, time.perf_counter() - start


def strip(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Clear every output except the text of tagged cells; return (notebook, tagged count)."""
    tagged = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)  # nbclient's timestamps
        if CHECK in cell.metadata.get("tags", []):
            # nbval --nbval-lax refuses a cell with outputs but no execution count.
            tagged += 1
            cell.outputs = _kept_outputs(cell.outputs)
        else:
            cell.execution_count = None
            cell.outputs = []
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb, tagged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="run and report, write nothing")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.notebooks:
        try:
            nb, seconds = execute(path)
        except Exception as exc:  # report every notebook, then fail
            failed += 1
            print(f"FAILED {path}: {type(exc).__name__}: {str(exc)[-1500:]}", file=sys.stderr)
            continue
        stderr = [
            i
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and any(o.get("name") == "stderr" for o in cell.get("outputs", []))
        ]
        if stderr:  # the book build turns stderr output into a warning, hence an error
            failed += 1
            print(f"FAILED {path}: cells {stderr} write to stderr", file=sys.stderr)
            continue
        nb, tagged = strip(nb)
        if not args.check:
            nbformat.write(nb, path)
        print(f"{path}: {seconds:.1f} s, {tagged} tagged cells" + ("" if args.check else ", stored"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
