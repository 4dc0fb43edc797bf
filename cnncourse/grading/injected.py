"""What the grader sends into a submission's kernel, between the notebook's cells.

The code itself is the ordinary module :mod:`.kernel_side` (read it for what each step
does and why). This module turns a step into the text the runner sends: the whole source
of ``kernel_side``, read from the grader's own copy on disk, compiled and run in a fresh
namespace inside the kernel, then one of its functions called with literal arguments
(:func:`call`). The kernel never imports ``kernel_side``, so nothing a submission does
to the kernel's modules can replace it.

- :func:`preamble`: code the runner executes before the notebook's first cell;
- :func:`guard`: an expression evaluated before each test cell;
- :func:`forget`: an expression evaluated after each hidden block;
- :func:`after_test`: an expression evaluated after each test cell, whose value is the
  tripwire's report (empty when the plan has no tripwire to ask).

The expressions go to the kernel as ``user_expressions``: those are evaluated with
``eval``, so no input or AST transformer a submission installed can rewrite them, and
they leave no trace in the input history.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

from . import kernel_side

FILENAME = "<cnncourse-grader>"  # the file name the kernel compiles kernel_side's source under
NAMESPACE = "__cnncourse__"  # the __name__ of the namespace it runs in


@functools.cache
def kernel_source() -> str:
    """The source of :mod:`.kernel_side`, as the grader's copy on disk has it."""
    return Path(kernel_side.__file__).read_text(encoding="utf-8")


def call(function, *args) -> str:
    """An expression that runs :mod:`.kernel_side`'s source in a fresh namespace and then
    calls its ``function`` with ``args`` (literals: strings, numbers, lists, dicts...); its
    value is what the call returns."""
    name = function.__name__
    if getattr(kernel_side, name, None) is not function:
        raise ValueError(f"{name} is not a function of cnncourse.grading.kernel_side")
    arguments = ", ".join(repr(arg) for arg in args)
    return (
        f'(lambda namespace: (__import__("builtins").exec(__import__("builtins").compile('
        f'{kernel_source()!r}, {FILENAME!r}, "exec"), namespace), '
        f'namespace[{name!r}]({arguments}))[1])({{"__name__": {NAMESPACE!r}}})'
    )


def tripwire_config(plan) -> dict:
    """What the kernel's tripwire needs: per solution cell with forbidden references, the
    references, its exercise names and the digests of the learner's code; the digests of
    the source's setup and test cells (never their code). Empty: nothing to install."""
    cached = getattr(plan, "_tripwire_config", None)
    if cached is not None:
        return cached
    cells = {}
    for step in plan.steps:
        if step.kind == "solution" and step.forbidden:
            code = "".join(s.code for s in step.segments)
            cells[step.grade_id] = {
                "forbidden": list(step.forbidden),
                "names": list(step.names),
                "digests": sorted(_digests(code)),
            }
    config: dict = {}
    if cells:
        source: set[str] = set()
        for step in plan.steps:
            if step.kind in ("setup", "test"):
                for segment in step.segments:
                    source |= _digests(segment.code)
        config = {"cells": cells, "source": sorted(source)}
    try:
        plan._tripwire_config = config
    except AttributeError:  # a plan-like object that takes no attributes
        pass
    return config


@functools.cache
def reloaded_modules() -> tuple[str, ...]:
    """The modules the kernel imports first and reloads before each test, in order:
    :data:`.kernel_side.RELOADED_MODULES`, then every module of the checks package as its
    files on disk list them, each after the sibling modules it imports from, and the
    package itself last.

    Worked out here, in the grader's process, once, from the copy of the package that the
    kernel imports too, and sent to the kernel as a literal with the preamble and every
    guard: the kernel neither parses the package's files before each test cell nor asks
    its import system (which a submission could have hooked) where the package is.
    """
    spec = importlib.util.find_spec(kernel_side.CHECKS_PACKAGE)
    folder = Path(spec.origin).parent
    siblings: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        siblings[path.stem] = {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1
        }
    ordered: list[str] = []

    def visit(stem: str, path: tuple[str, ...]) -> None:
        if stem in ordered or stem in path:  # done, or an import cycle (loaded as it comes)
            return
        for dependency in sorted(siblings[stem] & siblings.keys()):
            visit(dependency, (*path, stem))
        ordered.append(stem)

    for stem in siblings:
        visit(stem, ())
    package = kernel_side.CHECKS_PACKAGE
    return (*kernel_side.RELOADED_MODULES, *(f"{package}.{stem}" for stem in ordered), package)


def preamble(plan) -> str:
    """Code run once before the notebook's first cell (``plan``: the :class:`~.assemble.Plan`)."""
    return call(kernel_side.preamble, reloaded_modules(), tripwire_config(plan))


def guard(plan) -> str:
    """An expression run before each test cell; it ends by re-running the tests' imports
    and installing the own-work tripwire afresh (from disk) over the reloaded modules."""
    return call(kernel_side.guard, plan.imports, reloaded_modules(), tripwire_config(plan))


def forget(code: str) -> str:
    """An expression run after the hidden block ``code``: forget its source."""
    return call(kernel_side.forget, sorted(_digests(code)))


def after_test(plan) -> str:
    """An expression evaluated after each test cell whose text the grader keeps as
    ``Outcome.kernel_report``: the tripwire's violations as JSON (see
    :func:`.own_work.parse_kernel_report`); empty when there is nothing to ask the kernel."""
    if not tripwire_config(plan):
        return ""
    return call(kernel_side.tripwire_report)


def _digests(code: str) -> set[str]:
    """Hashes of the forms in which IPython may have stored ``code`` in linecache."""
    from IPython.core.inputtransformer2 import TransformerManager

    forms = {code}
    try:
        forms.add(TransformerManager().transform_cell(code))
    except Exception:  # the source was validated; this is only belt and braces
        pass
    out = set()
    for text in forms:
        for variant in (text, text.rstrip("\n") + "\n", "".join(line + "\n" for line in text.splitlines())):
            out.add(hashlib.sha256(variant.encode()).hexdigest())
    return out
