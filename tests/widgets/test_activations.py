"""ActivationExplorer: each function and its derivative, and the vanishing-gradient bound."""

import numpy as np
import pytest

from cnncourse.widgets import ActivationExplorer, activation_and_derivative

FUNCS = {
    "relu": lambda x, a: np.maximum(0, x),
    "leaky_relu": lambda x, a: np.where(x > 0, x, a * x),
    "sigmoid": lambda x, a: 1 / (1 + np.exp(-x)),
    "tanh": lambda x, a: np.tanh(x),
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_function_and_derivative(name):
    ex = ActivationExplorer(function="relu")
    ex.function.value = name
    ex.alpha.value = 0.2
    np.testing.assert_allclose(ex.y, FUNCS[name](ex.x, 0.2), atol=1e-12)
    away = np.abs(ex.x) > 1e-3  # finite differences, off the kink at 0
    h = 1e-6
    numeric = (FUNCS[name](ex.x + h, 0.2) - FUNCS[name](ex.x - h, 0.2)) / (2 * h)
    np.testing.assert_allclose(ex.dy[away], numeric[away], atol=1e-6)
    assert ex.x.shape == (401,) and ex.x[0] == -5 and ex.x[-1] == 5


def test_vanishing_gradients_of_sigmoid():
    ex = ActivationExplorer(function="sigmoid", depth=10)
    assert ex.max_slope == pytest.approx(0.25, abs=1e-4)
    assert ex.signal == pytest.approx(0.25**10, rel=1e-3)
    ex.depth.value = 20
    assert ex.signal == pytest.approx(0.25**20, rel=1e-3)
    ex.function.value = "relu"
    assert ex.max_slope == 1 and ex.signal == 1


def test_alpha_and_range():
    ex = ActivationExplorer()
    ex.function.value = "leaky_relu"
    ex.x_range.value = 2.0
    assert ex.x[0] == -2 and ex.dy[0] == pytest.approx(ex.alpha.value)


def test_bad_names():
    with pytest.raises(ValueError, match="unknown activation"):
        activation_and_derivative("swish", [0.0])
    with pytest.raises(ValueError, match="function must be one of"):
        ActivationExplorer(function="swish")


def test_the_browser_gets_the_names_and_formulas():
    ex = ActivationExplorer(function="tanh", depth=7)
    assert ex.view.functions[ex.view.function] == "tanh" and ex.view.depth == 7
    assert len(ex.view.formulas) == len(ex.view.functions) and ex.view.formulas[3] == "tanh(x)"
