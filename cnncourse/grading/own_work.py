"""Own work: an answer that delegates to the reference implementation earns nothing.

Each solution cell of a source notebook declares what its answer may not use, in its
metadata::

    "metadata": {"cnncourse": {"forbidden": ["cnncourse.nn.functional.conv2d_forward",
                                             "cnncourse.nn.naive.conv2d_forward",
                                             "scipy.signal"]}, "nbgrader": {...}}

Entries are dotted names of functions, classes, methods or whole modules, optionally with
one argument in parentheses: ``"cnncourse.keras.pretrained.load_pretrained(freeze)"``
allows the call but not passing ``freeze``. An empty list declares that nothing is
forbidden. The declaration is kept in the released exercise, so ``cnncourse check`` on a
learner's notebook judges like ``cnncourse grade``.

The *exercise names* of a solution cell are the names its test cells' public code loads
that no setup or test cell defines (``conv2d_forward``): what the tests take from the
learner. Two layers check that they are the learner's own work:

- **statically, here** (outside the kernel, so nothing the submission does can change
  it): every learner cell is parsed. A cell's answer is zeroed when a binding of one of
  its exercise names, in any learner cell, uses a forbidden name (an attribute chain,
  bare name, ``getattr`` with a constant, import or alias of it, resolved through the
  notebook's imports and simple assignments, re-exports included), directly or through a
  helper the learner defined; when the solution cell uses an escape hatch that reaches
  code dynamically (``exec``, ``__import__``, ``importlib``, ``sys.modules``,
  ``__globals__``, ``getattr`` on a module with a computed name, a module of the
  learner's own, ...), or a helper it uses does.
- **in the kernel** (:mod:`.tripwire`): the forbidden callables are wrapped, so a call
  from the learner's function raises and is reported back (``injected.after_test``).

A finding zeroes the test cells between the solution cell and the next solution cell.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.machinery
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

METADATA_KEY = "cnncourse"
FORBIDDEN_KEY = "forbidden"
ENTRY = re.compile(r"^(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\((?P<arg>[A-Za-z_]\w*)\))?$")

# Re-exports that hide the real module behind another name.
REEXPORTS = {
    "cnncourse.keras._tf.keras": "keras",
    "cnncourse.keras._tf.tf": "tensorflow",
    "tensorflow.keras": "keras",
    "tf_keras": "keras",
}
# Builtins and modules that reach objects dynamically, out of a static check's sight.
HATCH_NAMES = {
    "__import__",
    "exec",
    "eval",
    "compile",
    "globals",
    "vars",
    "get_ipython",
    "__builtins__",
    "__loader__",
    "__spec__",
}
HATCH_ATTRS = {
    "__dict__",
    "__globals__",
    "__closure__",
    "__code__",
    "__wrapped__",
    "__builtins__",
    "__subclasses__",
    "__getattribute__",
    "__import__",
    "__loader__",
    "__spec__",
    "__self__",
    "__func__",
    "__reduce__",
    "__reduce_ex__",
    "f_globals",
    "f_locals",
    "f_back",
    "f_builtins",
    "gi_frame",
    "cr_frame",
    "tb_frame",
    "__cnncourse_tripwire__",
}
HATCH_PATHS = (
    "importlib",
    "imp",
    "runpy",
    "pkgutil",
    "zipimport",
    "builtins",
    "ctypes",
    "gc",
    "inspect",
    "pickle",
    "_pickle",
    "marshal",
    "dill",
    "cloudpickle",
    "shelve",
    "copyreg",
    "sys.modules",
    "sys._getframe",
    "sys.meta_path",
    "sys.path_hooks",
    "sys.path_importer_cache",
    "sys.settrace",
    "sys.setprofile",
    "operator.attrgetter",
    "operator.methodcaller",
    "IPython.get_ipython",
    "IPython.core.getipython",
    "IPython.core.interactiveshell",
    # The checks hold references (and private helpers that compute answers) for the
    # tests; an answer has no business calling them.
    "cnncourse.grading.checks",
    "cnncourse.grading.checking",
    "cnncourse.grading.tripwire",
    "cnncourse.grading.own_work",
    "cnncourse.grading.injected",
    "cnncourse.grading.kernel_side",
    "types.FunctionType",
    "types.CodeType",
)
# Magics whose argument is code (analysed as if written out), and magics that are harmless.
CODE_LINE_MAGICS = {"time", "timeit"}
CODE_CELL_MAGICS = {"time", "timeit", "capture"}
HARMLESS_LINE_MAGICS = {
    "matplotlib",
    "precision",
    "pinfo",
    "pinfo2",
    "who",
    "whos",
    "who_ls",
    "pwd",
    "ls",
    "lsmagic",
    "magic",
    "pip",
    "conda",
    "history",
    "xmode",
    "autoreload",
}
HARMLESS_CELL_MAGICS = {"html", "HTML", "markdown", "latex", "svg", "writefile"}
# Modules that may be imported in the grader to compare objects (cheap, and trusted).
_CHEAP_ROOTS = ("cnncourse", "numpy", "scipy", "skimage")
_HEAVY_PREFIXES = ("cnncourse.keras", "cnncourse.widgets", "keras", "tensorflow")
MESSAGE_END = "the exercise is to write it yourself"


# --------------------------------------------------------------------------- declaration


@dataclass(frozen=True)
class Entry:
    """One forbidden reference: ``name`` (dotted) and, optionally, the argument ``arg``."""

    text: str
    name: str
    arg: str | None = None

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]


def parse_entry(text) -> Entry | None:
    match = ENTRY.match(text) if isinstance(text, str) else None
    return Entry(text, match["name"], match["arg"]) if match else None


def _meta(cell) -> dict | None:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    value = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else None


def forbidden_of(cell) -> tuple[str, ...]:
    """The cell's declared forbidden references (malformed entries are left out)."""
    meta = _meta(cell)
    value = meta.get(FORBIDDEN_KEY) if meta else None
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(e for e in value if parse_entry(e)))


