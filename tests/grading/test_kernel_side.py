"""The code the grader runs in a kernel (``kernel_side``), tested in this process where it
can be (a fake shell, a throwaway package), and in a kernel for what only a kernel shows."""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import json
import linecache
import pathlib
import sys
import types

import nbformat
import numpy as np
import pytest

from cnncourse.grading import checking, checks, injected, kernel_side
from cnncourse.grading.grade import grade_notebook
from cnncourse.grading.runner import Limits
from cnncourse.grading.status import Status

from .grading_helpers import nbgrader_cell

FAST = Limits(cell_timeout=20, notebook_timeout=120, probe_timeout=3)
STANDARD_LIBRARY = {
    "__future__",
    "ast",
    "hashlib",
    "importlib",
    "importlib.util",
    "linecache",
    "os",
    "pathlib",
    "sys",
    "types",
}


# --------------------------------------------------------------------------- how it is sent


def test_the_source_stands_alone_so_the_kernel_can_run_it_without_importing_it():
    tree = ast.parse(injected.kernel_source())
    for node in tree.body:
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= STANDARD_LIBRARY
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module in STANDARD_LIBRARY
    for node in ast.walk(tree):  # imports inside functions: absolute, by name
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, ast.unparse(node)
    namespace = {"__name__": injected.NAMESPACE}
    exec(compile(injected.kernel_source(), injected.FILENAME, "exec"), namespace)
    for name in ("preamble", "guard", "forget", "tripwire_report", "reload_from_disk"):
        assert namespace[name].__code__.co_filename == injected.FILENAME
    assert namespace["RELOADED_MODULES"] == kernel_side.RELOADED_MODULES


def test_every_step_is_one_expression_with_literal_arguments():
    plan = types.SimpleNamespace(steps=[], imports="from cnncourse.grading import checks\n")
    for text in (
        injected.preamble(plan),
        injected.guard(plan),
        injected.forget("x = 1\n"),
        injected.call(kernel_side.tripwire_report),
    ):
        tree = ast.parse(text, mode="eval")
        call = tree.body
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Lambda)
        inner = call.func.body.value.elts[1]  # (exec(...), namespace[name](*args))[1]
        for arg in inner.args:
            ast.literal_eval(arg)
    assert injected.after_test(plan) == ""  # no tripwire to ask
    with pytest.raises(ValueError, match=r"not a function of cnncourse\.grading\.kernel_side"):
        injected.call(print)


def test_the_expression_runs_the_source_from_disk_and_returns_the_value(monkeypatch):
    monkeypatch.setitem(
        sys.modules, kernel_side.TRIPWIRE, types.SimpleNamespace(report=lambda: '[{"cell": "a"}]')
    )
    expression = injected.call(kernel_side.tripwire_report)
    # A replaced kernel_side in this process changes nothing: the source is sent.
    monkeypatch.setattr(kernel_side, "TRIPWIRE", "elsewhere")
    assert eval(expression, {}) == '[{"cell": "a"}]'
    monkeypatch.delitem(sys.modules, "cnncourse.grading.tripwire")
    assert eval(expression, {}) == "[]"


# --------------------------------------------------------------------------- forget


def test_forget_drops_the_hidden_block_from_linecache_and_the_last_traceback():
    code = "assert answer(227) == 55, 'AlexNet'\n"
    for key, text in (("<hidden-1>", code), ("<hidden-2>", code), ("<public>", "print('public')\n")):
        lines = text.splitlines(keepends=True)
        linecache.cache[key] = (len(text), None, lines, key)
    shell = types.SimpleNamespace(_last_traceback="a traceback")
    try:
        sys.last_value = ValueError("AlexNet")
        kernel_side.forget(sorted(injected._digests(code)), shell=shell)
        assert "<hidden-1>" not in linecache.cache and "<hidden-2>" not in linecache.cache
        assert "<public>" in linecache.cache
        assert shell._last_traceback is None and sys.last_value is None
    finally:
        for key in ("<hidden-1>", "<hidden-2>", "<public>"):
            linecache.cache.pop(key, None)


def test_the_digests_cover_the_forms_ipython_stores():
    from IPython.core.inputtransformer2 import TransformerManager

    code = "%time x = 1\ny = 2"
    transformed = TransformerManager().transform_cell(code)
    assert transformed.startswith("get_ipython().run_line_magic('time', 'x = 1')")
    digests = injected._digests(code)
    for text in (code, code + "\n", transformed):
        assert hashlib.sha256(text.encode()).hexdigest() in digests


# --------------------------------------------------------------------------- reset the shell


