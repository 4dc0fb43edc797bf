"""Inside the kernel: a learner's answer that calls a forbidden reference raises.

The grader's preamble calls :func:`install` before any learner code runs, and the guard
calls it again before each test (after reloading the reference modules, which makes new
function objects). :func:`install` wraps every forbidden callable of the notebook (see
:mod:`.own_work`) where it is defined and wherever it is re-exported, in place:
functions, the methods of classes, the public functions and classes of a forbidden module
(those of ``tensorflow`` and ``keras`` are too many: they are left to the static check).

A wrapped callable looks at the call stack. Walking out from its caller, frames of the
Python environment and of cnncourse, the learner's added cells and files, and functions
the source's cells define (``reference_correlate2d``) are passed over; the top-level
code of a setup or test cell allows the call, and so does a solution cell's own
top-level code (a self-check); the first frame of a *function* of a learner's solution
cell (or of a function bound to one of its exercise names) decides: when that cell
forbids the callable, the call raises
:class:`OwnWorkError` ("conv2d_forward called cnncourse.nn.functional.conv2d_forward; the
exercise is to write it yourself"), so only the part of the test that called it fails,
and the violation is recorded. Cells are recognised by the SHA-256 of their text in
``linecache`` (the grader passes digests only, never the hidden tests' code).

Before each test, :func:`install` also looks at the learner's globals: an exercise name
that *is* a forbidden callable (``conv2d_forward = F.conv2d_forward``, a
``functools.partial`` of it, a bound method) is a violation, and other globals holding a
forbidden callable are replaced by its wrapper. :func:`report` hands the violations to the
grader (``kernel_side.tripwire_report``, sent by ``injected.after_test``).

Everything here runs in the learner's process, so a determined submission can undo it;
the static check of :mod:`.own_work` is the layer the grader trusts.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import linecache
import os
import sys
import sysconfig
import types

__all__ = ["OwnWorkError", "install", "report"]

MESSAGE_END = "the exercise is to write it yourself"
MARK = "__cnncourse_tripwire__"
TOO_BIG = ("tensorflow", "keras")  # module entries here are left to the static check
SOURCE, SOLUTION, LIBRARY, LEARNER = "source", "solution", "library", "learner"
MAX_VIOLATIONS = 20


class OwnWorkError(Exception):
    """Raised when a learner's answer calls a reference it must write itself."""


class _Cell:
    def __init__(self, gid: str, data: dict):
        self.gid = gid
        self.forbidden = set(data.get("forbidden", ()))
        self.names = tuple(data.get("names", ()))


class _Covered:
    """A wrapped callable: the entries that forbid it and the name to show."""

    def __init__(self, original, display: str):
        self.original = original
        self.display = display
        self.entries: dict[str, str | None] = {}  # entry text -> argument (or None)


_cells: dict[str, _Cell] = {}
_digest_cell: dict[str, str] = {}
_source: set[str] = set()
_files: dict[str, tuple[str, str | None]] = {}
_codes: dict[types.CodeType, str] = {}
_covered: dict[int, _Covered] = {}
_by_name: dict[str, _Covered] = {}  # "module.qualname" -> what covers it (survives reloads)
_wrappers: dict[int, object] = {}
_violations: list[dict] = []
_alias_owner: dict[str, str] = {}  # display name -> the cell whose exercise name it is
_trusted: tuple[str, ...] = ()


# --------------------------------------------------------------------------- install


def install(config: dict, namespace: dict | None = None, previous=None) -> None:
    """Wrap the forbidden callables of ``config`` and check ``namespace``.

    config: ``{"cells": {grade_id: {"forbidden": [...], "names": [...], "digests":
    [...]}}, "source": [digests of the setup and test cells]}``. previous: the module this
    one replaces (the guard imports it afresh from disk); its unreported violations are
    kept. Wrappers made by an earlier import check with the module imported last.
    """
    global _trusted
    for item in list(getattr(previous, "_violations", None) or [])[:MAX_VIOLATIONS]:
        if isinstance(item, dict) and all(
            isinstance(item.get(k), str) for k in ("cell", "who", "ref", "how")
        ):
            _record(item["cell"], item["who"], item["ref"], item["how"])
    for state in (_cells, _digest_cell, _source, _files, _codes, _covered, _by_name, _wrappers, _alias_owner):
        state.clear()
    for gid, data in (config.get("cells") or {}).items():
        _cells[gid] = _Cell(gid, data)
        for digest in data.get("digests", ()):
            _digest_cell[digest] = gid
    _source.update(config.get("source", ()))
    _trusted = _trusted_dirs()
    entries: dict[str, tuple[str, str | None]] = {}
    for cell in _cells.values():
        for text in cell.forbidden:
            name, _, arg = text.partition("(")
            entries[text] = (name, arg.rstrip(")") or None)
    roots = {"cnncourse"}
    for text, (name, arg) in entries.items():
        roots.add(name.split(".")[0])
        try:
            _cover(text, name, arg)
        except Exception:  # a broken or half-imported module: the static check remains
            pass
    _reexports(roots)
    if namespace is not None:
        check_namespace(namespace)


