"""The capstone's checks (cnncourse/grading/checks/capstone.py) on the notebook's own
answers and on answers with one classic mistake each, without a kernel."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from cnncourse.grading import checks
from cnncourse.grading.checks import capstone

from .grading_helpers import SOLUTIONS

CAPSTONE = SOLUTIONS / "14_capstone.ipynb"


def _answers() -> dict:
    """The namespace the solution cells of the capstone define (as a notebook's globals)."""
    namespace = {"np": np}
    for cell in json.loads(CAPSTONE.read_text(encoding="utf-8"))["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") != "keras":
            exec("".join(cell["source"]), namespace)
    return namespace


@pytest.fixture(scope="module")
def answers() -> dict:
    return _answers()


def _redefine(namespace: dict, source: str) -> dict:
    """A copy of ``namespace`` in which ``source`` (function definitions) is run: the
    functions it defines replace the answers of the same name, and every other answer
    sees them, as in a notebook."""
    changed = dict(namespace)
    exec(source, changed)
    for value in list(changed.values()):
        if callable(value) and getattr(value, "__globals__", None) is namespace:
            changed[value.__name__] = type(value)(value.__code__, changed, value.__name__, value.__defaults__)
    return changed


def test_the_solution_passes_every_check(answers, capsys):
    ns = answers
    checks.check_capstone_conv2d_forward(ns["conv2d_forward"])
    assert set(
        checks.score_capstone_conv2d_backward(ns["conv2d_forward"], ns["conv2d_backward"]).values()
    ) == {1}
    checks.check_he_normal(ns["he_normal"])
    checks.check_init_params(ns["init_params"])
    checks.check_adam_step(ns["adam_step"])
    checks.check_gradient_checker(ns["gradient_check"])
    scores = checks.score_network(ns["network_forward"], ns["loss_and_grads"])
    assert scores == dict.fromkeys(("logits", "loss", "w1", "b1", "w2", "b2", "w3", "b3"), 1.0)
    out = capsys.readouterr().out
    error = float(out.split("largest relative error ")[1].split()[0])
    assert error < 1e-7
    assert capstone._broken_prerequisites(ns["train"], list(capstone._PREREQUISITES)) == []


def test_a_flipped_dw_costs_its_third_only(answers, capsys):
    ns = _redefine(
        answers,
        "def conv2d_backward(dout, cache, _right=conv2d_backward):\n"
        "    dx, dw, db = _right(dout, cache)\n"
        "    return dx, dw[::-1, ::-1], db\n",
    )
    scores = checks.score_capstone_conv2d_backward(ns["conv2d_forward"], ns["conv2d_backward"])
    assert scores == {"dx": 1.0, "dw": 0.0, "db": 1.0}
    assert "-> dw" in capsys.readouterr().out


def test_a_wrong_gradient_costs_its_share_of_the_network(answers, capsys):
    ns = _redefine(
        answers,
        "def loss_and_grads(params, x, y, _right=loss_and_grads):\n"
        "    loss, grads = _right(params, x, y)\n"
        "    return loss, {**grads, 'b2': 2 * grads['b2']}\n",
    )
    scores = checks.score_network(ns["network_forward"], ns["loss_and_grads"])
    assert scores["b2"] == 0
    assert sum(scores.values()) == 7
    out = capsys.readouterr().out
    assert "\u2717 loss_and_grads" in out and "grads['b2']" in out
    assert "fix them first" not in out  # every layer is right


def test_a_wrong_layer_is_named_by_the_network_check(answers, capsys):
    ns = _redefine(
        answers,
        "def max_pool_backward(dout, cache, _right=max_pool_backward):\n"
        "    return 0.5 * _right(dout, cache)\n",
    )
    scores = checks.score_network(ns["network_forward"], ns["loss_and_grads"])
    assert [name for name, score in scores.items() if score == 1] == ["logits", "loss", "w3", "b3"]
    out = capsys.readouterr().out
    assert out.rstrip().endswith("fix them first: max_pool_backward"), out


def test_a_network_that_returns_the_wrong_things_is_told_what_to_return(answers, capsys):
    def network_forward(params, x):
        return None

    def loss_and_grads(params, x, y):
        return 0.5

    with pytest.raises(
        AssertionError,
        match=r"network_forward\(params for channels=\(2, 3\).*expected \(logits, cache\), got NoneType",
    ):
        checks.score_network(network_forward, loss_and_grads)
    scores = checks.score_network(answers["network_forward"], loss_and_grads)
    assert scores["logits"] == 1 and sum(scores.values()) == 1
    assert "expected (loss, grads), got float" in capsys.readouterr().out


def test_a_gradient_checker_must_restore_params(answers):
    ns = _redefine(
        answers,
        "def gradient_check(loss_and_grads, params, x, y, h=1e-5, _right=gradient_check):\n"
        "    errors = _right(loss_and_grads, params, x, y, h)\n"
        "    params['b1'] += h\n"
        "    return errors\n",
    )
    with pytest.raises(AssertionError, match=r"params\['b1'\] afterwards \(put every value back\)"):
        checks.check_gradient_checker(ns["gradient_check"])


def test_a_one_sided_difference_is_too_coarse(answers):
    ns = _redefine(
        answers,
        "def gradient_check(loss_and_grads, params, x, y, h=1e-5):\n"
        "    _, grads = loss_and_grads(params, x, y)\n"
        "    base = loss_and_grads(params, x, y)[0]\n"
        "    errors = {}\n"
        "    for name, value in params.items():\n"
        "        numeric = np.zeros_like(value)\n"
        "        for i in np.ndindex(value.shape):\n"
        "            value[i] += 1e-3\n"
        "            numeric[i] = (loss_and_grads(params, x, y)[0] - base) / 1e-3\n"
        "            value[i] -= 1e-3\n"
        "        errors[name] = float(np.max(np.abs(numeric - grads[name])"
        " / np.maximum(1e-8, np.abs(numeric) + np.abs(grads[name]))))\n"
        "    return errors\n",
    )
    with pytest.raises(AssertionError, match="a right gradient gives a relative error below 1e-06"):
        checks.check_gradient_checker(ns["gradient_check"])


def test_adam_without_bias_correction_fails_at_step_one(answers):
    ns = _redefine(
        answers,
        "def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):\n"
        "    for name, g in grads.items():\n"
        "        m = state[('m', name)] = beta1 * state.get(('m', name), 0) + (1 - beta1) * g\n"
        "        v = state[('v', name)] = beta2 * state.get(('v', name), 0) + (1 - beta2) * g * g\n"
        "        params[name] -= lr * m / (np.sqrt(v) + eps)\n",
    )
    with pytest.raises(AssertionError, match=r"params\['w'\] after step 1 "):
        checks.check_adam_step(ns["adam_step"])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def he_normal(shape, rng):\n    return rng.standard_normal(shape) * np.sqrt(2 / shape[-1])\n",
            r"he_normal\(shape=\(3, 3, 1, 8\), rng=np.random.default_rng\(0\)\)",
        ),
        (
            "def init_params(input_shape=(28, 28, 1), channels=(8, 16), num_classes=10, seed=0,"
            " _right=init_params):\n"
            "    params = _right(input_shape, channels, num_classes, seed)\n"
            "    return {**params, 'w1': 1.5 * params['w1']}\n",
            r"init_params\(input_shape=\(28, 28, 1\), channels=\(8, 16\), num_classes=10, seed=0\)\['w1'\]",
        ),
    ],
)
def test_wrong_initialisers_are_named(answers, source, expected):
    ns = _redefine(answers, source)
    with pytest.raises(AssertionError, match=expected):
        checks.check_he_normal(ns["he_normal"])
        checks.check_init_params(ns["init_params"])


