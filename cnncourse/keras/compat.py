"""The one place that touches Keras internals.

Keras 3 has no public API for a few things the course needs: walking a functional
model's graph, finding the layer that produced a symbolic tensor, and the queue of
variables waiting to be initialised. Each is wrapped here in a small function, so that
a Keras upgrade that renames an internal breaks exactly one function, and
``tests/keras/test_compat.py`` says which. Nothing else in :mod:`cnncourse` imports
``keras.src`` or reads a private attribute of a Keras object.
"""

from __future__ import annotations

_UNINITIALIZED = "uninitialized_variables"  # the key of Keras' queue in its global state


def times_called(layer) -> int:
    """How many times ``layer`` was called on symbolic tensors (Keras keeps one inbound
    node per call: 1 for a layer used once in a functional model, 2 for a shared one)."""
    return len(layer._inbound_nodes)


def inbound_layers(layer) -> list:
    """The layers (operations) whose outputs ``layer`` was called on, over all its calls,
    in call order; ``[]`` for an input layer. A layer feeding ``layer`` twice appears
    twice."""
    return [parent.operation for node in layer._inbound_nodes for parent in node.parent_nodes]


def output_layer_of(tensor):
    """The layer (operation) that produced the symbolic tensor ``tensor`` (e.g.
    ``model.outputs[0]``), or None when the tensor carries no such record."""
    history = getattr(tensor, "_keras_history", None)
    return history[0] if history is not None else None


def uninitialized_variables() -> list:
    """The variables Keras has queued for initialisation: those created inside a
    ``keras.StatelessScope(initialize_variables=False)``, filled in when the next
    stateless scope exits. A new list; changing it changes nothing."""
    from keras.src.backend.common import global_state

    return list(global_state.get_global_attribute(_UNINITIALIZED) or [])


def set_uninitialized_variables(variables) -> None:
    """Replace Keras' queue of variables awaiting initialisation by ``variables`` (e.g.
    what :func:`uninitialized_variables` returned earlier, to take the variables created
    since then off the queue)."""
    from keras.src.backend.common import global_state

    global_state.set_global_attribute(_UNINITIALIZED, list(variables))


__all__ = [
    "inbound_layers",
    "output_layer_of",
    "set_uninitialized_variables",
    "times_called",
    "uninitialized_variables",
]
