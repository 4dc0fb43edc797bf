"""The in-kernel tripwire, run here in-process: cells are simulated the way IPython runs
them (code compiled under a file name whose text is in ``linecache``)."""

from __future__ import annotations

import functools
import hashlib
import json
import linecache
import os
import sys
import types

import pytest

from cnncourse.grading import tripwire

SOLUTION = """
def answer(x):
    return fakeref.reference(x) + 1


def by_layer(x):
    return fakeref.Layer().forward(x)


def with_arg(x, fast=False):
    return fakeref.configurable(x, fast=fast)


def calls_given(fn, x):
    return fn(x)


top_level = fakeref.reference(1)  # the cell's own top-level code: a self-check
"""
OTHER = """
def other_answer(fn, x):
    return fn(x)
"""
TEST = """
def reference_answer(x):
    return fakeref.reference(x) + 1


direct = fakeref.reference(2)
passed_on = other_answer(fakeref.reference, 3)
checked = reference_answer(4)
"""


def _module():
    module = types.ModuleType("fakeref")

    def reference(x):
        return x * 10

    def configurable(x, fast=False):
        return x

    class Layer:
        def __init__(self, scale=2):
            self.scale = scale

        def forward(self, x):
            return x * self.scale

    for obj in (reference, configurable, Layer):
        obj.__module__ = "fakeref"
        module.__dict__[obj.__name__] = obj
    Layer.__qualname__ = "Layer"
    return module


def _cell(code: str, name: str, namespace: dict) -> str:
    """Run ``code`` like an IPython cell; returns the digest of its text."""
    filename = f"/tmp/ipykernel_0/{name}.py"
    lines = [line + "\n" for line in code.splitlines()]
    linecache.cache[filename] = (len(code), None, lines, filename)
    exec(compile(code, filename, "exec"), namespace)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _digest(code: str) -> str:
    return hashlib.sha256("".join(line + "\n" for line in code.splitlines()).encode()).hexdigest()


@pytest.fixture
def kernel(monkeypatch):
    module = _module()
    reexport = types.ModuleType("fakeref.api")
    reexport.reference = module.reference
    monkeypatch.setitem(sys.modules, "fakeref", module)
    monkeypatch.setitem(sys.modules, "fakeref.api", reexport)
    # fakeref's functions are defined in this file: count it as part of the environment
    here = os.path.realpath(os.path.dirname(__file__)) + os.sep
    real = tripwire._trusted_dirs
    monkeypatch.setattr(tripwire, "_trusted_dirs", lambda: (*real(), here))
    namespace = {"fakeref": module}
    config = {
        "cells": {
            "answer-cell": {
                "forbidden": ["fakeref.reference", "fakeref.Layer", "fakeref.configurable(fast)"],
                "names": ["answer", "by_layer", "with_arg", "calls_given"],
                "digests": [_digest(SOLUTION)],
            },
            "other-cell": {
                "forbidden": ["fakeref.Layer"],
                "names": ["other_answer"],
                "digests": [_digest(OTHER)],
            },
        },
        "source": [_digest(TEST)],
    }
    tripwire.report()
    tripwire.install(config)
    _cell(SOLUTION, "solution", namespace)
    _cell(OTHER, "other", namespace)
    yield types.SimpleNamespace(module=module, reexport=reexport, ns=namespace, config=config)
    tripwire.report()


def _report() -> list[dict]:
    return json.loads(tripwire.report())


def test_a_call_from_the_answer_raises_and_is_reported(kernel):
    with pytest.raises(
        tripwire.OwnWorkError,
        match=r"answer called fakeref\.reference; the "
        r"exercise is to write it yourself",
    ):
        kernel.ns["answer"](1)
    assert _report() == [
        {"cell": "answer-cell", "who": "answer", "ref": "fakeref.reference", "how": "called"}
    ]
    assert _report() == []  # reported once


def test_source_cells_and_top_level_self_checks_may_call_it(kernel):
    assert kernel.ns["top_level"] == 10
    _cell(TEST, "test", kernel.ns)
    assert kernel.ns["direct"] == 20 and kernel.ns["passed_on"] == 30
    assert kernel.ns["checked"] == 41
    # a reference the test passes to a cell that does not forbid it
    assert _report() == []


def test_an_answer_calling_a_function_of_the_tests_that_calls_the_reference_raises(kernel):
    _cell(TEST, "test", kernel.ns)
    with pytest.raises(tripwire.OwnWorkError, match="calls_given called fakeref"):
        kernel.ns["calls_given"](kernel.ns["reference_answer"], 1)


def test_passing_the_reference_into_the_answer_is_still_the_answer_calling_it(kernel):
    with pytest.raises(tripwire.OwnWorkError):
        kernel.ns["calls_given"](kernel.module.reference, 1)


def test_re_exports_and_classes_are_wrapped(kernel):
    assert getattr(kernel.reexport.reference, tripwire.MARK) is getattr(
        kernel.module.reference, tripwire.MARK
    )
    assert kernel.reexport.reference(1) == 10
    layer = kernel.module.Layer(3)
    assert isinstance(layer, kernel.module.Layer) and layer.forward(2) == 6
    with pytest.raises(tripwire.OwnWorkError, match=r"by_layer called fakeref\.Layer"):
        kernel.ns["by_layer"](1)


def test_an_argument_entry_forbids_only_that_argument(kernel):
    assert kernel.ns["with_arg"](5) == 5
    assert kernel.ns["with_arg"](5, fast=False) == 5  # the default
    with pytest.raises(tripwire.OwnWorkError, match=r"configurable with fast=\.\.\."):
        kernel.ns["with_arg"](5, fast=True)


@pytest.mark.parametrize(
    "alias",
    [
        lambda m: m.reference,
        lambda m: functools.partial(m.reference),
        lambda m: getattr(m.reference, tripwire.MARK),
    ],
)
def test_an_exercise_name_that_is_the_reference_is_reported(kernel, alias):
    kernel.ns["answer"] = alias(kernel.module)
    tripwire.install(kernel.config, kernel.ns)
    assert {"cell": "answer-cell", "who": "answer", "ref": "fakeref.reference", "how": "is"} in _report()


def test_reinstalling_after_a_reload_wraps_the_new_functions(kernel):
    old_wrapper = kernel.module.reference
    fresh = _module()
    kernel.module.reference = fresh.reference  # what importlib.reload does
    kernel.ns["kept"] = old_wrapper  # a global the learner bound before the reload
    tripwire.install(kernel.config, kernel.ns)
    assert getattr(kernel.module.reference, tripwire.MARK) is fresh.reference
    with pytest.raises(tripwire.OwnWorkError):
        kernel.ns["answer"](1)
    assert kernel.ns["kept"] is not old_wrapper  # replaced by the new wrapper


def test_a_fresh_import_keeps_the_pending_violations(kernel):
    with pytest.raises(tripwire.OwnWorkError):
        kernel.ns["answer"](1)
    previous = types.SimpleNamespace(_violations=list(tripwire._violations))
    tripwire._violations.clear()
    tripwire.install(kernel.config, kernel.ns, previous)
    assert [v["who"] for v in _report()] == ["answer"]
