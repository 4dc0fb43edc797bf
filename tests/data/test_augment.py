"""cnncourse.data.augment, the NumPy transforms behind the augmentation widget: exact turns,
shifts, flips, zooms, seeds."""

import numpy as np
import pytest

from cnncourse.data import augment_image, random_augment

X = np.arange(16.0).reshape(4, 4)


def test_identity_settings_return_the_image_unchanged():
    np.testing.assert_array_equal(augment_image(X), X)
    rgb = np.random.default_rng(0).random((5, 7, 3))
    np.testing.assert_array_equal(augment_image(rgb, 0.0, (0, 0), 1.0, False), rgb)
    out, params = random_augment(np.stack([X, X]), rotation=0, shift=0, zoom=0, seed=3)
    np.testing.assert_array_equal(out, [X, X])
    assert params[0] == {"rotation": 0.0, "shift": (0.0, 0.0), "zoom": 1.0, "flip": False}


def test_quarter_turn_is_counter_clockwise():
    expected = np.array([[3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13], [0, 4, 8, 12]], dtype=float)
    np.testing.assert_array_equal(augment_image(X, rotation=90), expected)
    np.testing.assert_array_equal(augment_image(X, rotation=-90), np.rot90(X, -1))
    np.testing.assert_array_equal(augment_image(X, rotation=180), X[::-1, ::-1])


def test_one_pixel_shifts_fill_with_black():
    right = np.array([[0, 0, 1, 2], [0, 4, 5, 6], [0, 8, 9, 10], [0, 12, 13, 14]], dtype=float)
    np.testing.assert_array_equal(augment_image(X, shift=(0, 1)), right)
    up = np.array([[4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15], [0, 0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(augment_image(X, shift=(-1, 0)), up)
    half = augment_image(X, shift=(0, 0.5))  # halfway between neighbours
    np.testing.assert_allclose(half[0], [0, 0.5, 1.5, 2.5])


def test_flip_and_zoom():
    np.testing.assert_array_equal(augment_image(X, flip=True), X[:, ::-1])
    rgb = np.arange(2 * 3 * 3.0).reshape(2, 3, 3)
    np.testing.assert_array_equal(augment_image(rgb, flip=True), rgb[:, ::-1, :])
    # zoom 2 about the centre (1.5, 1.5): output (0, 0) reads input (0.75, 0.75)
    zoomed = augment_image(X, zoom=2)
    assert zoomed[0, 0] == pytest.approx(0.75 * 4 + 0.75)
    np.testing.assert_allclose(zoomed.mean(), X.mean())  # symmetric about the centre
    shrunk = augment_image(np.ones((9, 9)), zoom=0.5)
    assert shrunk[4, 4] == 1 and shrunk[0, 0] == 0 and shrunk.sum() == pytest.approx(25)


def test_seeds_reproduce_and_differ():
    batch = np.random.default_rng(1).random((6, 8, 8, 1))
    a, pa = random_augment(batch, 20, 0.2, 0.2, flip=True, seed=7)
    b, pb = random_augment(batch, 20, 0.2, 0.2, flip=True, seed=7)
    c, _ = random_augment(batch, 20, 0.2, 0.2, flip=True, seed=8)
    np.testing.assert_array_equal(a, b)
    assert pa == pb and not np.allclose(a, c) and a.shape == batch.shape
    for p in pa:
        assert abs(p["rotation"]) <= 20 and 0.8 <= p["zoom"] <= 1.2
        assert abs(p["shift"][0]) <= 1.6 and abs(p["shift"][1]) <= 1.6
    np.testing.assert_array_equal(a[0], augment_image(batch[0], **pa[0]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation": 200}, "rotation must be"),
        ({"shift": 1.0}, "shift must be"),
        ({"zoom": -0.1}, "zoom must be"),
    ],
)
def test_bad_ranges_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        random_augment(np.zeros((2, 4, 4)), **kwargs)


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, H, W, C\); got shape \(4, 4\)"):
        random_augment(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\); got shape \(4,\)"):
        augment_image(np.zeros(4))
    with pytest.raises(ValueError, match="zoom must be a positive factor"):
        augment_image(X, zoom=0)
    with pytest.raises(ValueError, match="shift must be a pair"):
        augment_image(X, shift=3)
    with pytest.raises(TypeError, match="real numbers"):
        augment_image(np.array([["a", "b"]]))