def declaration_problems(cell, where: str) -> list[str]:
    """What is wrong with a solution cell's declaration (the format checks)."""
    meta = _meta(cell)
    if meta is None or FORBIDDEN_KEY not in meta:
        return [
            f"{where}: a solution cell must declare metadata.{METADATA_KEY}."
            f"{FORBIDDEN_KEY}: the references its answer may not use (an empty list "
            "when there are none)"
        ]
    value = meta[FORBIDDEN_KEY]
    if not isinstance(value, list):
        return [
            f"{where}: metadata.{METADATA_KEY}.{FORBIDDEN_KEY} must be a list of dotted "
            f"names; got {type(value).__name__}"
        ]
    problems = []
    seen = set()
    for entry in value:
        if not parse_entry(entry):
            problems.append(
                f"{where}: forbidden entry {entry!r} is not a dotted name like "
                "'package.module.function' (optionally with '(argument)')"
            )
        elif entry in seen:
            problems.append(f"{where}: forbidden entry {entry!r} is listed twice")
        seen.add(entry)
    return problems


def resolve_entry(text: str):
    """Import and return the object an entry names (raises ``ValueError`` if none).

    Used by the tests (importing TensorFlow is too slow for every format check).
    """
    entry = parse_entry(text)
    if entry is None:
        raise ValueError(f"{text!r} is not a dotted name")
    parts = entry.name.split(".")
    obj, found = None, 0
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        found = i
        break
    if obj is None:
        raise ValueError(f"{text!r}: no module {parts[0]!r} can be imported")
    for part in parts[found:]:
        if not hasattr(obj, part):
            raise ValueError(f"{text!r}: {'.'.join(parts[:found])} has no attribute {part!r}")
        obj = getattr(obj, part)
        found += 1
    if entry.arg is not None:
        import inspect

        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{text!r}: cannot read the signature ({exc})") from None
        if entry.arg not in params:
            raise ValueError(f"{text!r}: {entry.name} has no parameter {entry.arg!r}")
    return obj


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """Why a solution cell's answer is not the learner's own work."""

    cell: str  # the solution cell's grade_id
    message: str


@dataclass
class _Ref:
    kind: str  # "path", "leaf", "star" or "hatch"
    text: str  # the dotted path, the attribute name, or what the hatch is
    call: ast.Call | None = None  # the call, when the reference is called
    func: str = ""  # the enclosing function ("" at top level)
    top: bool = True  # runs when the statement runs (not inside a function body)
    import_: bool = False  # comes from an import statement


@dataclass
class _Flow:
    """What flows into the names one statement (or part of one) binds."""

    names: set[str]
    refs: list[_Ref] = field(default_factory=list)
    uses: set[str] = field(default_factory=set)  # learner globals whose values flow in
    who: str = ""  # the function it defines, if any


@dataclass
class _Unit:
    """One top-level statement of a learner cell."""

    cell: int  # index of the step
    flows: list[_Flow]
    refs: list[_Ref]  # everything it references
    top_uses: set[str]  # globals it uses while it runs (not in function bodies)


# --------------------------------------------------------------------------- parsing


@lru_cache(maxsize=2048)
def _parse(code: str) -> ast.Module | None:
    """The cell's code as IPython runs it, magics replaced (cached: trees are only read)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(code))
    except (SyntaxError, ValueError, TypeError):
        return None
    except Exception:  # IPython's transformers on malformed input; the kernel fails too
        return None
    return _Magics().visit(tree)


def _parse_code(text: str) -> list[ast.stmt] | None:
    """Statements of a magic's code argument; leading ``-x [n]`` options are dropped."""
    words = text.split(" ")
    for start in range(len(words)):
        if start and not words[start - 1].startswith("-") and not words[start - 1].isdigit():
            break
        try:
            return ast.parse(" ".join(words[start:]).strip() or "pass").body
        except SyntaxError:
            continue
    return None