class FakeShell:
    """What :func:`kernel_side.reset_shell` touches of IPython's shell, as a learner left it."""

    def __init__(self, learner_callback, trusted_callback):
        from IPython.core.formatters import DisplayFormatter

        self.input_transformer_manager = "the learner's"
        self.input_transformers_post = [lambda lines: ["pass\n"]]
        self.ast_transformers = [object()]
        self.custom_exc = ((Exception,), print)
        self.events = types.SimpleNamespace(
            callbacks={"pre_run_cell": [learner_callback, trusted_callback], "post_run_cell": []}
        )
        self.display_formatter = DisplayFormatter()
        self.display_formatter.formatters["text/plain"] = "the learner's"
        self.user_ns = {}

    def set_custom_exc(self, exc_tuple, handler):
        self.custom_exc = (exc_tuple, handler)


def test_reset_shell_undoes_transformers_handlers_callbacks_and_the_formatter():
    from IPython.core.formatters import PlainTextFormatter
    from IPython.core.inputtransformer2 import TransformerManager

    def learner_callback(*args):
        pass

    def trusted_callback(*args):
        pass

    trusted_callback.__module__ = "matplotlib_inline.backend_inline"
    shell = FakeShell(learner_callback, trusted_callback)
    kernel_side.reset_shell(shell)
    assert isinstance(shell.input_transformer_manager, TransformerManager)
    assert shell.input_transformers_post == [] and shell.ast_transformers == []
    assert shell.custom_exc == ((), None)
    assert shell.events.callbacks["pre_run_cell"] == [trusted_callback]
    formatter = shell.display_formatter.formatters["text/plain"]
    assert isinstance(formatter, PlainTextFormatter)
    assert formatter.parent is shell.display_formatter


def test_reset_hooks_removes_trace_and_profile_functions():
    trace = sys.gettrace()
    try:
        sys.setprofile(lambda *args: None)
        kernel_side.reset_hooks()
        assert sys.getprofile() is None and sys.gettrace() is None
    finally:
        sys.settrace(trace)


# --------------------------------------------------------------------------- reload from disk


MODULE = """
from dataclasses import dataclass, field


@dataclass
class Item:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def describe(self):
        return f"item {self.label}"


def double(x):
    return 2 * x


def accepts(item):
    return isinstance(item, Item)
"""