def _fake_digits(n_test: int = 200) -> SimpleNamespace:
    rng = np.random.default_rng(0)
    split = SimpleNamespace(x=np.arange(n_test, dtype=float)[:, None], y=rng.integers(0, 10, n_test))
    return SimpleNamespace(train=split, test=split, class_names=tuple("0123456789"))


def _forward_with_accuracy(data, accuracy: float):
    """A network_forward whose logits get the first ``accuracy`` of the test set right."""

    def network_forward(params, x):
        right = np.arange(len(x)) < round(accuracy * len(x))
        predicted = np.where(right, data.test.y, (data.test.y + 1) % 10)
        return np.eye(10)[predicted], None

    return network_forward


@pytest.mark.parametrize(
    ("accuracy", "max_seconds", "fraction"),
    [(0.985, 60.0, 1.0), (0.97, 60.0, 1.0), (0.885, 60.0, 0.5), (0.985, 0.0, 0.5), (0.885, 0.0, 0.25)],
)
def test_training_earns_partial_credit_below_the_target_and_over_time(
    accuracy, max_seconds, fraction, capsys
):
    data = _fake_digits()

    def train(x, y):
        return {}, [2.3, 0.1]

    result = checks.score_training(
        train, _forward_with_accuracy(data, accuracy), data, max_seconds=max_seconds
    )
    assert result.accuracy == pytest.approx(accuracy, abs=0.003)
    assert result.fraction == pytest.approx(fraction, abs=0.02)
    assert result.losses == [2.3, 0.1]
    mark = "\u2713" if fraction == 1 else "\u2717"
    assert capsys.readouterr().out.startswith(f"{mark} train: test accuracy {accuracy:.1%}")


def test_training_with_nothing_learned_fails_and_names_the_broken_parts(answers):
    data = _fake_digits()
    ns = _redefine(
        answers, "def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):\n    pass\n"
    )
    ns = _redefine(ns, "def train(x, y):\n    return {}, []\n")
    forward = _forward_with_accuracy(data, 0.5)
    with pytest.raises(AssertionError, match=r"(?s)test accuracy 50\.0% .*fix them first: adam_step$"):
        checks.score_training(ns["train"], forward, data)


@pytest.mark.slow
def test_the_keras_model_of_the_solution_matches_and_a_softmax_gets_a_hint(answers):
    from cnncourse.keras._tf import keras

    namespace = {**answers, "keras": keras}
    for cell in json.loads(CAPSTONE.read_text(encoding="utf-8"))["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "keras":
            exec("".join(cell["source"]), namespace)
    checks.check_keras_model(
        namespace["build_keras_model"], specs=[*capstone.KERAS_SPECS, ((12, 8, 2), (3, 2), 5, 2, 1)]
    )

    def with_softmax(params, input_shape):
        model = namespace["build_keras_model"](params, input_shape)
        return keras.Sequential([model, keras.layers.Softmax()])

    with pytest.raises(AssertionError, match="Hint: your model ends with a softmax"):
        checks.check_keras_model(with_softmax)
    with pytest.raises(AssertionError, match=r"expected a Keras model, got dict"):
        checks.check_keras_model(lambda params, input_shape: params)