def _magic(node) -> tuple[str, list[str]] | None:
    """``(method, constant args)`` of ``get_ipython().method("...", ...)``, else None."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "get_ipython"
        and not node.keywords
    ):
        return None
    args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
    if any(a is None for a in args):
        return None
    return node.func.attr, args


class _Magics(ast.NodeTransformer):
    """Replace IPython magics: code magics by their code, harmless ones by nothing."""

    def _statements(self, call) -> list[ast.stmt] | None:
        magic = _magic(call)
        if magic is None:
            return None
        method, args = magic
        if method == "run_line_magic" and len(args) == 2:
            name, line = args
            if name in CODE_LINE_MAGICS:
                return _parse_code(line)
            if name in HARMLESS_LINE_MAGICS and not re.search(r"[{$]", line):
                return []
        if method == "run_cell_magic" and len(args) == 3:
            name, line, cell = args
            if name in CODE_CELL_MAGICS:
                body = _parse_code(cell)
                return None if body is None else body
            if name in HARMLESS_CELL_MAGICS and not re.search(r"[{$]", line):
                return []
        if method in ("system", "getoutput") and args and not re.search(r"[{$]", args[0]):
            return []
        return None

    def visit_Expr(self, node):
        body = self._statements(node.value)
        if body is None:
            return self.generic_visit(node)
        return [self.visit(s) for s in body] or ast.Pass()

    def visit_Assign(self, node):
        body = self._statements(node.value)
        if body is None:
            return self.generic_visit(node)
        if not body:
            node.value = ast.Constant(None)
        elif len(body) == 1 and isinstance(body[0], ast.Expr):
            node.value = body[0].value
        else:
            return [*(self.visit(s) for s in body), node]
        return node


# --------------------------------------------------------------------------- scopes


def _target_names(node) -> set[str]:
    """Names a target (or any store context below it) binds, attribute bases included."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            out.add(sub.id)
        elif isinstance(sub, ast.Attribute | ast.Subscript) and isinstance(sub.ctx, ast.Store):
            base = sub
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif isinstance(sub, ast.Starred) and isinstance(sub.value, ast.Name):
            out.add(sub.value.id)
    return out


def _import_bindings(node) -> list[tuple[str, str]]:
    """``(bound name, dotted path)`` of an import statement (relative imports: none)."""
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                out.append((alias.asname, alias.name))
            else:
                top = alias.name.split(".")[0]
                out.append((top, top))
    elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
        for alias in node.names:
            if alias.name != "*":
                out.append((alias.asname or alias.name, f"{node.module}.{alias.name}"))
    return out


def _nested_body(node) -> Iterable[ast.AST]:
    """The nodes of a scope's body, without the bodies of nested scopes."""
    stack = list(node.body) if isinstance(node.body, list) else [node.body]
    while stack:
        sub = stack.pop()
        yield sub
        if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stack.extend(sub.decorator_list)
            if not isinstance(sub, ast.ClassDef):
                stack.extend(d for d in sub.args.defaults + sub.args.kw_defaults if d)
            continue
        if isinstance(sub, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            continue
        stack.extend(ast.iter_child_nodes(sub))


class _Scope:
    def __init__(self, node, is_class: bool = False):
        self.is_class = is_class
        self.locals: set[str] = set()
        self.aliases: dict[str, list] = {}
        self.declared_global: set[str] = set()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None:
                    self.locals.add(arg.arg)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            for gen in node.generators:
                self.locals |= _target_names(gen.target)
            return
        if isinstance(node, ast.Lambda):
            return
        for sub in _nested_body(node):
            if isinstance(sub, ast.Global):
                self.declared_global.update(sub.names)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                self.locals.add(sub.id)
            elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.locals.add(sub.name)
            elif isinstance(sub, ast.Import | ast.ImportFrom):
                for name, path in _import_bindings(sub):
                    self.locals.add(name)
                    self.aliases.setdefault(name, []).append(path)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                self.locals.add(sub.name)
            elif (
                isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name)
            ):
                self.aliases.setdefault(sub.targets[0].id, []).append(sub.value)
        self.locals -= self.declared_global


# --------------------------------------------------------------------------- the analysis


class _Analysis:
    """Bindings and references of a plan's cells; see :func:`check_plan`."""

    def __init__(self, cells: list[tuple[ast.Module, bool]], opaque: Iterable[str] = ()):
        self.cells = cells  # (tree, written by the learner)
        # Other solution cells' exercise names: whatever they are bound to is judged
        # with those cells, not with the one being checked.
        self.opaque = set(opaque)
        self.global_aliases: dict[str, list[tuple[object, bool]]] = {}
        self.learner_own: set[str] = set()  # learner globals bound otherwise than as aliases
        self.star_modules: list[str] = []
        for tree, learner in cells:
            for stmt in tree.body:
                self._collect_aliases(stmt, learner)
        self._resolving: set[str] = set()
        self._memo: dict[str, frozenset[str]] = {}

    def _collect_aliases(self, stmt, learner: bool) -> None:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            for name, path in _import_bindings(stmt):
                self.global_aliases.setdefault(name, []).append((path, learner))
            if (
                isinstance(stmt, ast.ImportFrom)
                and any(a.name == "*" for a in stmt.names)
                and stmt.module
                and not stmt.level
            ):
                self.star_modules.append(stmt.module)
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self.global_aliases.setdefault(stmt.targets[0].id, []).append((stmt.value, learner))
            return
        if not learner:
            return
        for node in self._top_nodes(stmt):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.learner_own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.learner_own.add(node.id)

    @staticmethod
    def _top_nodes(stmt) -> Iterable[ast.AST]:
        stack = [stmt]
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
                continue
            stack.extend(ast.iter_child_nodes(node))

    # -- resolution

    def resolve_global(self, name: str) -> frozenset[str]:
        if name in self._memo:
            return self._memo[name]
        if name in self._resolving or name in self.opaque:
            return frozenset()
        self._resolving.add(name)
        out: set[str] = set()
        bound = name in self.global_aliases or name in self.learner_own
        for value, learner in self.global_aliases.get(name, []):
            if not learner and name in self.learner_own:
                continue  # the learner's own definition replaces the source's
            if isinstance(value, str):
                out.add(value)
            else:
                out |= self.resolve_expr(value, []) or set()
        if not bound and not hasattr(builtins, name):
            out |= {f"{module}.{name}" for module in self.star_modules}
        self._resolving.discard(name)
        self._memo[name] = frozenset(out)
        return self._memo[name]

    def resolve_name(self, name: str, scopes: list[_Scope]) -> set[str] | None:
        """Dotted paths a name may stand for; None for a local or an unknown value."""
        for depth in range(len(scopes) - 1, -1, -1):
            scope = scopes[depth]
            if scope.is_class and depth != len(scopes) - 1:
                continue
            if name in scope.aliases:
                out: set[str] = set()
                for value in scope.aliases[name]:
                    if isinstance(value, str):
                        out.add(value)
                    elif not (isinstance(value, ast.Name) and value.id == name):
                        out |= self.resolve_expr(value, scopes[: depth + 1]) or set()
                return out or None
            if name in scope.locals:
                return None
        return set(self.resolve_global(name)) or None

    def resolve_expr(self, node, scopes) -> set[str] | None:
        if isinstance(node, ast.Name):
            return self.resolve_name(node.id, scopes)
        if isinstance(node, ast.Attribute):
            base = self.resolve_expr(node.value, scopes)
            return {f"{b}.{node.attr}" for b in base} if base else None
        attr = _constant_getattr(node)
        if attr is not None:
            base = self.resolve_expr(node.args[0], scopes)
            return {f"{b}.{attr}" for b in base} if base else None
        return None

    # -- one statement

    def unit(self, stmt, cell: int) -> _Unit:
        flows = []
        for names, nodes, who in _flow_parts(stmt):
            collector = _Collector(self)
            for node in nodes:
                collector.visit(node)
            flows.append(_Flow(names, collector.refs, collector.uses, who))
        whole = _Collector(self)
        whole.visit(stmt)
        return _Unit(cell, flows, whole.refs, whole.top_uses)