def _trusted_dirs() -> tuple[str, ...]:
    dirs = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            dirs.add(sysconfig.get_paths()[key])
        except KeyError:
            pass
    return tuple(os.path.realpath(d) + os.sep for d in dirs if d)


def _imported(name: str):
    """The object a dotted name stands for, from modules already imported (no imports)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is None:
            continue
        parent, obj = None, module
        for part in parts[i:]:
            parent, obj = obj, getattr(obj, part)
        return parent, obj
    return None


def _original(value):
    """What a wrapper wraps (the value itself otherwise); never runs ``__getattr__``."""
    if not isinstance(value, types.FunctionType):
        return value
    return value.__dict__.get(MARK, value)


def _cover(text: str, name: str, arg: str | None) -> None:
    found = _imported(name)
    if found is None:
        return
    parent, obj = found
    obj = _original(obj)
    if isinstance(obj, types.ModuleType):
        if name.split(".")[0] in TOO_BIG:
            return
        prefix = obj.__name__
        modules = [obj] + [
            m
            for n, m in sorted(sys.modules.items())
            if n.startswith(prefix + ".") and isinstance(m, types.ModuleType)
        ]
        for module in modules:
            for key, value in list(vars(module).items()):
                value = _original(value)
                if key.startswith("_") or not (getattr(value, "__module__", "") or "").startswith(prefix):
                    continue
                shown = _qualified(value) or ""
                if any(part.startswith("_") for part in shown.split(".")):
                    shown = f"{module.__name__}.{key}"  # scipy.signal._signaltools...
                if isinstance(value, types.FunctionType):
                    _wrap_attr(module, key, value, shown, text, arg)
                elif isinstance(value, type):
                    _wrap_class(value, shown, text, prefix)
    elif isinstance(obj, type):
        _wrap_class(obj, name, text, name.split(".")[0])
    elif isinstance(obj, types.FunctionType) and parent is not None:
        _wrap_attr(parent, name.rpartition(".")[2], obj, name, text, arg)


def _qualified(obj) -> str | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) else None


def _covered_for(original, display: str) -> _Covered:
    info = _covered.get(id(original))
    if info is None or info.original is not original:
        info = _covered[id(original)] = _Covered(original, display)
        name = _qualified(original)
        if name:
            _by_name.setdefault(name, info)
    return info


def _lookup(value) -> _Covered | None:
    """What covers a callable: the same object, or (for a function of the Python
    environment made before the guard reloaded its module) one of the same name."""
    info = _covered.get(id(value))
    if info is not None and info.original is value:
        return info
    code = getattr(value, "__code__", None)
    if (
        isinstance(value, types.FunctionType)
        and isinstance(code, types.CodeType)
        and _classify_file(code.co_filename)[0] == LIBRARY
    ):
        return _by_name.get(_qualified(value) or "")
    return None


def _wrap_attr(owner, key: str, original, display: str, text: str, arg: str | None) -> None:
    info = _covered_for(original, display)
    info.entries.setdefault(text, arg)
    wrapper = _wrapper(original, info)
    if isinstance(owner, type) or isinstance(owner, types.ModuleType):
        setattr(owner, key, wrapper)


def _wrap_class(cls: type, display: str, text: str, root: str) -> None:
    """Wrap a class's methods on the class itself (isinstance keeps working)."""
    mro = [k for k in cls.__mro__ if k is not object]
    if any(not (k.__module__ or "").startswith(root) for k in mro):
        return  # built on a foreign class (a Keras layer...): its machinery inspects methods
    info = _covered_for(cls, display)
    info.entries.setdefault(text, None)
    done = set()
    for klass in mro:
        for key, value in list(vars(klass).items()):
            if key in done:
                continue
            done.add(key)
            value = _original(value)
            if not isinstance(value, types.FunctionType):
                continue
            if key.startswith("__") and key not in ("__init__", "__call__"):
                continue
            shown = display if key == "__init__" else f"{display}.{key}"
            method = _covered_for(value, shown)
            method.entries.setdefault(text, None)
            setattr(cls, key, _wrapper(value, method))


def _wrapper(original, info: _Covered):
    key = id(original)
    existing = _wrappers.get(key)
    if existing is not None and getattr(existing, MARK, None) is original:
        return existing

    def tripwire(*args, **kwargs):
        live = sys.modules.get(__name__)  # the guard re-imports this module before each test
        check = getattr(live, "_check", None)
        message = (check if callable(check) else _check)(info, args, kwargs)
        if message:
            error = getattr(live, "OwnWorkError", OwnWorkError)
            raise (error if isinstance(error, type) and issubclass(error, Exception) else OwnWorkError)(
                message
            )
        return original(*args, **kwargs)

    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        try:
            setattr(tripwire, attr, getattr(original, attr))
        except (AttributeError, TypeError):
            pass
    try:
        tripwire.__signature__ = inspect.signature(original)
    except (TypeError, ValueError):
        pass
    setattr(tripwire, MARK, original)
    _wrappers[key] = tripwire
    return tripwire


