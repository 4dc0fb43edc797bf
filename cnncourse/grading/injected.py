"""Code the grader runs inside a submission's kernel, between the notebook's cells.

None of it is shown to learners. It runs in the same process as the submission, so it
raises the bar against tampering rather than making tampering impossible (see
``docs/grading.md``): a submission that sets out to subvert the interpreter can.

- :func:`preamble`: before any cell; imports the trusted modules first (the kernel starts
  with ``python -P``, so a ``numpy.py`` or ``cnncourse/`` in the submission's folder
  cannot shadow them), then lets the folder's own modules be imported after them.
- :func:`guard`: before each test cell; undoes the ways a submission could skip or
  rewrite test code or replace what tests call: IPython input and AST transformers,
  custom exception handlers, event callbacks, trace hooks, the number formatter, and the
  reference and grading modules (reloaded from disk), then re-runs the tests' imports.
- :func:`forget`: after each hidden block; drops its source from ``linecache`` and the
  last traceback, so later code cannot read the hidden test back.
- :func:`after_test`: after each test cell; what the own-work tripwire
  (:mod:`.tripwire`, installed by the preamble and again by the guard) saw.

``guard`` and ``forget`` are *expressions*, sent as the kernel's ``user_expressions``:
those are evaluated with ``eval``, so no input or AST transformer a submission installed
can rewrite them, and they leave no trace in the input history.
"""

from __future__ import annotations

import hashlib

# Function-only modules: reloading them restores every name without creating new classes
# (which would break isinstance checks on objects the learner already made).
RELOADED_MODULES = (
    "cnncourse.nn.validation",
    "cnncourse.nn.gradcheck",
    "cnncourse.nn.functional",
    "cnncourse.nn.naive",
    "cnncourse.grading.checks",
)
TRUSTED_CALLBACK_PACKAGES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline",
                             "ipywidgets", "comm", "jupyter_client")


TRIPWIRE = "cnncourse.grading.tripwire"


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
            cells[step.grade_id] = {"forbidden": list(step.forbidden),
                                    "names": list(step.names),
                                    "digests": sorted(_digests(code))}
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


def preamble(plan) -> str:
    """Code run once before the notebook's first cell (``plan``: the :class:`~.assemble.Plan`)."""
    config = tripwire_config(plan)
    return f'''
def __cnncourse_preamble():
    import importlib, os, sys
    for name in ("numpy", "cnncourse", "cnncourse.nn", *{RELOADED_MODULES!r}):
        importlib.import_module(name)
    if {bool(config)!r}:
        try:  # the static check does not depend on it: never let it stop the notebook
            importlib.import_module({TRIPWIRE!r}).install({config!r})
        except Exception:
            pass
    sys.path.append(os.getcwd())
__cnncourse_preamble()
del __cnncourse_preamble
'''


def as_expression(code: str) -> str:
    """An expression that runs ``code`` (statements) in a fresh namespace."""
    return (f'__import__("builtins").exec(__import__("builtins").compile({code!r}, '
            f'"<cnncourse-grader>", "exec"), {{"__name__": "__cnncourse__"}})')


def guard(plan) -> str:
    """An expression run before each test cell; it ends by re-running the tests' imports
    and installing the own-work tripwire afresh (from disk) over the reloaded modules."""
    imports = plan.imports
    config = tripwire_config(plan)
    return as_expression(f'''
def guard():
    import importlib, sys, types
    from IPython import get_ipython
    from IPython.core.formatters import PlainTextFormatter
    from IPython.core.inputtransformer2 import TransformerManager
    shell = get_ipython()
    shell.input_transformer_manager = TransformerManager()
    shell.input_transformers_post = []
    shell.ast_transformers = []
    shell.set_custom_exc((), None)
    for callbacks in shell.events.callbacks.values():
        callbacks[:] = [cb for cb in callbacks
                        if (getattr(cb, "__module__", None) or "").split(".")[0]
                        in {TRUSTED_CALLBACK_PACKAGES!r}]
    sys.settrace(None)
    sys.setprofile(None)
    shell.display_formatter.formatters["text/plain"] = PlainTextFormatter(
        parent=shell.display_formatter)
    for name in {RELOADED_MODULES!r}:
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if module is None or spec is None or spec.name != name:
            sys.modules.pop(name, None)
            module = importlib.import_module(name)
        else:
            module = importlib.reload(module)
        package_name, _, attr = name.rpartition(".")
        package = importlib.import_module(package_name)
        setattr(package, attr, module)
        for key in dir(package):  # names the package re-exports from this module
            value = vars(module).get(key)
            if isinstance(value, types.FunctionType) and not key.startswith("_"):
                setattr(package, key, value)
    exec({imports!r}, shell.user_ns)
    if {bool(config)!r}:
        previous = sys.modules.pop({TRIPWIRE!r}, None)
        try:
            importlib.import_module({TRIPWIRE!r}).install({config!r}, shell.user_ns, previous)
        except Exception:
            pass
guard()
''')


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
        for variant in (text, text.rstrip("\n") + "\n", "".join(line + "\n" for line in
                                                                  text.splitlines())):
            out.add(hashlib.sha256(variant.encode()).hexdigest())
    return out


def forget(code: str) -> str:
    return as_expression(f'''
def forget():
    import hashlib, linecache, sys
    from IPython import get_ipython
    digests = {sorted(_digests(code))!r}
    for key, entry in list(linecache.cache.items()):
        lines = entry[2] if isinstance(entry, tuple) and len(entry) > 2 else None
        if lines and hashlib.sha256("".join(lines).encode()).hexdigest() in digests:
            del linecache.cache[key]
    sys.last_type = sys.last_value = sys.last_traceback = None
    if hasattr(sys, "last_exc"):
        sys.last_exc = None
    get_ipython()._last_traceback = None
forget()
''')


def after_test(plan) -> str:
    """An expression evaluated after each test cell whose text the grader keeps as
    ``Outcome.kernel_report``: the tripwire's violations as JSON (see
    :func:`.own_work.parse_kernel_report`); empty when there is nothing to ask the kernel."""
    if not tripwire_config(plan):
        return ""
    return (f'__import__("sys").modules[{TRIPWIRE!r}].report() '
            f'if {TRIPWIRE!r} in __import__("sys").modules else "[]"')
