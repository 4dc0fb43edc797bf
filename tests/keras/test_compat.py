"""cnncourse.keras.compat, the only code that reads Keras internals: each function checked
against what Keras does, so that a Keras upgrade that moves an internal fails here, by
name, rather than somewhere deep in costs, bridge or interpret."""

import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse.keras import compat
from cnncourse.keras._tf import keras

layers = keras.layers


def _branching_model():
    """input -> a -> (b, c) -> add; ``a`` is also called a second time, on its own output."""
    inputs = keras.Input((4,), name="x")
    a = layers.Dense(4, name="a")
    h = a(inputs)
    b = layers.Dense(4, name="b")(h)
    c = layers.Dense(4, name="c")(h)
    twice = a(c)
    out = layers.Add(name="add")([b, twice])
    return keras.Model(inputs, out), a


def test_times_called_counts_the_calls_on_symbolic_tensors():
    model, a = _branching_model()
    assert compat.times_called(a) == 2
    assert compat.times_called(model.get_layer("b")) == 1
    assert compat.times_called(model.get_layer("add")) == 1


def _parents(layer) -> list[str]:
    return [p.name for p in compat.inbound_layers(layer)]


def test_inbound_layers_walks_the_graph_backwards():
    model, a = _branching_model()
    assert _parents(model.get_layer("add")) == ["b", "a"]
    assert _parents(model.get_layer("b")) == ["a"]
    assert _parents(a) == ["x", "c"]  # one parent per call
    assert _parents(model.get_layer("x")) == []  # the input layer


def test_output_layer_of_a_symbolic_tensor():
    model, _ = _branching_model()
    assert compat.output_layer_of(model.outputs[0]) is model.get_layer("add")
    assert compat.output_layer_of(model.get_layer("c").output) is model.get_layer("c")
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="last")])
    assert compat.output_layer_of(seq.outputs[0]) is seq.get_layer("last")
    assert compat.output_layer_of(keras.ops.zeros((1, 2))) is None  # a concrete tensor


def test_uninitialized_variables_is_keras_queue():
    before = compat.uninitialized_variables()
    try:
        with keras.StatelessScope(initialize_variables=False):
            v = keras.Variable(initializer="ones", shape=(2,), name="queued")
        queued = compat.uninitialized_variables()
        assert any(q is v for q in queued) and len(queued) == len(before) + 1
        queued.clear()  # a copy: Keras' queue is untouched
        assert len(compat.uninitialized_variables()) == len(before) + 1
    finally:
        compat.set_uninitialized_variables(before)
    assert compat.uninitialized_variables() == before
    # the variable left the queue, so the next stateless scope does not fill it in
    with keras.StatelessScope():
        pass
    assert getattr(v, "_value", None) is None
