"""The code the grader runs inside a submission's kernel, between the notebook's cells.

None of it is shown to learners. It runs in the same process as the submission, so it
raises the bar against tampering rather than making tampering impossible (see
``docs/grading.md``): a submission that sets out to subvert the interpreter can.

- :func:`preamble`: before any cell; imports the trusted modules first (the kernel starts
  with ``python -P``, so a ``numpy.py`` or ``cnncourse/`` in the submission's folder
  cannot shadow them), installs the own-work tripwire, then lets the folder's own
  modules be imported after them.
- :func:`guard`: before each test cell; undoes the ways a submission could skip or
  rewrite test code or replace what tests call (:func:`reset_shell`: IPython input and
  AST transformers, custom exception handlers, event callbacks, trace hooks, the number
  formatter; :func:`reload_from_disk`: the reference and grading modules), then re-runs
  the tests' imports and installs the tripwire afresh.
- :func:`forget`: after each hidden block; drops its source from ``linecache`` and the
  last traceback, so later code cannot read the hidden test back.
- :func:`tripwire_report`: after each test cell; what the own-work tripwire
  (:mod:`.tripwire`) saw.

**How it gets into the kernel.** The kernel never imports this module: a submission could
have replaced it in ``sys.modules`` or patched its functions. Instead the grader reads
this file and sends its whole source with every call (:func:`.injected.call`), compiled
and run in a fresh namespace inside the kernel, as the kernel's ``user_expressions`` for
the guard, ``forget`` and the report: those are evaluated with ``eval``, so no input or
AST transformer a submission installed can rewrite them, and they leave no trace in the
input history. So this module must stand alone: standard-library imports at the top,
IPython and ``cnncourse`` imported inside functions (absolutely, by name), and everything
else passed as arguments (literals only) or kept in the constants below. In the grader
and in the unit tests it is an ordinary module.
"""

from __future__ import annotations

import hashlib
import importlib
import linecache
import os
import sys
import types

# The trusted modules, imported by the preamble before any learner code, and reloaded
# from disk by the guard before each test, in this order (a module after those it imports
# names from), followed by every module of the checks package (the grader lists them all:
# see injected.reloaded_modules).
# Their classes are kept across a reload (see reload_from_disk).
RELOADED_MODULES = (
    "cnncourse.nn.validation",
    "cnncourse.nn.gradcheck",
    "cnncourse.nn.functional",
    "cnncourse.nn.naive",
    "cnncourse.grading.checking",
)
CHECKS_PACKAGE = "cnncourse.grading.checks"
TRUSTED_IMPORTS = ("numpy", "cnncourse", "cnncourse.nn")
# Event callbacks from these packages survive the guard; any other is removed.
TRUSTED_CALLBACK_PACKAGES = (
    "IPython",
    "ipykernel",
    "matplotlib",
    "matplotlib_inline",
    "ipywidgets",
    "comm",
    "jupyter_client",
)
TRIPWIRE = "cnncourse.grading.tripwire"
# Class attributes that belong to one class object and are never copied to another.
_OWN_ATTRIBUTES = ("__dict__", "__weakref__")


# --------------------------------------------------------------------------- preamble


def preamble(modules: tuple[str, ...], tripwire_config: dict | None = None) -> None:
    """Before the notebook's first cell: import the trusted modules first (``modules``: the
    grader's list, :func:`.injected.reloaded_modules`), install the own-work tripwire
    (``tripwire_config``: see :func:`.injected.tripwire_config`; empty: nothing to
    install), then let the working folder's own modules be imported."""
    for name in (*TRUSTED_IMPORTS, *modules):
        importlib.import_module(name)
    if tripwire_config:
        try:  # the static check does not depend on it: never let it stop the notebook
            importlib.import_module(TRIPWIRE).install(tripwire_config)
        except Exception:
            pass
    sys.path.append(os.getcwd())


# --------------------------------------------------------------------------- guard


