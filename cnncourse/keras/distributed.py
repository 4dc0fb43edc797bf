"""Training on several machines: ``TF_CONFIG`` and TensorFlow's ``MultiWorkerMirroredStrategy``.

Every machine (a *worker*) runs the same script; the environment variable ``TF_CONFIG``
tells each one the whole cluster and which member it is::

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}'

Each worker keeps a full copy of the model, trains on its share of every global batch and
averages the gradients with the others (all-reduce) before each update, so the copies stay
identical. :func:`cnncourse.keras.training.get_strategy` with ``"multi_worker"`` calls
:func:`multi_worker_strategy`; :func:`fit_multi_worker` trains with it.

>>> strategy = get_strategy("multi_worker")  # first, before other TensorFlow work
>>> model, losses = fit_multi_worker(seed_cnn, x, y, strategy, steps=500)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from ..common import positive_int
from ._tf import keras, tf

_ROLES = ("chief", "worker")


class TFConfigError(ValueError):
    """``TF_CONFIG`` is missing or does not describe a cluster this process belongs to."""


@dataclass(frozen=True)
class ClusterConfig:
    """What ``TF_CONFIG`` says: ``cluster`` maps a role (``"chief"``, ``"worker"``) to its
    ``"host:port"`` addresses; this process is ``task_type`` number ``task_index``."""

    cluster: dict[str, list[str]]
    task_type: str
    task_index: int

    @property
    def num_workers(self) -> int:
        """Processes that train: the chief (if any) and every worker."""
        return sum(len(self.cluster.get(role, ())) for role in _ROLES)

    @property
    def address(self) -> str:
        """This process's ``"host:port"``."""
        return self.cluster[self.task_type][self.task_index]


def read_tf_config(environ=None) -> ClusterConfig:
    """Parse and check ``TF_CONFIG`` from ``environ`` (default: ``os.environ``).

    Raises :class:`TFConfigError` naming what is wrong: the variable missing, not JSON,
    no ``cluster`` with a list of ``"host:port"`` workers, or a ``task`` whose type is not
    in the cluster or whose index is out of range.
    """
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG")
    example = (
        'e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}\''
    )
    if not text:
        raise TFConfigError(
            "multi-worker training needs the environment variable TF_CONFIG, which gives "
            f"every worker's address and this process's place among them; {example}"
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise TFConfigError(f"TF_CONFIG is not valid JSON ({err}); {example}") from None
    if not isinstance(config, dict):
        raise TFConfigError(f"TF_CONFIG must be a JSON object; got {type(config).__name__}; {example}")

    cluster = config.get("cluster")
    if not isinstance(cluster, dict) or not any(role in cluster for role in _ROLES):
        raise TFConfigError(f'TF_CONFIG needs "cluster" with a "worker" list of "host:port"; {example}')
    for role, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses:
            raise TFConfigError(f'TF_CONFIG cluster["{role}"] must be a non-empty list of "host:port"')
        for address in addresses:
            host, _, port = str(address).rpartition(":")
            if not isinstance(address, str) or not host or not port.isdigit():
                raise TFConfigError(f'TF_CONFIG cluster["{role}"] has {address!r}, not "host:port"')

    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise TFConfigError(f'TF_CONFIG needs "task" with this process\'s "type" and "index"; {example}')
    task_type, task_index = task["type"], task["index"]
    if task_type not in cluster:
        raise TFConfigError(
            f"TF_CONFIG task type {task_type!r} is not in the cluster, which has {sorted(cluster)}"
        )
    if isinstance(task_index, bool) or not isinstance(task_index, int):
        raise TFConfigError(f"TF_CONFIG task index must be an int; got {task_index!r}")
    if not 0 <= task_index < len(cluster[task_type]):
        raise TFConfigError(
            f"TF_CONFIG task index {task_index} is out of range: the cluster has "
            f"{len(cluster[task_type])} {task_type}(s), numbered from 0"
        )
    return ClusterConfig(
        cluster={role: list(addresses) for role, addresses in cluster.items()},
        task_type=task_type,
        task_index=task_index,
    )


def multi_worker_strategy() -> tf.distribute.MultiWorkerMirroredStrategy:
    """``MultiWorkerMirroredStrategy`` for the cluster in ``TF_CONFIG`` (checked by
    :func:`read_tf_config` first, for a clearer error than TensorFlow's).

    Create it at the start of the program, before building models or running other
    TensorFlow operations; it starts this process's server on the port ``TF_CONFIG``
    gives, and training blocks until every worker has joined.
    """
    read_tf_config()
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def fit_multi_worker(
    build_model,
    x,
    y,
    strategy: tf.distribute.Strategy,
    *,
    steps: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> tuple[keras.Model, list[float]]:
    """Train a classifier with ``strategy`` (e.g. :func:`multi_worker_strategy`) for
    ``steps`` optimiser steps of sparse categorical cross-entropy with Adam.

    Keras 3's ``model.fit`` fails under ``MultiWorkerMirroredStrategy`` (it reduces the
    first input batch across workers before building the model: keras-team/keras#20585),
    so this runs the training step itself, the way TensorFlow's multi-worker tutorial does.
    Every worker calls it with the same arguments; TensorFlow gives each worker its share
    of every global batch of ``batch_size * strategy.num_replicas_in_sync`` examples.

    build_model: a function returning an uncompiled ``keras.Model`` (built under the
    strategy's scope and the same seed on every worker). x: ``(N, H, W, C)`` images;
    y: ``(N,)`` integer labels. Returns the model and each step's mean loss over the
    global batch (the same on every worker).
    """
    steps = positive_int(steps, "steps")
    global_batch = positive_int(batch_size, "batch_size") * strategy.num_replicas_in_sync
    keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = build_model()
        optimizer = keras.optimizers.Adam(learning_rate)
    loss_per_example = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    dataset = (
        tf.data.Dataset.from_tensor_slices((np.asarray(x, np.float32), np.asarray(y)))
        .shuffle(len(x), seed=seed)
        .repeat()
        .batch(global_batch, drop_remainder=True)
    )
    batches = iter(strategy.experimental_distribute_dataset(dataset))

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            losses = loss_per_example(labels, model(images, training=True))
            loss = tf.nn.compute_average_loss(losses, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    @tf.function
    def train_step(images, labels):
        per_replica = strategy.run(replica_step, args=(images, labels))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    history = [float(train_step(*next(batches))) for _ in range(steps)]
    return model, history