def _constant_getattr(node) -> str | None:
    """``attr`` of ``getattr(x, "attr")`` / ``getattr(x, "attr", default)``, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) in (2, 3)
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[1].value
    return None


def _flow_parts(stmt) -> list[tuple[set[str], list[ast.AST], str]]:
    """``(names bound, nodes whose values flow into them, function defined)``."""
    parts: list[tuple[set[str], list[ast.AST], str]] = []

    def walrus(nodes):
        for node in nodes:
            for sub in _Analysis._top_nodes(node):
                if isinstance(sub, ast.NamedExpr):
                    parts.append(({sub.target.id}, [sub.value], ""))
                elif (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Name)
                    and sub.func.id in ("setattr", "delattr")
                    and sub.args
                    and isinstance(sub.args[0], ast.Name)
                ):
                    parts.append(({sub.args[0].id}, [sub], ""))

    def visit(node):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = {node.name}
            for sub in _nested_body(node):
                if isinstance(sub, ast.Global):
                    names.update(sub.names)
            parts.append((names, [node], node.name))
        elif isinstance(node, ast.ClassDef):
            parts.append(({node.name}, [node], node.name))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = set().union(*(_target_names(t) for t in targets))
            value = [node.value] if node.value is not None else []
            parts.append((names, value + targets, ""))
            walrus(value)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            parts.append(({n for n, _ in _import_bindings(node)}, [node], ""))
        elif isinstance(node, ast.For | ast.AsyncFor):
            parts.append((_target_names(node.target), [node.iter, node.target], ""))
            walrus([node.iter])
            for sub in node.body + node.orelse:
                visit(sub)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    parts.append((_target_names(item.optional_vars), [item.context_expr], ""))
            walrus([item.context_expr for item in node.items])
            for sub in node.body:
                visit(sub)
        elif isinstance(node, ast.If | ast.While):
            walrus([node.test])
            for sub in node.body + node.orelse:
                visit(sub)
        elif isinstance(node, ast.Try | getattr(ast, "TryStar", ast.Try)):
            for sub in node.body + node.orelse + node.finalbody:
                visit(sub)
            for handler in node.handlers:
                if handler.name:
                    parts.append(({handler.name}, [handler.type] if handler.type else [], ""))
                for sub in handler.body:
                    visit(sub)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                names = set()
                for sub in ast.walk(case.pattern):
                    if isinstance(sub, ast.MatchAs | ast.MatchStar) and sub.name:
                        names.add(sub.name)
                    elif isinstance(sub, ast.MatchMapping) and sub.rest:
                        names.add(sub.rest)
                if names:
                    parts.append((names, [node.subject], ""))
                for sub in case.body:
                    visit(sub)
        elif isinstance(node, ast.Delete):
            parts.append((set().union(*(_target_names(t) for t in node.targets)), [], ""))
        else:
            walrus([node])

    visit(stmt)
    return parts


class _Collector(ast.NodeVisitor):
    """References, hatches and learner globals used below a node (with scopes)."""

    def __init__(self, analysis: _Analysis):
        self.a = analysis
        self.scopes: list[_Scope] = []
        self.funcs: list[str] = []
        self.refs: list[_Ref] = []
        self.uses: set[str] = set()
        self.top_uses: set[str] = set()
        self._calls: dict[int, ast.Call] = {}

    @property
    def top(self) -> bool:
        return not any(not s.is_class for s in self.scopes)

    def _add(self, kind, text, node=None, import_=False):
        call = self._calls.get(id(node)) if node is not None else None
        func = self.funcs[-1] if self.funcs else ""
        self.refs.append(_Ref(kind, text, call, func, self.top, import_))

    def _path(self, path: str, node, import_=False) -> None:
        norm = normalise(path)
        if any(norm == h or norm.startswith(h + ".") for h in HATCH_PATHS):
            self._add("hatch", norm, node, import_)
        else:
            self._add("path", norm, node, import_)

    def _is_local(self, name: str) -> bool:
        for depth in range(len(self.scopes) - 1, -1, -1):
            scope = self.scopes[depth]
            if scope.is_class and depth != len(self.scopes) - 1:
                continue
            if name in scope.locals or name in scope.aliases:
                return True
        return False

    # -- scopes

    def _scoped(self, node, body_nodes, name="", is_class=False):
        self.scopes.append(_Scope(node, is_class))
        if name:
            self.funcs.append(name)
        for sub in body_nodes:
            self.visit(sub)
        if name:
            self.funcs.pop()
        self.scopes.pop()

    def visit_FunctionDef(self, node):
        for sub in node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(sub)
        for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
            if arg.annotation:
                self.visit(arg.annotation)
        self._scoped(node, node.body, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for sub in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(sub)
        self._scoped(node, [node.body], self.funcs[-1] if self.funcs else "<lambda>")

    def visit_ClassDef(self, node):
        for sub in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(sub)
        self._scoped(node, node.body, node.name, is_class=True)

    def _comprehension(self, node):
        first = node.generators[0].iter
        self.visit(first)
        rest = [node.generators[0].target, *node.generators[0].ifs]
        for gen in node.generators[1:]:
            rest += [gen.iter, gen.target, *gen.ifs]
        rest += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        self.scopes.append(_Scope(node))
        for sub in rest:
            self.visit(sub)
        self.scopes.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # -- references

    def visit_Import(self, node):
        for alias in node.names:
            self._path(alias.name, node, import_=True)
            self._module_check(alias.name, node)

    def visit_ImportFrom(self, node):
        if node.level or not node.module:
            return
        self._module_check(node.module, node)
        for alias in node.names:
            if alias.name == "*":
                self._add("star", normalise(node.module), node, True)
            else:
                self._path(f"{node.module}.{alias.name}", node, import_=True)

    def _module_check(self, module: str, node) -> None:
        if not installed(module.split(".")[0]):
            self._add(
                "hatch",
                f"import {module} (a module that is not part of the course "
                "environment, so the grader cannot check it)",
                node,
            )

    def visit_Call(self, node):
        self._calls[id(node.func)] = node
        attr = _constant_getattr(node)
        if attr is not None:
            self._attribute(node, node.args[0], attr, node)
            for sub in node.args[2:]:
                self.visit(sub)
            return
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "delattr", "hasattr")
            and not self._is_local(node.func.id)
            and node.args
        ):
            base = self.a.resolve_expr(node.args[0], self.scopes)
            if base and node.func.id != "hasattr":
                self._add("hatch", f"{node.func.id}() on {sorted(base)[0]} with a computed name", node.func)
        self.generic_visit(node)

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            return
        name = node.id
        local = self._is_local(name)
        if (
            not local
            and (name in HATCH_NAMES or (name == "locals" and self.top))
            and name not in self.a.learner_own
        ):
            self._add("hatch", f"{name}()" if id(node) in self._calls else name, node)
            return
        if not local and name == "getattr" and id(node) not in self._calls:
            self._add("hatch", "getattr passed as a value", node)
        paths = self.a.resolve_name(name, self.scopes)
        if paths:
            for path in sorted(paths):
                self._path(path, node)
        if not local:
            self.uses.add(name)
            if self.top:
                self.top_uses.add(name)

    def visit_Attribute(self, node):
        self._attribute(node, node.value, node.attr, node)

    def _attribute(self, node, base_node, attr, ref_node):
        if attr in HATCH_ATTRS:
            self._add("hatch", f".{attr}", ref_node)
        paths = self.a.resolve_expr(base_node, self.scopes)
        if paths:
            for path in sorted(paths):
                self._path(f"{path}.{attr}", ref_node)
            if isinstance(base_node, ast.Name) and not self._is_local(base_node.id):
                self.uses.add(base_node.id)
                if self.top:
                    self.top_uses.add(base_node.id)
            return
        self._add("leaf", attr, ref_node)
        self.visit(base_node)


def normalise(path: str) -> str:
    for prefix, real in REEXPORTS.items():
        if path == prefix or path.startswith(prefix + "."):
            return real + path[len(prefix) :]
    return path


def _top_spec(top: str):
    """The spec of an installed top-level module, found without importing it and without
    the working directory (a learner's own ``helpers.py`` is not installed)."""
    module = sys.modules.get(top)
    if module is not None and getattr(module, "__spec__", None) is not None and top == __name__.split(".")[0]:
        return module.__spec__
    cwd = os.getcwd()
    paths = [p for p in sys.path if p and os.path.abspath(p) != cwd]
    for finder in sys.meta_path:
        try:
            if finder is importlib.machinery.PathFinder:
                spec = finder.find_spec(top, paths)
            elif (finder if isinstance(finder, type) else type(finder)).__module__.startswith("__editable__"):
                spec = finder.find_spec(top, None)  # editable installs (like cnncourse's)
            else:
                continue
        except (ImportError, ValueError, AttributeError, TypeError):
            continue
        if spec is not None:
            return spec
    return None


@lru_cache(maxsize=512)
def installed(top: str) -> bool:
    """Whether a top-level module is part of the Python environment (not the learner's
    folder)."""
    if top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return True
    return top in ("__main__", "__future__") or _top_spec(top) is not None


# --------------------------------------------------------------------------- matching


@lru_cache(maxsize=256)
def _module_file(name: str) -> Path | None:
    """The source file of a module, found on disk without importing anything."""
    parts = name.split(".")
    spec = _top_spec(parts[0])
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if len(parts) == 1:
        return Path(spec.origin) if spec.origin else None
    for i, part in enumerate(parts[1:], 1):
        found = None
        for loc in locations:
            package = Path(loc) / part
            if (package / "__init__.py").is_file():
                found = ("package", package)
                break
            if (Path(loc) / f"{part}.py").is_file():
                found = ("module", Path(loc) / f"{part}.py")
                break
        if found is None:
            return None
        if i == len(parts) - 1:
            return found[1] / "__init__.py" if found[0] == "package" else found[1]
        if found[0] != "package":
            return None
        locations = [str(found[1])]
    return None


@lru_cache(maxsize=256)
def _is_module(name: str) -> bool:
    return name in sys.modules or _module_file(name) is not None


@lru_cache(maxsize=256)
def _static_params(name: str) -> tuple[tuple[str, ...], dict] | None:
    """Positional parameters and constant defaults of a module-level function, read
    from its source file (nothing is imported); None when unknown."""
    module, _, func = name.rpartition(".")
    path = _module_file(module) if module else None
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == func:
            args = node.args
            positional = tuple(a.arg for a in args.posonlyargs + args.args)
            defaults = {}
            for a, d in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True):
                if isinstance(d, ast.Constant):
                    defaults[a] = d.value
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                if isinstance(d, ast.Constant):
                    defaults[a] = d.value
            return positional, defaults
    return None