def _reexports(roots: set[str]) -> None:
    """Put the wrappers wherever a module re-exports a wrapped function."""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in roots or not isinstance(module, types.ModuleType):
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for key, value in items:
            if not isinstance(value, types.FunctionType):
                continue
            original = _original(value)
            info = _covered.get(id(original))
            if info is None or info.original is not original:
                continue
            wrapper = _wrappers.get(id(original))
            if wrapper is not None and value is not wrapper:
                try:
                    setattr(module, key, wrapper)
                except (AttributeError, TypeError):
                    pass


# --------------------------------------------------------------------------- the learner's globals


def _underlying(value, depth: int = 0):
    """What a global really calls: through partials, bound methods and wrappers."""
    if depth > 5:
        return value
    try:
        if isinstance(value, types.MethodType):
            return _underlying(value.__func__, depth + 1)
        func = getattr(value, "func", None)
        if type(value).__name__ == "partial" and callable(func):
            return _underlying(func, depth + 1)
        return _original(value)
    except Exception:  # a proxy that refuses attribute access
        return value


def check_namespace(namespace: dict) -> None:
    """Aliases of forbidden callables under exercise names are violations; other globals
    holding one get its wrapper; functions bound to exercise names count as the cell's."""
    for cell in _cells.values():
        for name in cell.names:
            value = namespace.get(name)
            if value is None:
                continue
            info = _lookup(_underlying(value))
            if info is not None:
                # Judged with this cell: another cell calling it is not delegating.
                _alias_owner.setdefault(info.display, cell.gid)
                hit = [t for t, arg in info.entries.items() if t in cell.forbidden and not arg]
                if hit:
                    _record(cell.gid, name, info.display, "is")
            code = getattr(value, "__code__", None)
            if isinstance(code, types.CodeType) and _classify_file(code.co_filename)[0] in (LEARNER,):
                _codes[code] = cell.gid
    for key, value in list(namespace.items()):
        if isinstance(value, types.FunctionType):
            info = _lookup(_original(value))
            wrapper = _wrappers.get(id(info.original)) if info is not None else None
            if wrapper is not None and value is not wrapper:
                namespace[key] = wrapper


# --------------------------------------------------------------------------- calls


def _classify_file(filename: str) -> tuple[str, str | None]:
    known = _files.get(filename)
    if known is not None:
        return known
    entry = linecache.cache.get(filename)
    if isinstance(entry, tuple) and len(entry) > 2 and entry[1] is None and isinstance(entry[2], list):
        digest = hashlib.sha256("".join(entry[2]).encode()).hexdigest()
        if digest in _digest_cell:
            result = (SOLUTION, _digest_cell[digest])
        elif digest in _source:
            result = (SOURCE, None)
        else:
            result = (LEARNER, None)
        _files[filename] = result
        return result
    if filename.startswith("<frozen "):
        return LIBRARY, None
    if filename.startswith("<"):
        return LEARNER, None
    result = (LIBRARY, None) if os.path.realpath(filename).startswith(_trusted) else (LEARNER, None)
    _files[filename] = result
    return result


def _arg_passed(original, arg: str, args, kwargs) -> bool:
    try:
        signature = inspect.signature(original)
        bound = signature.bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return arg in kwargs
    if arg not in bound.arguments:
        return False
    default = signature.parameters[arg].default
    try:
        return bool(bound.arguments[arg] != default)
    except Exception:  # an array compared with the default
        return True


def _check(info: _Covered, args, kwargs) -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        gid = _codes.get(code)
        kind = SOLUTION if gid is not None else None
        if kind is None:
            kind, gid = _classify_file(code.co_filename)
        if kind == SOURCE:
            if code.co_name == "<module>":
                return None  # a setup or test cell's own code
            frame = frame.f_back  # a function the tests define: whoever called it decides
            continue
        if kind == SOLUTION:
            if code.co_name == "<module>":
                return None  # the cell's own top-level code (a self-check), not an answer
            cell = _cells.get(gid)
            if cell is None or _alias_owner.get(info.display, gid) != gid:
                return None
            for text, arg in info.entries.items():
                if text in cell.forbidden and (arg is None or _arg_passed(info.original, arg, args, kwargs)):
                    who = code.co_name if code.co_name != "<lambda>" else f"a lambda in your cell {gid!r}"
                    shown = info.display + (f" with {arg}=..." if arg else "")
                    _record(gid, who, shown, "called")
                    return f"{who} called {shown}; {MESSAGE_END}"
            return None
        frame = frame.f_back
    return None


def _record(gid: str, who: str, ref: str, how: str) -> None:
    item = {"cell": gid, "who": who, "ref": ref, "how": how}
    if item not in _violations and len(_violations) < MAX_VIOLATIONS:
        _violations.append(item)


def report() -> str:
    """The violations recorded since the last report, as JSON (then forgotten)."""
    out = json.dumps(_violations)
    _violations.clear()
    return out
