"""nbgrader and cnncourse give every test cell the same points.

For every ``solutions/`` notebook (one test each), three submissions (the full solution
with a learner's own checks added, the released stub, and a partly correct answer) are
graded twice, side by side: by nbgrader's own ``generate_assignment`` and ``autograde``
(nbgrader 0.9.6, in a virtual environment of its own, cached under
``.cache/nbgrader-venv/``) and by ``cnncourse grade`` without the sandbox. Every test cell
must get the same points from both. The notebook's table is printed (run with ``-s`` to
see it); ``-k 08_keras`` grades one notebook.

cnncourse's grades are made once per test run (:func:`cnncourse_grades`, shared by the
workers of ``pytest -n``): the self-test and the own-work test read them instead of
grading the same submissions again.

The nbgrader environment is made once from the package registry by uv (pip where uv is
missing), with shared packages at the versions of ``requirements/lock.txt``; it then sees
this project's packages through a ``.pth`` file, so its kernels import the same cnncourse,
NumPy and TensorFlow. If nbgrader cannot be installed, the test is skipped and says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .grading_helpers import (
    EXERCISES,
    ROOT,
    SOLUTIONS,
    load,
    save,
    source_of,
    with_learner_cells,
)
from .own_work_variants import SELF_CHECKS

NBGRADER_VERSION = "0.9.6"
LOCK = ROOT / "requirements" / "lock.txt"
CACHE = ROOT / ".cache" / "nbgrader-venv"
ASSIGNMENT = "ps"
CELL_TIMEOUT = 600
TOLERANCE = 1e-6

# A partly correct answer per notebook: solution grade_id -> None (left as the released
# stub) or (old, new) replacements applied to the solution's code, which make it wrong
# for some of the cases. Cells not named are solved. The mistakes are chosen so that many
# test cells give partial credit, and some fail through stderr (a NumPy warning) or an
# error in the hidden tests.
PARTIAL: dict[str, dict[str, list[tuple[str, str]] | None]] = {
    "00_demo_convolution": {
        "conv2d-forward": [
            (
                "    n, h, width, _ = x.shape\n",
                "    padding = min(padding, 1)  # wrong for padding 2\n    n, h, width, _ = x.shape\n",
            )
        ],
        "max-pool-forward": None,
    },
    "01_demo_backprop": {
        "relu": None,
        "dense": [
            (
                "return dout @ w.T, x.T @ dout, dout.sum(axis=0)",
                "return dout @ w.T, x.T @ dout, dout.sum(axis=0) * (2 if len(dout) == 1 else 1)",
            )
        ],
    },
    "02_convolution": {
        "correlate2d": [
            (
                "return correlate2d(image, kernel[::-1, ::-1])",
                "return correlate2d(image, kernel)  # forgot to flip",
            )
        ],
        "kernels": [("return kx, kx.T.copy()", "return -kx, -kx.T  # the wrong sign")],
        "output-size": None,
        "conv-params": [("+ (c_out if bias else 0)", "+ c_out  # ignores bias=False")],
    },
    "03_activations": {
        # Overflows for large |x|: the checks catch it, but sigmoid_grad's hidden test then
        # prints NumPy's RuntimeWarning to stderr, which scores 0.
        "sigmoid-tanh": [
            (
                "    e = np.exp(-np.abs(x))\n"
                "    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"
                ".astype(x.dtype, copy=False)\n",
                "    return 1 / (1 + np.exp(-x))\n",
            )
        ],
        "collapse": [("return w1 @ w2, b1 @ w2 + b2", "return w1 @ w2, b2")],
    },
    "04_pooling": {
        "max-pool-forward": [
            (
                "out = np.empty((n, oh, ow, c), dtype=x.dtype)",
                "out = np.empty((n, oh, ow, c))  # always float64",
            )
        ],
        "max-pool-backward": None,
        "avg-pool": [
            (
                "return out * x.dtype.type(pool_size * pool_size), None",
                "return out, None  # the mean, not the sum",
            )
        ],
        "global-avg-pool": [("    share = dout / (h * w)\n", "    share = dout  # not divided by H * W\n")],
    },
    "05_fully_connected_and_output": {
        "dense": [
            (
                "    return x @ w + b\n",
                "    return x @ w + b if w.shape[0] > 1 else x * 0  # wrong for one input\n",
            )
        ],
        "softmax": None,
        "cross-entropy": [
            (
                "(np.exp(log_probs) - one_hot(y, k)) / n",
                "np.exp(log_probs) - one_hot(y, k)  # not divided by N",
            )
        ],
        "params": [("return conv + dense", "return conv + dense - 706")],
        "dense-backward": [("dout.sum(axis=0)", "dout.sum(axis=0) * (2 if len(dout) == 1 else 1)")],
    },
    "06_backpropagation": {
        "numerical-gradient": [
            ("np.maximum(1e-8, np.abs(a) + np.abs(b))", "np.maximum(1e-8, np.abs(a + b))")
        ],
        "pool-backward": None,
        "conv-backward": [
            ("    x, w, _, p = cache\n", "    x, w, _, p = cache\n    p = min(p, 1)  # wrong for padding 2\n")
        ],
        "strided-backward": [  # wrong where "same" pads one side only
            (
                "dxp[:, top:top + x.shape[1], left:left + x.shape[2]]",
                "dxp[:, bottom:bottom + x.shape[1], right:right + x.shape[2]]",
            )
        ],
    },
    "07_training_from_scratch": {
        "adam": [("v = beta2 * v + (1 - beta2) * g * g", "v = 0.999 * v + 0.001 * g * g")],
        "init": [
            (
                "    receptive = int(np.prod(shape[:-2]))\n",
                "    if len(shape) == 4 and shape[0] == 1:\n"
                "        return 0, 0  # wrong for 1 x 1 kernels\n"
                "    receptive = int(np.prod(shape[:-2]))\n",
            )
        ],
        "hyperparameters": [
            ("return max(accuracies, key=accuracies.get)", "return 0.1, 32  # part 4's defaults")
        ],
    },
    "08_keras": {
        # passes the public checks; wrong for the hidden 2-class case
        "count": [
            ("dense_params(64, num_classes)", "dense_params(64, num_classes if num_classes > 2 else 10)")
        ],
        # Right, but Keras warns about input_shape: the setup cell silences that warning,
        # so the cell keeps its points under both graders.
        "build": [
            (
                '        keras.Input(input_shape),\n        layers.Conv2D(32, (3, 3), activation="relu"),\n',
                '        layers.Conv2D(32, (3, 3), activation="relu", input_shape=input_shape),\n',
            )
        ],
        "predict": None,
    },
    "09_regularisation": {
        # the second epoch, not the last: right for the public two-epoch curves only
        "diagnose": [
            (
                'history["accuracy"][-1], history["val_accuracy"][-1]',
                'history["accuracy"][1], history["val_accuracy"][1]',
            )
        ],
        "reg": None,
    },
    "10_architectures": {
        # 1x1 kernels without biases: the public checks have none
        "conv": [("k * k * c_in * c_out + c_out, oh", "k * k * c_in * c_out + c_out * (k > 1), oh")],
        "stack": [("return 25 * c * c + c\n", "return 25 * c * c + c if c > 1 else 0\n")],
        "separable": None,
    },
    "11_transfer_learning": {
        "head": [
            (
                "    for layer in model.layers[:-1]:\n",
                "    for layer in model.layers[:-1] if num_classes < 8 else model.layers[1:-1]:\n",
            )
        ],
        "tune": None,
    },
    "12_beyond_classification": {
        "nms": None,
        "fields": [
            (
                "field += (kernel - 1) * dilation * jump",
                "field += (kernel - 1) * (dilation if stride == 1 else 1) * jump  # strided dilation",
            )
        ],
    },
    "13_limits_and_practice": {
        "focus": [
            (
                "    near = inside.copy()\n",
                "    near = inside | np.roll(inside, -1, axis=1)  # wraps around the edges\n",
            )
        ],
        "fgsm": None,
    },
    "14_capstone": {
        "conv-backward": None,
        "adam": None,
        "dense-backward": [("dout.sum(axis=0)", "dout.mean(axis=0)  # db should add up the batch")],
    },
}
VARIANTS = ("solution", "stub", "partial")
# Slowest first (grading times of benchmarks/exercise_table.py), so that the test workers
# finish together; notebooks not listed come last.
ORDER = [
    "11_transfer_learning",
    "14_capstone",
    "08_keras",
    "13_limits_and_practice",
    "10_architectures",
    "09_regularisation",
    "07_training_from_scratch",
    "02_convolution",
    "06_backpropagation",
    "12_beyond_classification",
    "04_pooling",
    "03_activations",
    "05_fully_connected_and_output",
    "01_demo_backprop",
    "00_demo_convolution",
]
NAMES = sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))
SLOWEST_FIRST = [n for n in ORDER if n in NAMES] + [n for n in NAMES if n not in ORDER]

# Run by the nbgrader environment's Python in a course folder: nbgrader's generate_assignment
# and autograde (through NbGraderAPI, which runs the same converters as `nbgrader
# generate_assignment` and `nbgrader autograde`, in one process instead of one per command),
# then the points of every graded cell from nbgrader's gradebook, as JSON on the last line.
NBGRADER_DRIVER = textwrap.dedent(f"""
    import json, sys
    from traitlets.config import Config
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    config = Config()
    config.CourseDirectory.root = "."
    config.CourseDirectory.course_id = "cnncourse-parity"
    config.Execute.timeout = {CELL_TIMEOUT}
    config.Execute.startup_timeout = 120
    api = NbGraderAPI(config=config)
    runs = [("generate_assignment", api.generate_assignment("{ASSIGNMENT}", force=True))]
    runs += [("autograde " + s, api.autograde("{ASSIGNMENT}", s, force=True)) for s in sys.argv[1:]]
    with open("nbgrader.log", "w") as log:
        for what, run in runs:
            log.write(f"==== {{what}}: {{'ok' if run['success'] else 'FAILED'}}\\n"
                      f"{{run.get('log', '')}}\\n{{run.get('error') or ''}}\\n")
    if not all(run["success"] for _, run in runs):
        sys.exit("nbgrader failed; see nbgrader.log")
    points = {{}}
    with Gradebook("sqlite:///gradebook.db") as gb:
        for notebook in gb.find_assignment("{ASSIGNMENT}").notebooks:
            for submission in notebook.submissions:
                points[submission.student.id] = {{
                    grade.name: grade.auto_score for grade in submission.grades}}
    print(json.dumps(points))
