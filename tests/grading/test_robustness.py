"""One batch of awkward submissions, graded together with --jobs 2.

Each kind gets a sensible score and a clear reason, and none of them changes the score of
another. The batch runs once (module fixture); the tests below read its results.
"""

from __future__ import annotations

import csv
import hashlib
import json

import pytest

from cnncourse.grading.batch import grade_batch
from cnncourse.grading.runner import Limits
from cnncourse.grading.submissions import find_submissions

from .grading_helpers import (
    CONV,
    CONV_MAX,
    CONV_SOURCE,
    EXERCISES,
    answered,
    hidden_lines,
    index_of,
    load,
    save,
    with_cell,
)

LIMITS = Limits(cell_timeout=4, notebook_timeout=90, probe_timeout=3, max_restarts=2, sandbox="on")

PARTIAL = dict(
    output_size="def output_size(n, k, stride=1, padding=0):\n    return (n - k) // stride + 1",
    # written out: calling the reference (cnncourse.nn.naive...) would score 0 (own work)
    conv2d_forward=(
        "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
        "    p = 1 if padding else 0\n"
        "    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))\n"
        "    kh, kw, _, c_out = w.shape\n"
        "    oh = (xp.shape[1] - kh) // stride + 1\n"
        "    ow = (xp.shape[2] - kw) // stride + 1\n"
        "    out = np.zeros((x.shape[0], oh, ow, c_out), dtype=x.dtype)\n"
        "    for i in range(oh):\n"
        "        for j in range(ow):\n"
        "            win = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]\n"
        "            out[:, i, j, :] = np.tensordot(win, w, axes=([1, 2, 3], [0, 1, 2])) + b\n"
        "    return out"
    ),
    max_pool_forward=(
        "def max_pool_forward(x, pool_size=2, stride=None):\n"
        "    stride = stride or pool_size\n"
        "    oh, ow = (x.shape[1] - pool_size) // stride + 1, (x.shape[2] - pool_size) // stride + 1\n"
        "    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))  # float64 whatever x is\n"
        "    for i in range(oh):\n"
        "        for j in range(ow):\n"
        "            win = x[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size]\n"
        "            out[:, i, j, :] = win.max(axis=(1, 2))\n"
        "    return out"
    ),
)
CHEAT = """
import cnncourse.grading.checks as C
import cnncourse.nn.functional as FF

def conv2d_forward(x, w, b, stride=1, padding=0):
    return np.zeros(1)

def check_conv2d_forward(fn):
    print("all good")

checks.check_conv2d_forward = check_conv2d_forward
C.fraction_correct = lambda *args, **kwargs: 1.0
FF.conv2d_forward = lambda *args, **kwargs: (np.zeros(1), None)
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)
"""
EXFILTRATE = """
def max_pool_forward(x, pool_size=2, stride=None):
    import linecache
    texts = ["".join(entry[2]) for entry in linecache.cache.values() if len(entry) > 2]
    texts += list(get_ipython().user_ns.get("In", []))
    raise AssertionError("FOUND " + repr([t for t in texts if "Alex" + "Net" in t]))
"""

# student -> (expected score, phrases the reasons must contain)
EXPECTED = {
    "correct": (6, []),
    "partial": (
        2.25,
        [
            "output_size(5, 3, 1, 1): expected 5, got 3",
            "partial credit: 2.25 of 3 points",
            # max_pool_forward's float64 output: the public checks have a float32 case
            "dtype expected float32, got float64: float32 in, float32 out",
        ],
    ),
    "raises": (
        3,
        [
            "Your cell 'conv2d-forward' raised ValueError: I give up",
            "NameError: name 'conv2d_forward' is not defined",
        ],
    ),
    "endless": (3, ["timed out after the per-cell limit of 4 s and was interrupted"]),
    "unstoppable": (4, ["did not stop when interrupted; the kernel was restarted"]),
    "exits": (
        3,
        ["Your cell 'conv2d-forward' killed the kernel", "NameError: name 'conv2d_forward' is not defined"],
    ),
    "segfault": (4, ["the kernel died while running this test"]),
    "deleted-tests": (6, ["the test cell 'output-size-tests' was deleted; the original was used"]),
    "edited-tests": (
        0,
        ["the test cell 'output-size-tests' was edited; the original was used", "NotImplementedError"],
    ),
    "cheater": (3, ["shape expected (1, 2, 2, 1), got (1,)"]),
    "chatty": (6, []),
    "empty": (0, ["empty.ipynb is empty (0 bytes)"]),
    "not-json": (0, ["not-json.ipynb is not JSON"]),
    "not-a-notebook": (0, ["is JSON but not a Jupyter notebook"]),
    "renamed": (6, ["graded Copy of the demo.ipynb (the expected name is 00_demo_convolution.ipynb)"]),
    "reordered": (6, []),
    "escapes": (6, []),
    "exfiltrates": (4, ["FOUND []"]),
    "untouched": (0, ["NotImplementedError: return the number of window positions"]),
}