def _cheap(path: str) -> bool:
    return path.split(".")[0] in _CHEAP_ROOTS and not any(
        path == p or path.startswith(p + ".") for p in _HEAVY_PREFIXES
    )


def _trusted_import(name: str) -> None:
    """Import a module of a forbidden entry, or a cnncourse module, to compare objects
    (only modules found on disk, never ``__main__``, never TensorFlow or Keras)."""
    if not _cheap(name) or "__main__" in name.split("."):
        return
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if module in sys.modules:
            return
        if _cheap(module) and _module_file(module) is not None:
            try:
                importlib.import_module(module)
            except Exception:  # an optional dependency missing: compare by name only
                pass
            return


def _lookup_chain(path: str) -> tuple[list, bool]:
    """The objects along a dotted path and whether it was followed to its end, walking
    only modules already imported (and cnncourse's own), never calling ``__getattr__``."""
    if not _cheap(path):
        return [], False
    parts = path.split(".")
    if parts[0] == "cnncourse":
        _trusted_import(".".join(parts[:-1]) or parts[0])
    for i in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is None:
            continue
        chain, obj = [module], module
        for part in parts[i:]:
            if isinstance(obj, type):
                spaces = [vars(k) for k in obj.__mro__]
            elif type(obj).__name__ == "module":
                spaces = [vars(obj)]
            else:
                return chain, False
            for namespace in spaces:
                if part in namespace:
                    obj = namespace[part]
                    break
            else:
                return chain, False
            if isinstance(obj, staticmethod | classmethod):
                obj = obj.__func__
            chain.append(obj)
        return chain, True
    return [], False


