"""Own work: an answer that calls the reference implementation scores 0 on its tests.

The fast tests run the static check (no kernel); the slow ones grade every solutions
notebook twice at once (the honest answers with self-checks added, and every cell
replaced by a delegating variant from ``own_work_variants``), run the kernel's tripwire
alone, and compare ``cnncourse check`` with ``cnncourse grade``.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from cnncourse.grading import assemble
from cnncourse.grading.assemble import build_plan
from cnncourse.grading.grade import grade_notebook, source_from_notebook
from cnncourse.grading.notebook_format import (
    cell_kind,
    grade_id,
    read_source,
)
from cnncourse.grading.own_work import (
    Finding,
    apply,
    forbidden_of,
    parse_entry,
    parse_kernel_report,
    resolve_entry,
)
from cnncourse.grading.release import release_notebook
from cnncourse.grading.runner import Limits, Outcome

from .grading_helpers import (
    CONV,
    CONV_SOURCE,
    EXERCISES,
    SOLUTIONS,
    add_cell_after,
    answered,
    load,
    save,
    source_of,
    with_cell,
    with_learner_cells,
)
from .own_work_variants import EXTRAS, NOTHING_TO_FORBID, SELF_CHECKS, VARIANTS
from .test_nbgrader_parity import cnncourse_grades

SOURCES = sorted(SOLUTIONS.glob("*.ipynb"))
LIMITS = Limits(cell_timeout=120, notebook_timeout=600, sandbox="off")
HEAVY = ("tensorflow", "keras", "cnncourse.keras")


def _solution_cells(path):
    return [c for c in read_source(path).cells if cell_kind(c) == "solution"]


def _submission(stem: str, cells: dict[str, str], extras) -> dict:
    """The source notebook with some solution cells replaced and learner cells added."""
    nb = load(SOLUTIONS / f"{stem}.ipynb")
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in cells:
            cell["source"] = cells[gid]
    return with_learner_cells(nb, extras)


def _delegating(stem: str) -> dict:
    return _submission(stem, {g: code for g, (code, _) in VARIANTS[stem].items()}, EXTRAS.get(stem, []))


def _findings(plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for finding in plan.findings:
        out.setdefault(finding.cell, []).append(finding.message)
    return out


# --------------------------------------------------------------------------- declarations


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_solution_cell_declares_what_it_may_not_use(path):
    names = {s.grade_id: s.names for s in build_plan(read_source(path), None).steps if s.kind == "solution"}
    for cell in _solution_cells(path):
        # what its tests take from the learner: the names whose bindings are checked
        assert names[grade_id(cell)], f"the public tests of {grade_id(cell)!r} call nothing"
        entries = forbidden_of(cell)
        assert entries == tuple(cell.metadata["cnncourse"]["forbidden"])
        key = (path.stem, grade_id(cell))
        assert bool(entries) != (key in NOTHING_TO_FORBID), key
        if entries:
            assert grade_id(cell) in VARIANTS[path.stem], f"no delegating variant for {key}"


def _entries(heavy: bool) -> list[str]:
    entries = {e for path in SOURCES for c in _solution_cells(path) for e in forbidden_of(c)}
    return sorted(e for e in entries if parse_entry(e).name.startswith(HEAVY) == heavy)


@pytest.mark.parametrize("entry", _entries(heavy=False))
def test_every_forbidden_entry_resolves(entry):
    assert resolve_entry(entry) is not None


@pytest.mark.slow
def test_every_tensorflow_entry_resolves():
    for entry in _entries(heavy=True):
        assert resolve_entry(entry) is not None, entry


def test_release_keeps_the_declaration():
    for path in SOURCES:  # exercises/ itself is kept in step by the release drift test
        released = release_notebook(read_source(path))
        source = {grade_id(c): forbidden_of(c) for c in _solution_cells(path)}
        mine = {
            grade_id(c): tuple(c.metadata["cnncourse"]["forbidden"])
            for c in released.cells
            if cell_kind(c) == "solution"
        }
        assert mine == source, path.name


def test_a_learners_notebook_without_declarations_can_still_be_checked(tmp_path):
    nb = load(EXERCISES / CONV)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("cnncourse", None)
    source = source_from_notebook(save(nb, tmp_path / CONV))
    assert all(not forbidden_of(c) for c in source.cells)


# --------------------------------------------------------------------------- the static check


@pytest.mark.parametrize(
    "code",
    [
        "def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):\n"
        "    return checks.training._adam_step(w, g, m, v, t, lr, beta1, beta2, eps)\n",
        "from cnncourse.grading.checks import training as _t\n\n\n"
        "def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):\n"
        "    return _t._adam_step(w, g, m, v, t, lr, beta1, beta2, eps)\n",
    ],
    ids=["through-the-setup-import", "imported"],
)
def test_an_answer_that_calls_a_helper_of_the_checks_scores_zero(code):
    # The checks compute expected answers with private helpers that are in no declaration:
    # the whole checks package is out of bounds for answers.
    plan = build_plan(
        read_source(SOLUTIONS / "07_training_from_scratch.ipynb"),
        _submission("07_training_from_scratch", {"adam": code}, []),
    )
    found = _findings(plan)
    assert list(found) == ["adam"]
    assert "cnncourse.grading.checks" in found["adam"][0] and "out of the grader's sight" in found["adam"][0]


@pytest.mark.parametrize("stem", sorted(VARIANTS))
def test_the_static_check_flags_every_variant_and_only_its_cell(stem):
    source = read_source(SOLUTIONS / f"{stem}.ipynb")
    found = _findings(build_plan(source, _delegating(stem)))
    for gid, (_, expected) in VARIANTS[stem].items():
        assert any(expected in m and "write it yourself" in m for m in found.get(gid, [])), (
            gid,
            found.get(gid),
        )
    assert set(found) == set(VARIANTS[stem])
    for gid, (code, _) in VARIANTS[stem].items():
        alone = _submission(stem, {gid: code}, EXTRAS.get(stem, []))
        assert set(_findings(build_plan(source, alone))) == {gid}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_honest_answers_self_checks_and_stubs_have_no_findings(path):
    source = read_source(path)
    honest = _submission(path.stem, {}, SELF_CHECKS.get(path.stem, []))
    assert build_plan(source, honest).findings == []
    assert build_plan(source, load(EXERCISES / path.name)).findings == []
    assert build_plan(source, None).findings == []


CONV_F = "from cnncourse.nn import functional as F\n"
HONEST_CONV = """def conv2d_forward(x, w, b, stride=1, padding=0):
    F = np.zeros(3)  # a local that happens to be called F
    out = np.zeros((x.shape[0], 1, 1, w.shape[-1]))
    return out
