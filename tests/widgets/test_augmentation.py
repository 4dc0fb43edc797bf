"""AugmentationExplorer: deterministic, follows its controls, checks its input. Its NumPy
transforms (cnncourse.data.augment) are tested in tests/data/test_augment.py."""

import numpy as np
import pytest

from cnncourse.widgets import AugmentationExplorer


def test_explorer_bad_input_raises():
    with pytest.raises(ValueError, match="copies must be"):
        AugmentationExplorer(copies=0)


def test_explorer_is_deterministic_and_follows_its_controls():
    ex = AugmentationExplorer(source="digit", seed=4)
    assert ex.input.shape == (28, 28) and ex.images.shape == (9, 28, 28)
    again = AugmentationExplorer(source="digit", seed=4)
    np.testing.assert_array_equal(ex.images, again.images)
    assert ex.figure.value == again.figure.value
    first = ex.figure.value
    ex.seed.value = 5
    assert ex.figure.value != first and not np.allclose(ex.images, again.images)
    ex.rotation.value, ex.shift.value, ex.zoom.value = 0, 0, 0
    np.testing.assert_array_equal(ex.images, np.repeat(ex.input[None], 9, axis=0))
    ex.flip.value = True
    flipped = [p["flip"] for p in ex.params]
    assert any(flipped) and not all(flipped)
    for img, p in zip(ex.images, ex.params, strict=True):
        np.testing.assert_array_equal(img, ex.input[:, ::-1] if p["flip"] else ex.input)
    assert "9 random copies of a 28×28 image" in ex.caption.value


def test_typed_matrix_and_own_image():
    ex = AugmentationExplorer(source="matrix", rotation=90, shift=0, zoom=0)
    assert ex.input.shape == (6, 6) and ex.images.shape == (9, 6, 6)
    ex.picker.matrix.value = "1 2\n3"
    assert "same number of values" in ex.error
    own = AugmentationExplorer(image=np.ones((5, 6, 3)), copies=2, rotation=0, shift=0, zoom=0)
    np.testing.assert_array_equal(own.images, np.ones((2, 5, 6)))