def _canonical(obj) -> str | None:
    if type(obj).__name__ == "module":
        return getattr(obj, "__name__", None)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


class Matcher:
    """Decides whether a reference found in learner code is one of a cell's entries."""

    def __init__(self, entries: Iterable[str]):
        self.entries = [e for e in (parse_entry(t) for t in entries) if e]
        self._objects: dict[str, object] = {}

    def _object(self, entry: Entry):
        if entry.name not in self._objects:
            obj = None
            if _cheap(entry.name):
                _trusted_import(entry.name)
                chain, complete = _lookup_chain(entry.name)
                obj = chain[-1] if complete else None
            self._objects[entry.name] = obj
        return self._objects[entry.name]

    def match(self, ref: _Ref) -> Entry | None:
        """The entry a reference is (``real_name(ref, entry)`` says what it really is)."""
        if ref.kind == "hatch":
            return None
        for entry in self.entries:
            if self._matches(ref, entry):
                return entry
        return None

    def real_name(self, ref: _Ref, entry: Entry) -> str:
        """The name to show: the path itself, or where the object really comes from."""
        if ref.kind != "path" or ref.text == entry.name or ref.text.startswith(entry.name + "."):
            return ref.text
        chain, complete = _lookup_chain(ref.text)
        canonical = _canonical(chain[-1]) if chain and complete else None
        if canonical and (canonical == entry.name or canonical.startswith(entry.name + ".")):
            return canonical
        return entry.name

    def _matches(self, ref: _Ref, entry: Entry) -> bool:
        name = entry.name
        if ref.kind == "star":
            hit = ref.text == name or name.startswith(ref.text + ".") or ref.text.startswith(name + ".")
            return hit and entry.arg is None
        if ref.kind == "leaf":
            # obj.evaluate(...) on an object the grader cannot trace: only for methods
            # (keras.Model.evaluate) and the course's own references, whose names are
            # distinctive; a module's name or a generic library name would catch too much.
            parent = name.split(".")[-2] if "." in name else ""
            if ref.text != entry.leaf or not parent or _is_module(name):
                return False
            if not (parent[:1].isupper() or name.startswith("cnncourse.")):
                return False
            return self._arg_ok(ref, entry)
        path = ref.text
        hit = path == name or path.startswith(name + ".")
        if not hit and not ref.import_:
            parents = name.split(".")[:-1]
            hit = any(path == ".".join([*parents[:i], entry.leaf]) for i in range(1, len(parents)))
        if not hit:
            hit = self._same_object(path, entry)
        return hit and self._arg_ok(ref, entry)

    def _same_object(self, path: str, entry: Entry) -> bool:
        chain, _ = _lookup_chain(path)
        if not chain:
            return False
        target = self._object(entry)
        for obj in chain:
            if target is not None and obj is target:
                return True
            canonical = _canonical(obj)
            if canonical and (canonical == entry.name or canonical.startswith(entry.name + ".")):
                return True
        return False

    def _arg_ok(self, ref: _Ref, entry: Entry) -> bool:
        """An entry with an argument matches only calls that pass it (not its default)."""
        if entry.arg is None:
            return True
        call = ref.call
        if call is None:
            return False
        params = _static_params(entry.name)
        defaults = params[1] if params else {}
        for kw in call.keywords:
            if kw.arg is None:
                return True  # **kwargs: it may be there
            if kw.arg == entry.arg:
                value = kw.value
                return not (
                    isinstance(value, ast.Constant)
                    and entry.arg in defaults
                    and value.value == defaults[entry.arg]
                )
        if any(isinstance(a, ast.Starred) for a in call.args):
            return True
        if params and entry.arg in params[0]:
            position = params[0].index(entry.arg)
            if len(call.args) > position:
                value = call.args[position]
                return not (
                    isinstance(value, ast.Constant)
                    and entry.arg in defaults
                    and value.value == defaults[entry.arg]
                )
        return False


