"""Running a book's notebooks into Jupyter Book's execution cache before the build, on a
small book of two notebooks (the real chapters run in ``make book``)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from cnncourse.publish.execute import CACHE_FOLDER, ExecutionFailed, execute_book

pytestmark = pytest.mark.slow  # starts Python kernels


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def book(tmp_path):
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_config.yml").write_text("execute:\n  execute_notebooks: cache\n  timeout: 60\n")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_a\n  - file: chapters/02_b\n"
    )
    (book / "intro.md").write_text("# A book\n")
    # the kernel runs in the notebook's folder, as Jupyter Book runs it (run_in_temp: false)
    _notebook(book / "chapters" / "01_a.ipynb", "import os\nprint(os.path.basename(os.getcwd()))")
    _notebook(book / "chapters" / "02_b.ipynb", "x = 6 * 7", "print(x)")
    return book


def _cached(build: Path, path: Path):
    from jupyter_cache import get_cache

    cache = get_cache(str(build / CACHE_FOLDER))
    record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    return cache.get_cache_bundle(record.pk).nb


def test_every_notebook_runs_into_the_cache_that_the_build_reads(book, tmp_path):
    build = tmp_path / "build"
    lines = []
    runs = execute_book(book, build, jobs=2, log=lines.append)
    assert sorted(run.path.name for run in runs) == ["01_a.ipynb", "02_b.ipynb"]
    assert all(run.error is None and run.seconds > 0 for run in runs)
    assert sorted(line.split(":")[0] for line in lines) == ["chapters/01_a.ipynb", "chapters/02_b.ipynb"]
    first = _cached(build, book / "chapters" / "01_a.ipynb")
    assert first.cells[0].outputs[0].text == "chapters\n"
    second = _cached(build, book / "chapters" / "02_b.ipynb")
    assert [c.execution_count for c in second.cells] == [1, 2]
    assert second.cells[1].outputs[0].text == "42\n"


def test_the_next_build_runs_everything_again_longest_first(book, tmp_path):
    build = tmp_path / "build"
    first = execute_book(book, build, jobs=1, log=lambda line: None)
    assert [run.path.name for run in first] == ["02_b.ipynb", "01_a.ipynb"]  # no history: the end first
    # make 01_a the slow one: the next builds empty the cache, run it again, then start with it
    _notebook(book / "chapters" / "01_a.ipynb", "import time\ntime.sleep(1.5)")
    execute_book(book, build, jobs=1, log=lambda line: None)
    again = execute_book(book, build, jobs=1, log=lambda line: None)
    assert [run.path.name for run in again] == ["01_a.ipynb", "02_b.ipynb"]
    assert again[0].seconds > 1.5
    assert [c.outputs for c in _cached(build, book / "chapters" / "01_a.ipynb").cells] == [[]]


def test_a_failing_notebook_fails_the_build_by_name_after_the_others_ran(book, tmp_path):
    _notebook(book / "chapters" / "01_a.ipynb", "raise ValueError('the data are missing')")
    build = tmp_path / "build"
    with pytest.raises(ExecutionFailed, match=r"chapters/01_a\.ipynb raised:(.|\n)*the data are missing"):
        execute_book(book, build, jobs=2, log=lambda line: None)
    assert _cached(build, book / "chapters" / "02_b.ipynb").cells[1].outputs[0].text == "42\n"
    from jupyter_cache import get_cache

    with pytest.raises(KeyError):  # nothing cached for the failing one: the build will not use it
        get_cache(str(build / CACHE_FOLDER)).match_cache_notebook(
            nbformat.read(book / "chapters" / "01_a.ipynb", as_version=4)
        )


def test_a_notebook_that_times_things_runs_with_no_other_beside_it(book, tmp_path):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    for name in ("01_a", "02_b", "03_c"):  # each notes when it ran
        _notebook(
            book / "chapters" / f"{name}.ipynb",
            f"import time\nstart = time.time()\ntime.sleep(1)\nopen({str(stamps / name)!r}, 'w')"
            ".write(f'{start} {time.time()}')",
        )
    timing = nbformat.read(book / "chapters" / "02_b.ipynb", as_version=4)
    timing.metadata["cnncourse"] = {"run_alone": True}
    nbformat.write(timing, book / "chapters" / "02_b.ipynb")
    (book / "_toc.yml").write_text((book / "_toc.yml").read_text() + "  - file: chapters/03_c\n")
    runs = execute_book(book, tmp_path / "build", jobs=2, log=lambda line: None)
    assert runs[0].path.name == "02_b.ipynb" and len(runs) == 3
    spans = {p.name: tuple(map(float, p.read_text().split())) for p in stamps.iterdir()}
    alone_start, alone_end = spans.pop("02_b")
    assert all(start > alone_end or end < alone_start for start, end in spans.values()), spans
    a, c = spans.values()
    assert a[0] < c[1] and c[0] < a[1]  # the other two shared the machine
