"""Multi-worker training: TF_CONFIG checks, and two worker processes on 127.0.0.1 that
train the seed model together and end with the same weights."""

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack

import numpy as np
import pytest

pytest.importorskip("cnncourse.keras")
from cnncourse.keras import seed_cnn
from cnncourse.keras import training as T_MOD
from cnncourse.keras.distributed import ClusterConfig, TFConfigError, fit_multi_worker, read_tf_config

TWO_WORKERS = {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}


def _env(cluster=TWO_WORKERS, task_type="worker", index=0):
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}


def test_read_tf_config_reads_the_cluster_and_this_task():
    config = read_tf_config(_env(index=1))
    assert config == ClusterConfig(TWO_WORKERS, "worker", 1)
    assert config.address == "127.0.0.1:2223" and config.num_workers == 2
    with_chief = {"chief": ["10.0.0.1:1"], "worker": ["10.0.0.2:1", "10.0.0.3:1"]}
    chief = read_tf_config(_env(with_chief, "chief", 0))
    assert chief.num_workers == 3 and chief.address == "10.0.0.1:1"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "needs the environment variable TF_CONFIG"),
        ({"TF_CONFIG": "{cluster: }"}, "TF_CONFIG is not valid JSON"),
        ({"TF_CONFIG": "[1, 2]"}, "TF_CONFIG must be a JSON object; got list"),
        ({"TF_CONFIG": '{"task": {"type": "worker", "index": 0}}'}, 'needs "cluster" with a "worker" list'),
        (_env({"worker": []}), r'cluster\["worker"\] must be a non-empty list'),
        (_env({"worker": ["127.0.0.1"]}), r"""cluster\["worker"\] has '127.0.0.1', not "host:port\""""),
        ({"TF_CONFIG": json.dumps({"cluster": TWO_WORKERS})}, 'needs "task" with this process'),
        (_env(task_type="ps"), r"task type 'ps' is not in the cluster, which has \['worker'\]"),
        (_env(index="0"), "task index must be an int; got '0'"),
        (_env(index=2), "task index 2 is out of range: the cluster has 2 worker"),
    ],
)
def test_read_tf_config_says_what_is_wrong(environ, message):
    with pytest.raises(TFConfigError, match=message):
        read_tf_config(environ)


def test_get_strategy_multi_worker_checks_tf_config_first(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(TFConfigError, match="needs the environment variable TF_CONFIG"):
        T_MOD.get_strategy("multi_worker")
    with pytest.raises(ValueError, match='devices must be a list of device names, None or "multi_worker"'):
        T_MOD.get_strategy("multiworker")


@pytest.mark.slow
def test_fit_multi_worker_learns_on_one_worker_too():
    """The same training step under the default strategy: the loss falls on images whose
    class is which half is bright."""
    rng = np.random.default_rng(0)
    y = np.arange(128) % 2
    x = rng.random((128, 28, 28, 1), dtype=np.float32) * 0.2
    x[y == 0, :14] += 0.8
    x[y == 1, 14:] += 0.8
    model, losses = fit_multi_worker(
        lambda: seed_cnn(num_classes=2), x, y, T_MOD.get_strategy(), steps=30, batch_size=32
    )
    assert len(losses) == 30 and model.output_shape == (None, 2)
    assert np.mean(losses[-5:]) < 0.5 * losses[0], losses
    with pytest.raises(ValueError, match="steps must be a positive int; got 0"):
        fit_multi_worker(seed_cnn, x, y, T_MOD.get_strategy(), steps=0)


WORKER = """
import json, sys
import numpy as np
from cnncourse.keras import get_strategy, seed_cnn
from cnncourse.keras.distributed import fit_multi_worker

strategy = get_strategy("multi_worker")  # first, before any other TensorFlow work
initial = []


def build():
    model = seed_cnn()
    initial.extend(model.get_weights())
    return model


rng = np.random.default_rng(0)  # the same data on every worker; TensorFlow shards it
x = rng.random((256, 28, 28, 1), dtype=np.float32)
y = np.arange(256) % 10
model, losses = fit_multi_worker(build, x, y, strategy, steps=5, batch_size=16)
np.savez(sys.argv[1], *initial, *model.get_weights())
with open(sys.argv[2], "w") as report:  # not stdout: TensorFlow may log after it at exit
    json.dump({"replicas": strategy.num_replicas_in_sync, "losses": losses}, report)
"""


def _free_ports(count: int) -> list[int]:
    """Ports the OS hands out now, all different (the sockets are held open together)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _run_workers(tmp_path, count: int, timeout: float) -> list[dict]:
    """Start ``count`` workers of WORKER on 127.0.0.1, wait for all of them (killing every
    one on a timeout or failure), and return the report each wrote, in task order."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(count)]}
    with ExitStack() as cleanup:
        processes = []
        for index in range(count):
            task = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            log = cleanup.enter_context(open(tmp_path / f"worker{index}.log", "w"))  # no pipe to fill
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    str(tmp_path / f"weights{index}.npz"),
                    str(tmp_path / f"report{index}.json"),
                ],
                env=dict(os.environ, TF_CONFIG=json.dumps(task)),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            cleanup.callback(_stop, process)
            processes.append(process)
        deadline = time.monotonic() + timeout
        for index, process in enumerate(processes):
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pytest.fail(f"worker {index} still running after {timeout} s:\n{_tail(tmp_path, index)}")
            assert process.returncode == 0, f"worker {index} failed:\n{_tail(tmp_path, index)}"
    reports = []
    for index in range(count):
        path = tmp_path / f"report{index}.json"
        assert path.is_file(), f"worker {index} wrote no report:\n{_tail(tmp_path, index)}"
        reports.append(json.loads(path.read_text()))
    return reports


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _tail(tmp_path, index: int, chars: int = 3000) -> str:
    return (tmp_path / f"worker{index}.log").read_text()[-chars:]


@pytest.mark.slow
def test_two_workers_train_the_seed_model_to_identical_weights(tmp_path):
    reports = _run_workers(tmp_path, count=2, timeout=150)
    assert [r["replicas"] for r in reports] == [2, 2]
    assert reports[0]["losses"] == reports[1]["losses"] and len(reports[0]["losses"]) == 5
    weights = []
    for index in range(2):
        with np.load(tmp_path / f"weights{index}.npz") as saved:
            arrays = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        half = len(arrays) // 2
        weights.append((arrays[:half], arrays[half:]))
    (initial0, final0), (initial1, final1) = weights
    assert len(final0) == 10  # five layers with weights, a kernel and a bias each
    for a, b in zip(initial0 + final0, initial1 + final1, strict=True):
        np.testing.assert_array_equal(a, b)
    for before, after in zip(initial0, final0, strict=True):
        assert np.abs(after - before).max() > 1e-4, "a layer did not train"


def test_train_refuses_multi_worker_and_names_the_way_that_works():
    from cnncourse.keras import train
    from cnncourse.keras._tf import tf

    # An instance that was never initialised: train must refuse before touching it.
    strategy = object.__new__(tf.distribute.MultiWorkerMirroredStrategy)
    x, y = np.zeros((4, 28, 28, 1), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="fit_multi_worker"):
        train(seed_cnn, (x, y), epochs=1, strategy=strategy)