# --------------------------------------------------------------------------- the plan


def _source_bound(trees: Iterable[ast.Module]) -> set[str]:
    out = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                out.add(node.id)
            elif isinstance(node, ast.arg):
                out.add(node.arg)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                out.update(n for n, _ in _import_bindings(node))
            elif isinstance(node, ast.ExceptHandler) and node.name:
                out.add(node.name)
    return out


def exercise_names(plan) -> dict[str, tuple[str, ...]]:
    """For each solution cell: the names its tests' public code takes from the learner."""
    from .notebook_format import SOLUTION, TEST

    source_trees: list[ast.Module] = []
    public: dict[str, list[ast.Module]] = {}
    owner = None
    for step in plan.steps:
        if step.kind == SOLUTION:
            owner = step.grade_id
            public.setdefault(owner, [])
        elif step.kind == TEST or (step.kind == "setup" and step.origin == "source"):
            for segment in step.segments:
                tree = _parse(segment.code)
                if tree is None:
                    continue
                source_trees.append(tree)
                if step.kind == TEST and not segment.hidden and owner is not None:
                    public[owner].append(tree)
    bound = _source_bound(source_trees)
    out = {}
    for gid, trees in public.items():
        names = []
        for tree in trees:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Name)
                    and isinstance(node.ctx, ast.Load)
                    and node.id not in bound
                    and not hasattr(builtins, node.id)
                    and node.id not in names
                ):
                    names.append(node.id)
        out[gid] = tuple(names)
    return out


def _where(plan, index: int) -> str:
    step = plan.steps[index]
    return step.label


def _describe(ref: _Ref, entry: Entry, matcher: Matcher) -> str:
    verb = "called" if ref.call is not None else "used"
    if ref.kind == "leaf":
        return f"{verb} .{ref.text}, which the grader takes for {entry.name}"
    if ref.kind == "star":
        return f"imported everything from {ref.text}, including {entry.name}"
    real = matcher.real_name(ref, entry)
    shown = ref.text if real == ref.text else f"{ref.text} (that is {real})"
    return f"imported {shown}" if ref.import_ else f"{verb} {shown}"