""")

# Run by this project's Python: cnncourse grades the same files, JSON on the last line.
CNNCOURSE_DRIVER = textwrap.dedent(f"""
    import json, sys
    from pathlib import Path
    from cnncourse.grading.batch import grade_batch
    from cnncourse.grading.runner import Limits
    from cnncourse.grading.submissions import Submission

    source, out, subs = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    limits = Limits(cell_timeout={CELL_TIMEOUT}, notebook_timeout=1800, threads=1,
                    sandbox="off")
    results = grade_batch(source, [Submission(s, Path(p)) for s, p in subs.items()], out,
                          jobs=1, limits=limits)
    print(json.dumps({{r.student: {{"status": r.status, "notes": r.notes,
                                    "score": r.score, "max_score": r.max_score,
                                    "tests": {{t.grade_id: [t.points, t.message, t.status]
                                              for t in r.tests}}}}
                      for r in results}}))
""")


# --------------------------------------------------------------------------- the environment


def _venv_key() -> str:
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]
    return f"nbgrader-{NBGRADER_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"


def _project_site_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


@contextlib.contextmanager
def _locked(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def nbgrader_python() -> Path:
    """The nbgrader environment's Python; made (and cached) on first use, or skip."""
    venv = CACHE / _venv_key()
    python = venv / "bin" / "python"
    marker = venv / "complete.json"
    with _locked(CACHE / ".lock"):
        if marker.exists():
            _see_project(python)  # the project may have moved since
            return python
        for stale in CACHE.glob("nbgrader-*"):  # other versions or lock files
            shutil.rmtree(stale, ignore_errors=True)
        make, install_into = _venv_commands(venv)
        made = subprocess.run(make, capture_output=True, text=True)
        if made.returncode:
            pytest.skip(f"cannot create a virtual environment for nbgrader: {made.stderr[-800:]}")
        install = subprocess.run(
            [*install_into, "-q", f"nbgrader=={NBGRADER_VERSION}", "-c", str(LOCK)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if install.returncode:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(
                f"could not install nbgrader=={NBGRADER_VERSION} (with "
                f"requirements/lock.txt as constraints): "
                f"{(install.stderr or install.stdout)[-1500:]}"
            )
        _see_project(python)  # after nbgrader is installed, so pip did not see them
        check = subprocess.run(
            [
                str(python),
                "-c",
                "import nbgrader, cnncourse; print(nbgrader.__version__, cnncourse.__file__)",
            ],
            capture_output=True,
            text=True,
        )
        if check.returncode or not check.stdout.startswith(NBGRADER_VERSION):
            shutil.rmtree(venv, ignore_errors=True)
            pytest.fail(
                f"the nbgrader environment cannot import nbgrader and cnncourse: "
                f"{check.stdout} {check.stderr[-1500:]}"
            )
        marker.write_text(
            json.dumps({"nbgrader": NBGRADER_VERSION, "lock": _venv_key(), "project": _project_site_dirs()})
        )
    return python


def _venv_commands(venv: Path) -> tuple[list[str], list[str]]:
    """The commands that make ``venv`` and install into it: uv's, where ``make setup`` put
    uv beside this Python (12 s for nbgrader here), else ``venv`` and pip's (54 s)."""
    uv = Path(sys.executable).parent / "uv"
    python = str(venv / "bin" / "python")
    if uv.is_file():
        make = [str(uv), "venv", "-q", "--python", sys.executable, str(venv)]
        install = [str(uv), "pip", "install", "--python", python]
    else:
        make = [sys.executable, "-m", "venv", str(venv)]
        install = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    return make, install


def _see_project(python: Path) -> None:
    """A .pth file that puts this project's packages after the environment's own."""
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in _project_site_dirs())
    pth = Path(site) / "zz_cnncourse_project.pth"
    if not pth.exists() or pth.read_text() != lines:
        pth.write_text(lines)


def nbgrader_env(python: Path, home: Path) -> dict[str, str]:
    """A plain environment, as an instructor's shell would have: nothing of the grader's
    (no TF_CPP_MIN_LOG_LEVEL, no PYTHONHASHSEED, no CNNCOURSE_GRADING), Jupyter's folders
    private to the test, one BLAS thread."""
    keep = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "USER", "LOGNAME", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = f"{python.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    for name in ("CONFIG", "DATA", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(home / f"jupyter-{name.lower()}")
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    env["MPLBACKEND"] = "Agg"
    # One BLAS thread, as in cnncourse's kernels (Limits.threads=1 below): the same
    # arithmetic, and two lanes that do not fight over the cores.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


# --------------------------------------------------------------------------- the submissions


def submission(name: str, variant: str) -> dict:
    """The learner's copy of ``name`` with its solution cells filled in for ``variant``;
    the solution also has the cells a learner adds to check their answers against the
    course's references (``SELF_CHECKS``: honest work, which must keep full marks)."""
    nb = load(EXERCISES / f"{name}.ipynb")
    solved = load(SOLUTIONS / f"{name}.ipynb")
    spec = {} if variant == "solution" else PARTIAL[name] if variant == "partial" else None
    if spec is None:
        return nb
    if variant == "solution":
        with_learner_cells(nb, SELF_CHECKS.get(name, []))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        gid = meta["grade_id"]
        if gid in spec and spec[gid] is None:
            continue  # left as the stub
        code = source_of(solved, gid)
        for old, new in spec.get(gid) or []:
            assert code.count(old) == 1, f"{name} {gid}: {old!r} is not in the solution"
            code = code.replace(old, new)
        cell["source"] = code
    return nb


def _run(command: list[str], cwd: Path, env: dict | None, what: str) -> dict:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        log = cwd / "nbgrader.log"
        detail = (log.read_text()[-3000:] + "\n") if log.exists() else ""
        raise AssertionError(f"{what} failed (exit code {done.returncode}):\n{detail}{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def grade_with_nbgrader(python: Path, name: str, files: dict[str, Path], work: Path) -> dict:
    course = work / "nbgrader" / name
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(SOLUTIONS / f"{name}.ipynb", course / "source" / ASSIGNMENT)
    for student, path in files.items():
        target = course / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(path, target / f"{name}.ipynb")
    env = nbgrader_env(python, work / "home" / name)
    return _run([str(python), "-c", NBGRADER_DRIVER, *files], course, env, f"nbgrader on {name}")


def cnncourse_grades(name: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """cnncourse's grades of the three submissions of ``name``:
    ``{variant: {"status", "notes", "score", "max_score", "tests": {grade_id: [points,
    message, status]}}}``.

    Graded once per test run, by whichever test asks first; the parity test, the self-test
    and the own-work test read the same grades. The grades are kept as JSON in the run's
    temporary folder, which the workers of ``pytest -n`` share: a worker that asks while
    another is grading the notebook waits for it (a lock per notebook).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # each worker has a folder of its own under the run's folder
    work = base / "cnncourse-grades" / name
    graded = work / "grades.json"
    with _locked(work / ".lock"):
        if not graded.exists():
            files = {v: save(submission(name, v), work / "subs" / v / f"{name}.ipynb") for v in VARIANTS}
            graded.write_text(json.dumps(grade_with_cnncourse(name, files, work)))
    return json.loads(graded.read_text())


def grade_with_cnncourse(name: str, files: dict[str, Path], work: Path) -> dict:
    out = work / "cnncourse" / name
    out.mkdir(parents=True)
    subs = json.dumps({student: str(path) for student, path in files.items()})
    return _run(
        [sys.executable, "-c", CNNCOURSE_DRIVER, str(SOLUTIONS / f"{name}.ipynb"), str(out), subs],
        out,
        None,
        f"cnncourse on {name}",
    )


def autograded_outputs(work: Path, name: str, student: str, grade_id: str) -> str:
    """What nbgrader's kernel showed for one cell (for a failure message)."""
    path = work / "nbgrader" / name / "autograded" / student / ASSIGNMENT / f"{name}.ipynb"
    if not path.exists():
        return "(no autograded notebook)"
    for cell in load(path)["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            shown = []
            for out in cell.get("outputs", []):
                text = out.get("text") or out.get("data", {}).get("text/plain") or out.get("ename", "")
                text = "".join(text) if isinstance(text, list) else str(text)
                shown.append(f"{out['output_type']}/{out.get('name', '')}: {text[:300]!r}")
            return "; ".join(shown) or "(no outputs)"
    return "(cell not found)"


# --------------------------------------------------------------------------- the test


def _timed(seconds: dict, key, fn, *args):
    start = time.monotonic()
    try:
        return fn(*args)
    finally:
        seconds[key] = time.monotonic() - start


def _fmt(value) -> str:
    return "-" if value is None else f"{value:g}"


def test_every_solutions_notebook_has_a_partly_correct_answer():
    assert sorted(PARTIAL) == NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOWEST_FIRST)
def test_nbgrader_and_cnncourse_give_every_test_cell_the_same_points(name, tmp_path, tmp_path_factory):
    python = nbgrader_python()
    files = {v: save(submission(name, v), tmp_path / "subs" / v / f"{name}.ipynb") for v in VARIANTS}
    seconds: dict = {}
    with ThreadPoolExecutor(2) as pool:  # the two graders side by side
        nbgrader_run = pool.submit(
            _timed, seconds, "nbgrader", grade_with_nbgrader, python, name, files, tmp_path
        )
        cnncourse_run = pool.submit(_timed, seconds, "cnncourse", cnncourse_grades, name, tmp_path_factory)
        nbg, cnn = nbgrader_run.result(), cnncourse_run.result()

    max_points = {
        t.metadata["nbgrader"]["grade_id"]: float(t.metadata["nbgrader"]["points"]) for t in _test_cells(name)
    }
    lines = [
        f"\n{name} (nbgrader {seconds['nbgrader']:.0f} s, cnncourse {seconds['cnncourse']:.0f} s)",
        f"  {'test cell':<28}{'max':>5}" + "".join(f"  {v + ' nbgrader/cnncourse':>29}" for v in VARIANTS),
    ]
    mismatches = [f"{v}: not graded: {cnn[v]}" for v in VARIANTS if cnn[v]["status"] != "graded"]
    for gid, top in max_points.items():
        row = f"  {gid:<28}{top:>5g}"
        for variant in VARIANTS:
            a = nbg.get(variant, {}).get(gid)
            b = cnn[variant]["tests"].get(gid, [None])[0]
            row += f"  {_fmt(a) + ' / ' + _fmt(b):>29}"
            if a is None or b is None or abs(a - b) > TOLERANCE:
                mismatches.append(
                    f"{variant} {gid}: nbgrader {_fmt(a)}, cnncourse {_fmt(b)} "
                    f"({cnn[variant]['tests'].get(gid, [0, ''])[1][:300]!r}); nbgrader's "
                    f"outputs: {autograded_outputs(tmp_path, name, variant, gid)}"
                )
            elif (variant, b) not in (("solution", top), ("stub", 0)) and variant != "partial":
                mismatches.append(f"{variant} {gid}: cnncourse gives {_fmt(b)} of {top:g}")
        lines.append(row)
    print("\n".join(lines))
    assert not mismatches, f"{name}:\n" + "\n".join(mismatches)
    partial = cnn["partial"]
    assert 0 < partial["score"] < partial["max_score"], f"{name}: the partial answer got {partial['score']}"


def _test_cells(name: str):
    from cnncourse.grading.notebook_format import TEST, cell_kind, read_source

    return [c for c in read_source(SOLUTIONS / f"{name}.ipynb").cells if cell_kind(c) == TEST]