"""


def _conv_findings(sub) -> dict[str, list[str]]:
    return _findings(build_plan(read_source(CONV_SOURCE), sub))


@pytest.mark.parametrize(
    ("code", "extras", "expected"),
    [
        # a reference reached in ways the variants do not use
        (
            CONV_F + "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return [F][0].conv2d_forward(x, w, b, stride, padding)[0]\n",
            [],
            "called .conv2d_forward, which the grader takes for cnncourse.nn.functional.conv2d_forward",
        ),
        (
            CONV_F + "import functools\nconv2d_forward = functools.partial(F.conv2d_forward)\n",
            [],
            "conv2d_forward used cnncourse.nn.functional.conv2d_forward",
        ),
        (
            CONV_F + "class _C:\n    f = staticmethod(F.conv2d_forward)\n\n\n"
            "def conv2d_forward(*a, **k):\n    return _C.f(*a, **k)[0]\n",
            [],
            "conv2d_forward used _C, which used cnncourse.nn.functional.conv2d_forward",
        ),
        (
            "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return _ref(x, w, b, stride, padding)[0]\n",
            [("conv2d-forward", "from cnncourse.nn.naive import conv2d_forward as _ref\n")],
            "conv2d_forward used _ref, which imported cnncourse.nn.naive.conv2d_forward",
        ),
        # rebound by a cell the learner added, also through a magic
        (
            None,
            [("conv2d-forward", CONV_F + "conv2d_forward = lambda *a, **k: F.conv2d_forward(*a, **k)[0]\n")],
            "(in a cell you added after 'conv2d-forward')",
        ),
        (
            None,
            [("conv2d-forward", CONV_F + "%time conv2d_forward = F.conv2d_forward\n")],
            "conv2d_forward used cnncourse.nn.functional.conv2d_forward",
        ),
        (
            None,
            [
                (
                    "conv2d-forward",
                    CONV_F + "def f():\n    global conv2d_forward\n"
                    "    conv2d_forward = F.conv2d_forward\n\nf()\n",
                )
            ],
            "conv2d_forward",
        ),
        # escape hatches
        (
            "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    m = __import__('cnncourse.nn.functional', fromlist=['x'])\n"
            "    return m.conv2d_forward(x, w, b, stride, padding)[0]\n",
            [],
            "used __import__()",
        ),
        (
            CONV_F + "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return getattr(F, 'conv2d_' + 'forward')(x, w, b, stride, padding)[0]\n",
            [],
            "getattr() on cnncourse.nn.functional with a computed name",
        ),
        (
            "import sys\n\ndef conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return sys.modules['cnncourse.nn.functional'].conv2d_forward(x, w, b)[0]\n",
            [],
            "used sys.modules",
        ),
        (
            CONV_F + "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return F.conv2d_forward.__wrapped__(x, w, b)[0]\n",
            [],
            "used .__wrapped__",
        ),
        (
            "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    exec('from cnncourse.nn.functional import conv2d_forward as c')\n",
            [],
            "used exec()",
        ),
        (
            "import helpers\n\ndef conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return helpers.conv(x, w, b, stride, padding)\n",
            [],
            "import helpers (a module that is not part of the course environment",
        ),
    ],
)
def test_the_static_check_sees_through(code, extras, expected):
    sub = answered(conv2d_forward=code) if code else answered()
    for after, extra in extras:
        sub = add_cell_after(sub, after, extra)
    found = _conv_findings(sub)
    assert any(expected in m for m in found.get("conv2d-forward", [])), found


def test_a_hatch_zeroes_its_own_cell_only():
    # rebinding other answers dynamically is left to the kernel's tripwire
    sub = answered(conv2d_forward=HONEST_CONV + "\nget_ipython().input_transformers_post = []\n")
    sub = add_cell_after(sub, "output-size", "globals()['output_' + 'size'] = print\n")
    found = _conv_findings(sub)
    assert set(found) == {"conv2d-forward"}
    assert found["conv2d-forward"] == [
        "your cell 'conv2d-forward' used get_ipython(), which can reach the reference "
        "implementation out of the grader's sight; the exercise is to write it yourself "
        "without it"
    ]


@pytest.mark.parametrize(
    ("code", "extras"),
    [
        (
            HONEST_CONV,
            [
                (
                    "conv2d-forward",
                    CONV_F + "out = F.conv2d_forward(np.ones((1, 3, 3, 1)), np.ones((1, 1, 1, 1)))[0]\n",
                )
            ],
        ),
        (
            HONEST_CONV
            + "\n\nx = np.ones((1, 3, 3, 1))\n"
            + CONV_F
            + "print(np.allclose(conv2d_forward(x, x[:1, :1, :1, :1], np.zeros(1)), "
            "F.conv2d_forward(x, x[:1, :1, :1, :1])[0]))\n",
            [],
        ),
        (HONEST_CONV, [("conv2d-forward", "%matplotlib inline\n%timeit conv2d_forward(1, 2, 3)\n!ls\n")]),
        (
            HONEST_CONV,
            [
                (
                    "max-pool-forward",
                    "from scipy import signal\ndef helper(a, k):\n    return signal.correlate(a, k)\n",
                )
            ],
        ),
    ],
)
def test_checks_against_the_reference_outside_the_answer_are_fine(code, extras):
    sub = answered(conv2d_forward=code)
    for after, extra in extras:
        sub = add_cell_after(sub, after, extra)
    assert _conv_findings(sub) == {}


def _with_a_public_reference(stem: str = "02_convolution"):
    """The solutions notebook with a reference defined in public test code. The course keeps
    references out of public test code (checks.check_correlate2d holds this one), so this
    puts one back the way a test author might write it."""
    source = read_source(SOLUTIONS / f"{stem}.ipynb")
    (tests,) = [
        c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "correlate2d-tests"
    ]
    tests.source = (
        "from cnncourse.nn import functional as F\n\n\n"
        "def reference_correlate2d(image, kernel):\n"
        "    return F.conv2d_forward(image[None, :, :, None], kernel[:, :, None, None])[0][0, :, :, 0]\n\n\n"
        + tests.source
    )
    return source


def test_an_answer_calling_a_reference_the_public_tests_define_delegates_too():
    stem = "02_convolution"
    code = (
        "def correlate2d(image, kernel):\n    return reference_correlate2d(image, kernel)\n"
        "\n\ndef convolve2d(image, kernel):\n    return correlate2d(image, kernel[::-1, ::-1])\n"
    )
    source = _with_a_public_reference(stem)
    found = _findings(build_plan(source, _submission(stem, {"correlate2d": code}, [])))
    assert set(found) == {"correlate2d"}
    assert (
        "correlate2d used reference_correlate2d, which is defined by the notebook's tests "
        "and called cnncourse.nn.functional.conv2d_forward" in found["correlate2d"][0]
    )


def test_a_star_import_is_followed():
    sub = answered(
        max_pool_forward="from cnncourse.nn.naive import *\n\n"
        "def max_pool_forward(x, pool_size=2, stride=None):\n"
        "    return pool_forward(x, pool_size, stride)[0]\n"
    )
    assert (
        "max_pool_forward called cnncourse.nn.naive.pool_forward"
        in _conv_findings(sub)["max-pool-forward"][0]
    )


@pytest.mark.parametrize(
    ("call", "flagged"),
    [
        ("load_pretrained(num_classes=k, seed=0)", False),
        ("load_pretrained(k, False, 0)", False),
        ("load_pretrained(num_classes=k, freeze=False)", False),
        ("load_pretrained(k, True)", True),
        ("load_pretrained(num_classes=k, freeze=True)", True),
        ("load_pretrained(num_classes=k, **options)", True),
    ],
)
def test_an_argument_entry_forbids_only_that_argument(call, flagged):
    stem = "11_transfer_learning"
    code = (
        "from cnncourse.keras.pretrained import load_pretrained\n\noptions = {}\n\n\n"
        f"def transfer_model(k):\n    return {call}\n"
    )
    plan = build_plan(read_source(SOLUTIONS / f"{stem}.ipynb"), _submission(stem, {"head": code}, []))
    assert ("head" in _findings(plan)) == flagged


# --------------------------------------------------------------------------- scoring


def test_kernel_reports_are_read_leniently():
    text = repr(json.dumps([{"cell": "c", "who": "f", "ref": "m.g", "how": "is"}, {"cell": 1}, "junk"]))
    assert parse_kernel_report(text) == [{"cell": "c", "who": "f", "ref": "m.g", "how": "is"}]
    for junk in (None, "", "'not json'", "[1, 2", "__import__('os')"):
        assert parse_kernel_report(junk) == []


def test_findings_and_kernel_reports_zero_the_tests_of_their_cell():
    plan = build_plan(read_source(CONV_SOURCE), answered())
    plan.findings = [Finding("output-size", "output_size called x.y; the exercise is to write it yourself")]
    outcomes = [Outcome("ok") for _ in plan.steps]
    report = json.dumps(
        [
            {
                "cell": "max-pool-forward",
                "who": "max_pool_forward",
                "ref": "cnncourse.nn.naive.max_pool_forward",
                "how": "called",
            },
            {"cell": "no-such-cell", "who": "f", "ref": "g", "how": "called"},
        ]
    )
    outcomes[[s.grade_id for s in plan.steps].index("conv2d-forward-tests")].kernel_report = repr(report)
    from cnncourse.grading.grade import TestResult

    tests = [TestResult(s.grade_id, s.points, s.points, "passed", "passed") for s in plan.tests]
    tests[-1] = TestResult(tests[-1].grade_id, 0, 2, "failed", "AssertionError: wrong dtype")
    apply(plan, outcomes, tests)
    by_id = {t.grade_id: t for t in tests}
    assert by_id["output-size-tests"].points == 0
    assert (
        by_id["output-size-tests"].message == "output_size called x.y; the exercise is to write it yourself"
    )
    assert by_id["conv2d-forward-tests"].points == 3  # the report names another cell
    assert by_id["max-pool-forward-tests"].points == 0
    assert by_id["max-pool-forward-tests"].message == (
        "max_pool_forward called cnncourse.nn.naive.max_pool_forward; the exercise is to "
        "write it yourself\n\nAssertionError: wrong dtype"
    )  # its own failure is kept


# --------------------------------------------------------------------------- in a kernel


@pytest.mark.slow
@pytest.mark.parametrize("stem", [p.stem for p in SOURCES])
def test_delegating_answers_score_zero_and_honest_ones_full_marks(stem, tmp_path, tmp_path_factory):
    source = SOLUTIONS / f"{stem}.ipynb"
    if stem in VARIANTS:
        submitted = save(_delegating(stem), tmp_path / "d.ipynb")
        delegating = grade_notebook(source, submitted, "delegating", LIMITS)
        covers = {s.grade_id: s.covers for s in build_plan(read_source(source), None).tests}
        for test in delegating.tests:
            cell = covers[test.grade_id]
            if cell not in VARIANTS[stem]:
                continue  # a cell with nothing to forbid kept its honest answer
            expected = VARIANTS[stem][cell][1]
            assert test.points == 0, (test.grade_id, test.message)
            assert expected in test.message, (test.grade_id, test.message)
            assert "write it yourself" in test.message, (test.grade_id, test.message)
    # The honest answer, with the learner's own checks calling references in cells of
    # their own (SELF_CHECKS), is the parity test's "solution" submission, graded once per
    # run (asked for last: another worker may be grading it meanwhile).
    honest = cnncourse_grades(stem, tmp_path_factory)["solution"]
    assert honest["status"] == "graded" and honest["score"] == honest["max_score"], [
        (gid, message) for gid, (_, message, status) in honest["tests"].items() if status != "passed"
    ]


@pytest.mark.slow
def test_the_tripwire_alone_catches_calls_and_aliases(tmp_path, monkeypatch):
    """With the static check switched off, the kernel's report zeroes the same cells."""
    monkeypatch.setattr(assemble, "check_plan", lambda plan: [])
    stem = "06_backpropagation"
    # numerical-gradient's names are the reference; gradient_check uses them (not its fault)
    alias = _submission(stem, {"numerical-gradient": VARIANTS[stem]["numerical-gradient"][0]}, [])
    result = grade_notebook(
        SOLUTIONS / f"{stem}.ipynb", save(alias, tmp_path / "a" / "x.ipynb"), "alias", LIMITS
    )
    by_id = {t.grade_id: t for t in result.tests}
    assert by_id["numerical-gradient-tests"].points == 0
    assert (
        "numerical_gradient is cnncourse.nn.gradcheck.numerical_gradient"
        in by_id["numerical-gradient-tests"].message
    )
    assert all(t.status == "passed" for g, t in by_id.items() if g != "numerical-gradient-tests")
    # a helper module of the learner's own, next to the notebook, calling the reference
    folder = tmp_path / "b"
    sub = answered(
        conv2d_forward="import helpers\n\n"
        "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
        "    return helpers.conv(x, w, b, stride, padding)\n"
    )
    path = save(sub, folder / CONV)
    (folder / "helpers.py").write_text(
        "from cnncourse.nn import functional as F\n\n\n"
        "def conv(x, w, b, stride, padding):\n"
        "    return F.conv2d_forward(x, w, b, stride, padding)[0]\n"
    )
    result = grade_notebook(CONV_SOURCE, path, "helper", LIMITS)
    by_id = {t.grade_id: t for t in result.tests}
    assert by_id["conv2d-forward-tests"].points == 0
    assert by_id["conv2d-forward-tests"].message.startswith(
        "conv2d_forward called cnncourse.nn.functional.conv2d_forward; the exercise is to write it yourself"
    )
    assert by_id["output-size-tests"].status == by_id["max-pool-forward-tests"].status == "passed"
    # a helper the public tests define, called by the answer
    stem = "02_convolution"
    code = (
        "def correlate2d(image, kernel):\n    return reference_correlate2d(image, kernel)\n"
        "\n\ndef convolve2d(image, kernel):\n    return correlate2d(image, kernel[::-1, ::-1])\n"
    )
    sub = _submission(stem, {"correlate2d": code}, [])
    source = tmp_path / "c" / "source" / f"{stem}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(_with_a_public_reference(stem), source)
    result = grade_notebook(source, save(sub, tmp_path / "c" / "x.ipynb"), "tests-helper", LIMITS)
    by_id = {t.grade_id: t for t in result.tests}
    assert by_id["correlate2d-tests"].points == 0
    assert by_id["correlate2d-tests"].message.startswith(
        "correlate2d called cnncourse.nn.functional.conv2d_forward"
    )


@pytest.mark.slow
def test_check_gives_the_same_verdict_as_grade(tmp_path):
    stem = CONV_SOURCE.stem
    nb = json.loads(nbformat.writes(release_notebook(read_source(CONV_SOURCE))))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in VARIANTS[stem]:
            cell["source"] = VARIANTS[stem][gid][0]
    nb = with_cell(nb, "output-size", source_of(load(CONV_SOURCE), "output-size"))  # honest
    path = save(nb, tmp_path / CONV)
    graded = grade_notebook(CONV_SOURCE, path, "x", LIMITS)
    checked = grade_notebook(path, path, "x", LIMITS, source=source_from_notebook(path))
    assert [(t.grade_id, t.points == 0, t.message if t.points == 0 else "") for t in graded.tests] == [
        (t.grade_id, t.points == 0, t.message if t.points == 0 else "") for t in checked.tests
    ]
    assert [t.points == 0 for t in graded.tests] == [False, True, True]