def check_plan(plan) -> list[Finding]:
    """The static findings for a merged plan (see the module's docstring)."""
    from .notebook_format import SOLUTION

    rules = {s.grade_id: s for s in plan.steps if s.kind == SOLUTION and s.forbidden}
    if not rules:
        return []
    trees: list[tuple[int, ast.Module, bool]] = []
    public_source: list[tuple[int, ast.Module]] = []  # setup cells and public test code
    for index, step in enumerate(plan.steps):
        learner = step.origin != "source"
        for segment in step.segments:
            tree = _parse(segment.code)
            if tree is not None:
                trees.append((index, tree, learner))
                if not learner and not segment.hidden:
                    public_source.append((index, tree))
    names = {gid: set(step.names) for gid, step in rules.items()}
    all_names = {s.grade_id: set(s.names) for s in plan.steps if s.kind == SOLUTION}
    findings: list[Finding] = []
    for gid, step in rules.items():
        matcher = Matcher(step.forbidden)
        index = plan.steps.index(step)
        messages: list[str] = []

        def add(text, messages=messages):
            if text not in messages:
                messages.append(text)

        others = set().union(*(n for g, n in all_names.items() if g != gid)) - names[gid]
        analysis = _Analysis([(t, learner) for _, t, learner in trees], opaque=others)
        units = [analysis.unit(stmt, i) for i, tree, learner in trees if learner for stmt in tree.body]
        # Helpers the tests define (reference_correlate2d) that call a forbidden reference:
        # an answer calling them delegates too. Hidden code is left out (its names are
        # not the learner's to know, and a message must not reveal them).
        tainted: dict[str, str] = {}
        learner_bound = set().union(*(f.names for u in units for f in u.flows))
        source_units = [analysis.unit(stmt, i) for i, tree in public_source for stmt in tree.body]
        changed = True
        while changed:
            changed = False
            for unit in source_units:
                for flow in unit.flows:
                    why = _flow_reason(flow, matcher, tainted, hatches=False)
                    for name in flow.names - learner_bound - set(tainted) if why else ():
                        tainted[name] = f"is defined by the notebook's tests and {why}"
                        changed = True
        # Names of helpers (not other cells' exercise names) and how they are tainted.
        changed = True
        while changed:
            changed = False
            for unit in units:
                for flow in unit.flows:
                    why = _flow_reason(flow, matcher, tainted)
                    if why is None:
                        continue
                    for name in flow.names - others - set(tainted):
                        tainted[name] = why
                        changed = True
        # (a) hatches anywhere in the solution cell
        for unit in units:
            if unit.cell != index:
                continue
            for ref in unit.refs:
                if ref.kind == "hatch":
                    who = ref.func or f"your cell {gid!r}"
                    add(
                        f"{who} used {ref.text}, which can reach the reference "
                        f"implementation out of the grader's sight; {MESSAGE_END} "
                        "without it"
                    )
        # (b) every binding of an exercise name, in any learner cell
        for unit in units:
            for flow in unit.flows:
                bound = flow.names & names[gid]
                if not bound:
                    continue
                who = flow.who if flow.who in bound else sorted(bound)[0]
                where = "" if unit.cell == index else f" (in {_where(plan, unit.cell)})"
                for ref in flow.refs:
                    entry = matcher.match(ref)
                    if entry is not None:
                        add(f"{ref.func or who} {_describe(ref, entry, matcher)}{where}; {MESSAGE_END}")
                    elif ref.kind == "hatch" and unit.cell != index:
                        add(
                            f"{ref.func or who} used {ref.text}{where}, which can reach the "
                            f"reference implementation out of the grader's sight; "
                            f"{MESSAGE_END} without it"
                        )
                for used in sorted(flow.uses & set(tainted)):
                    if used in bound:
                        continue
                    add(f"{who} used {used}, which {tainted[used]}{where}; {MESSAGE_END}")
        findings += [Finding(gid, m) for m in messages]
    return findings


def _flow_reason(flow: _Flow, matcher: Matcher, tainted: dict[str, str], hatches: bool = True) -> str | None:
    for ref in flow.refs:
        if ref.kind == "hatch":
            if hatches:
                return f"used {ref.text}"
            continue
        entry = matcher.match(ref)
        if entry is not None:
            return _describe(ref, entry, matcher)
    for used in sorted(flow.uses):
        if used in tainted and used not in flow.names:
            return f"used {used}, which {tainted[used]}"
    return None


# --------------------------------------------------------------------------- scoring


def parse_kernel_report(text: str | None) -> list[dict]:
    """The violations the kernel's tripwire reported (its text/plain value); [] if none
    or unreadable. The kernel may lie: this only adds findings, it never removes any."""
    if not text:
        return []
    try:
        value = ast.literal_eval(text.strip())
        data = json.loads(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return []
    if not isinstance(data, list):
        return []
    out = []
    for item in data[:50]:
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("cell", "who", "ref")):
            entry = {k: item[k][:200] for k in ("cell", "who", "ref")}
            entry["how"] = "is" if item.get("how") == "is" else "called"
            out.append(entry)
    return out


def apply(plan, outcomes, tests) -> None:
    """Zero the test results of every solution cell with a finding (static, or reported
    by the kernel), saying why. ``tests`` are the plan's test results, in order."""
    from .notebook_format import SOLUTION, TEST
    from .status import Status

    rules = {s.grade_id: s for s in plan.steps if s.kind == SOLUTION and s.forbidden}
    messages: dict[str, list[str]] = {}
    for finding in plan.findings:
        messages.setdefault(finding.cell, []).append(finding.message)
    for step, outcome in zip(plan.steps, outcomes, strict=True):
        if step.kind != TEST:
            continue
        for item in parse_kernel_report(getattr(outcome, "kernel_report", None)):
            rule = rules.get(item["cell"])
            if rule is None:
                continue
            text = f"{item['who']} {item['how']} {item['ref']}; {MESSAGE_END}"
            cell = messages.setdefault(item["cell"], [])
            if not any(item["ref"] in m and item["who"] in m for m in cell):
                cell.append(text)
    test_steps = [s for s in plan.steps if s.kind == TEST]
    for step, result in zip(test_steps, tests, strict=True):
        found = messages.get(step.covers or "")
        if not found:
            continue
        if result.status not in (Status.PASSED, Status.PARTIAL) and "OwnWorkError" not in result.message:
            found = [*found, "", result.message]  # it also failed for a reason of its own
        elif hasattr(result, "details"):
            result.details = ""  # the tripwire's own error, or a test the answer passed
        result.points = 0.0
        result.status = Status.FAILED
        result.message = "\n".join(found)