def guard(imports: str, modules: tuple[str, ...], tripwire_config: dict | None = None, shell=None) -> None:
    """Before each test cell: reset the shell, reload the trusted ``modules`` from disk (the
    grader's list, :func:`.injected.reloaded_modules`), re-run the tests' ``imports`` in the
    learner's namespace, and install the own-work tripwire afresh (from disk) over the
    reloaded modules. ``shell``: IPython's (the default)."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    reset_shell(shell)
    reset_hooks()
    for name in modules:
        reload_from_disk(name)
    exec(imports, shell.user_ns)
    if tripwire_config:
        previous = sys.modules.pop(TRIPWIRE, None)
        try:
            importlib.import_module(TRIPWIRE).install(tripwire_config, shell.user_ns, previous)
        except Exception:
            pass


def reset_shell(shell) -> None:
    """Undo what a submission could install in IPython to skip or rewrite test code: input
    and AST transformers, custom exception handlers, event callbacks of untrusted
    packages, and the number formatter (``%precision``, a custom printer)."""
    from IPython.core.formatters import PlainTextFormatter
    from IPython.core.inputtransformer2 import TransformerManager

    shell.input_transformer_manager = TransformerManager()
    shell.input_transformers_post = []
    shell.ast_transformers = []
    shell.set_custom_exc((), None)
    for callbacks in shell.events.callbacks.values():
        callbacks[:] = [cb for cb in callbacks if is_trusted_callback(cb)]
    shell.display_formatter.formatters["text/plain"] = PlainTextFormatter(parent=shell.display_formatter)


def is_trusted_callback(callback) -> bool:
    """Whether an IPython event callback comes from a package the notebook relies on."""
    module = getattr(callback, "__module__", None) or ""
    return module.split(".")[0] in TRUSTED_CALLBACK_PACKAGES


def reset_hooks() -> None:
    """Remove the trace and profile functions (which could see and change every frame)."""
    sys.settrace(None)
    sys.setprofile(None)


def reload_from_disk(name: str) -> types.ModuleType:
    """Run the module ``name`` again from its file, undoing any monkeypatch, and bind it
    (and the functions its package re-exports from it) on its package again.

    A module that is missing, or was replaced by something that is not it, is imported
    afresh. Otherwise it is reloaded in place, and each class it defined is then put back
    (see :func:`keep_classes`): objects made before the reload, such as a
    :class:`.checking.Case` built in a setup cell, are still instances of the module's
    classes after it.
    """
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    if module is None or spec is None or spec.name != name:
        sys.modules.pop(name, None)
        module = importlib.import_module(name)
    else:
        classes = own_classes(module, name)
        try:
            module = importlib.reload(module)
        finally:
            keep_classes(module, classes)
    package_name, _, attr = name.rpartition(".")
    package = importlib.import_module(package_name)
    setattr(package, attr, module)
    for key in dir(package):  # names the package re-exports from this module
        value = vars(module).get(key)
        if isinstance(value, types.FunctionType) and not key.startswith("_"):
            setattr(package, key, value)
    return module


def own_classes(module: types.ModuleType, name: str) -> dict[str, type]:
    """The plain classes (metaclass ``type``) the module ``name`` defines, by their name."""
    found = {}
    for key, value in list(vars(module).items()):
        if type(value) is type and value.__module__ == name and value.__qualname__ == key:
            found[key] = value
    return found


def keep_classes(module: types.ModuleType, classes: dict[str, type]) -> None:
    """After a reload: put each class of ``classes`` (from before it) back in ``module``
    in place of the class of the same name the reload made, with that class's attributes
    (methods, fields, ...) copied onto it, so it behaves as if just loaded from disk.

    A class is kept only if the reloaded one is its like: a plain class with the same name
    and the same bases; otherwise the reloaded class stays. Attributes a submission
    added are removed. Methods are the reloaded class's functions, so a method that
    refers to its class through a closure (``super()``, a frozen dataclass's
    ``__setattr__``) would see the reloaded class: the classes of the modules the guard
    reloads have none.
    """
    namespace = vars(module)
    for key, old in classes.items():
        new = namespace.get(key)
        if (
            new is old
            or type(new) is not type
            or new.__qualname__ != old.__qualname__
            or old.__bases__ != new.__bases__
        ):
            continue
        fresh = {k: v for k, v in vars(new).items() if k not in _OWN_ATTRIBUTES}
        if any(
            isinstance(v, types.MemberDescriptorType | types.GetSetDescriptorType) for v in fresh.values()
        ):
            continue  # __slots__: the descriptors belong to the new class's layout
        for attr in [k for k in vars(old) if k not in fresh and k not in _OWN_ATTRIBUTES]:
            type.__delattr__(old, attr)
        for attr, value in fresh.items():
            type.__setattr__(old, attr, value)
        namespace[key] = old


# --------------------------------------------------------------------------- forget


def forget(digests, shell=None) -> None:
    """After a hidden block: drop from ``linecache`` every entry whose text has one of the
    SHA-256 ``digests`` (the forms in which IPython may have stored the block), and the
    last exception and traceback, so that later code cannot read the block back."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    wanted = set(digests)
    for key, entry in list(linecache.cache.items()):
        lines = entry[2] if isinstance(entry, tuple) and len(entry) > 2 else None
        if lines and hashlib.sha256("".join(lines).encode()).hexdigest() in wanted:
            del linecache.cache[key]
    sys.last_type = sys.last_value = sys.last_traceback = None
    if hasattr(sys, "last_exc"):
        sys.last_exc = None
    shell._last_traceback = None


# --------------------------------------------------------------------------- after a test


def tripwire_report() -> str:
    """The tripwire's violations since the last report, as JSON (``"[]"`` when it is not
    installed); the grader reads them with :func:`.own_work.parse_kernel_report`."""
    module = sys.modules.get(TRIPWIRE)
    return module.report() if module is not None else "[]"