@pytest.fixture
def package(tmp_path, monkeypatch, request):
    """A throwaway package ``<name>`` whose ``mod`` is :data:`MODULE`, re-exporting ``double``."""
    name = "kspkg_" + request.node.name[-20:].replace("-", "_")
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("from .mod import double\n")
    (folder / "mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__(f"{name}.mod")
    yield sys.modules[name]
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def test_the_guard_restores_replaced_and_rewritten_functions(package):
    mod = package.mod
    mod.double = lambda x: 0
    package.double = lambda x: 0
    mod.accepts.__code__ = (lambda item: True).__code__
    kernel_side.reload_from_disk(mod.__name__)
    assert mod.double(2) == 4 and package.double(2) == 4
    assert mod.accepts(mod.Item(())) and not mod.accepts(object())


def test_an_object_made_before_the_reload_is_still_an_instance_of_its_class(package):
    mod = package.mod
    item = mod.Item((1,), label="a")
    Item = mod.Item
    Item.describe = lambda self: "forged"
    Item.__init__ = lambda self, *args, **kwargs: None
    Item.extra = "added by the learner"
    kernel_side.reload_from_disk(mod.__name__)
    assert mod.Item is Item and mod.accepts(item)
    assert item.describe() == "item a" and not hasattr(Item, "extra")
    assert mod.Item((1,), label="a") == item and repr(item) == "Item(args=(1,), kwargs={}, label='a')"


def test_a_look_alike_class_is_not_kept(package):
    mod = package.mod

    class Item(mod.Item):
        pass

    Item.__module__, Item.__qualname__ = mod.__name__, "Item"
    mod.Item = Item
    kernel_side.reload_from_disk(mod.__name__)
    assert mod.Item is not Item and mod.Item.__bases__ == (object,)
    assert not mod.accepts(Item(()))


def test_a_module_replaced_in_sys_modules_is_imported_afresh(package):
    name = package.mod.__name__
    sys.modules[name] = types.SimpleNamespace(double=lambda x: 0)
    module = kernel_side.reload_from_disk(name)
    assert isinstance(module, types.ModuleType) and module is sys.modules[name]
    assert package.mod is module and module.double(3) == 6


def test_every_module_of_the_checks_package_is_reloaded_after_the_siblings_it_imports():
    names = injected.reloaded_modules()
    folder = pathlib.Path(checks.__file__).parent
    on_disk = {f"cnncourse.grading.checks.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    assert names[: len(kernel_side.RELOADED_MODULES)] == kernel_side.RELOADED_MODULES
    assert set(names[len(kernel_side.RELOADED_MODULES) : -1]) == on_disk
    assert names[-1] == "cnncourse.grading.checks" and len(names) == len(set(names))
    for module in on_disk:
        tree = ast.parse((folder / f"{module.rsplit('.', 1)[1]}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                sibling = f"cnncourse.grading.checks.{node.module}"
                assert names.index(sibling) < names.index(module), (module, sibling)


def test_reloading_undoes_a_monkeypatched_check_module(monkeypatch):
    from cnncourse.grading.checks import convolution

    monkeypatch.setattr(convolution, "check_output_size", lambda fn: None)
    monkeypatch.setattr(checks, "check_output_size", convolution.check_output_size)
    for name in injected.reloaded_modules():
        kernel_side.reload_from_disk(name)

    def wrong(n, k, stride=1, padding=0):
        return 0

    with pytest.raises(AssertionError, match=r"^wrong\(5, 3, 1, 0\): expected 3"):
        checks.check_output_size(wrong)


def test_the_checks_the_grader_listed_are_reloaded_whatever_the_package_claims(monkeypatch, tmp_path):
    # The grader works the list out in its own process, before any submission runs.
    listed = injected.reloaded_modules()
    from cnncourse.grading.checks import convolution

    # A submission patches a check, then points the package's spec at an empty folder, so
    # that a list made inside the kernel (from the import system) would miss the module.
    monkeypatch.setattr(convolution, "check_output_size", lambda fn: None)
    monkeypatch.setattr(checks, "check_output_size", convolution.check_output_size)
    forged = importlib.machinery.ModuleSpec(checks.__name__, None, origin=str(tmp_path / "__init__.py"))
    forged.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(checks, "__spec__", forged)
    assert convolution.__name__ not in injected.reloaded_modules.__wrapped__()  # listed now
    assert convolution.__name__ in listed

    for name in listed:
        kernel_side.reload_from_disk(name)

    def wrong(n, k, stride=1, padding=0):
        return 0

    with pytest.raises(AssertionError, match=r"^wrong\(5, 3, 1, 0\): expected 3"):
        checks.check_output_size(wrong)


def test_a_case_built_before_the_guard_reloads_the_checks_is_still_a_case(monkeypatch):
    case = checks.Case((np.arange(3.0),), label="x [0, 1, 2]")
    monkeypatch.setattr(checking, "fraction_correct", lambda *args, **kwargs: 1.0)
    monkeypatch.setattr(checking.Case, "describe", lambda self, fn_name: "forged")
    for name in ("cnncourse.grading.checking", "cnncourse.grading.checks"):
        kernel_side.reload_from_disk(name)
    assert checks.Case is checking.Case is type(case)
    assert checks.fraction_correct is checking.fraction_correct
    assert checks.fraction_correct(np.negative, np.negative, [case]) == 1.0
    assert checks.fraction_correct(np.positive, np.negative, [case]) == 0.0
    with pytest.raises(AssertionError, match=r"^negate\(x \[0, 1, 2\]\): 2 of 3 values differ"):
        checks.check_function(np.positive, np.negative, [case], name="negate")


# --------------------------------------------------------------------------- in a kernel


TAMPER = """
import cnncourse.grading.checking as C
C.fraction_correct = lambda *args, **kwargs: 1.0
C.check_function = lambda *args, **kwargs: None
C.Case.__init__ = lambda self, *args, **kwargs: setattr(self, "args", (0.0,))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer, score",
    [
        ("def negate(x):\n    return -x", 3),
        ("def negate(x):\n    return x", 0),
        (TAMPER + "\ndef negate(x):\n    return x", 0),
    ],
    ids=["honest", "wrong", "wrong-and-tampering"],
)
def test_in_a_kernel_cases_from_a_setup_cell_survive_the_guard_and_tampering_does_not(
    tmp_path, answer, score
):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbgrader_cell(
            "setup",
            "setup",
            "import numpy as np\n\nfrom cnncourse.grading import checks\n\n"
            "cases = [checks.Case((np.arange(3.0),), label='x [0, 1, 2]')]",
        ),
        nbgrader_cell(
            "solution",
            "negate",
            "def negate(x):\n    ### BEGIN SOLUTION\n    return -x\n    ### END SOLUTION",
        ),
        nbgrader_cell("test", "negate-public", "checks.check_function(negate, np.negative, cases)", 1),
        nbgrader_cell(
            "test",
            "negate-partial",
            "checks.points(checks.fraction_correct(negate, np.negative, cases), out_of=2)",
            2,
        ),
    ]
    source = tmp_path / "negate.ipynb"
    nbformat.write(nb, source)
    nb.cells[1].source = answer
    submission = tmp_path / "ann" / "negate.ipynb"
    submission.parent.mkdir()
    nbformat.write(nb, submission)
    result = grade_notebook(source, submission, "ann", FAST)
    assert result.status == Status.GRADED, result.notes
    assert result.score == score, json.dumps(result.to_dict(), indent=1)
    if score == 0:
        assert [t.status for t in result.tests] == [Status.FAILED, Status.FAILED]
        assert "negate(x [0, 1, 2]): 2 of 3 values differ" in result.tests[0].message