def _build(folder):
    subs = folder / "subs"
    correct = answered()
    save(correct, subs / "correct.ipynb")
    save(answered(**PARTIAL), subs / "partial.ipynb")
    save(answered(conv2d_forward="raise ValueError('I give up')"), subs / "raises.ipynb")
    save(
        answered(
            conv2d_forward="def conv2d_forward(x, w, b, stride=1, padding=0):\n    while True:\n        pass"
        ),
        subs / "endless.ipynb",
    )
    save(
        answered(
            max_pool_forward=(
                "import time\n\ndef max_pool_forward(x, pool_size=2, stride=None):\n"
                "    while True:\n        try:\n            time.sleep(0.05)\n"
                "        except KeyboardInterrupt:\n            pass"
            )
        ),
        subs / "unstoppable.ipynb",
    )
    save(answered(conv2d_forward="import os\nos._exit(3)"), subs / "exits.ipynb")
    save(
        answered(
            max_pool_forward="import ctypes\n\n"
            "def max_pool_forward(x, pool_size=2, stride=None):\n"
            "    return ctypes.string_at(0)"
        ),
        subs / "segfault.ipynb",
    )
    no_tests = answered()
    no_tests["cells"] = [
        c for c in no_tests["cells"] if not c.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]
    save(no_tests, subs / "deleted-tests.ipynb")
    edited = load(EXERCISES / CONV)
    for gid in ("output-size-tests", "conv2d-forward-tests", "max-pool-forward-tests"):
        edited = with_cell(edited, gid, "1.0")
    save(edited, subs / "edited-tests.ipynb")
    save(answered(conv2d_forward=CHEAT), subs / "cheater.ipynb")
    save(
        answered(
            output_size="for _ in range(30):\n    print('x' * 1_000_000)\n\n"
            + answered()["cells"][index_of(correct, "output-size")]["source"]
        ),
        subs / "chatty.ipynb",
    )
    (subs / "empty.ipynb").write_bytes(b"")
    (subs / "not-json.ipynb").write_text("print('hello')\n")
    (subs / "not-a-notebook.ipynb").write_text('{"hello": "world"}')
    save(correct, subs / "renamed" / "Copy of the demo.ipynb")
    reordered = answered()
    reordered["cells"] = reordered["cells"][::-1]
    save(reordered, subs / "reordered.ipynb")
    escape = (
        "from pathlib import Path\nPath('../escaped.txt').write_text('out')\n"
        "Path('../../escaped.txt').write_text('out')\n\n"
    )
    save(
        with_cell(
            correct, "output-size", escape + correct["cells"][index_of(correct, "output-size")]["source"]
        ),
        subs / "escapes.ipynb",
    )
    save(answered(max_pool_forward=EXFILTRATE), subs / "exfiltrates.ipynb")
    save(load(EXERCISES / CONV), subs / "untouched.ipynb")
    return subs


def _digests(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, sandbox_ready):
    root = tmp_path_factory.mktemp("robust")
    subs = _build(root)
    before = _digests(subs)
    found = find_submissions([subs], CONV, [])
    out = root / "out"
    results = grade_batch(CONV_SOURCE, found, out, jobs=2, limits=LIMITS)
    return {
        "root": root,
        "subs": subs,
        "out": out,
        "before": before,
        "results": {r.student: r for r in results},
    }


def _reasons(result) -> str:
    return "\n".join(result.notes + [t.message for t in result.tests])


@pytest.mark.slow
@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_kind_gets_a_sensible_score_and_reason(batch, student):
    result = batch["results"][student]
    score, phrases = EXPECTED[student]
    assert result.score == pytest.approx(score), _reasons(result)
    assert result.max_score == CONV_MAX
    for phrase in phrases:
        assert phrase in _reasons(result)
    expected_status = "unreadable" if student in ("empty", "not-json", "not-a-notebook") else "graded"
    assert result.status == expected_status


@pytest.mark.slow
def test_every_submission_is_reported_once(batch):
    assert sorted(batch["results"]) == sorted(EXPECTED)
    with (batch["out"] / "gradebook.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student"] for r in rows) == sorted(EXPECTED)
    partial = next(r for r in rows if r["student"] == "partial")
    assert (
        partial["output-size-tests"],
        partial["conv2d-forward-tests"],
        partial["max-pool-forward-tests"],
        partial["score"],
    ) == ("0", "2.25", "0", "2.25")
    for student in EXPECTED:
        assert (batch["out"] / "results" / f"{student}.json").is_file()
        assert (batch["out"] / "feedback" / f"{student}.html").is_file()


@pytest.mark.slow
def test_gradescope_json_shape(batch):
    data = json.loads((batch["out"] / "results" / "partial.json").read_text())
    assert data["score"] == 2.25
    assert [t["name"] for t in data["tests"]] == [
        "output-size-tests (includes hidden tests)",
        "conv2d-forward-tests (includes hidden tests)",
        "max-pool-forward-tests (includes hidden tests)",
    ]
    assert [(t["score"], t["max_score"], t["status"]) for t in data["tests"]] == [
        (0.0, 1.0, "failed"),
        (2.25, 3.0, "failed"),
        (0.0, 2.0, "failed"),
    ]
    assert all(t["visibility"] == "visible" and t["output"] for t in data["tests"])


@pytest.mark.slow
def test_hidden_test_code_never_reaches_the_outputs(batch):
    lines = hidden_lines(CONV_SOURCE)
    assert len(lines) >= 5
    for path in sorted(batch["out"].rglob("*")):
        if path.is_file():
            text = path.read_text()
            leaked = [line for line in lines if line in text]
            assert not leaked, f"{path.name} shows hidden test code: {leaked}"
            assert "AlexNet" not in text


@pytest.mark.slow
def test_submissions_are_never_modified_and_escapes_stay_in_the_sandbox(batch):
    assert _digests(batch["subs"]) == batch["before"]
    assert not (batch["root"] / "escaped.txt").exists()
    assert not (batch["root"].parent / "escaped.txt").exists()


@pytest.mark.slow
def test_megabytes_of_output_do_not_reach_the_reports(batch):
    sizes = [p.stat().st_size for p in batch["out"].rglob("*chatty*")]
    assert sizes and max(sizes) < 20_000
