"""cnncourse.data.faces: scikit-image's LFW subset (real photographs), split by seed."""

import numpy as np
import pytest
from skimage.data import lfw_subset
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from cnncourse import data


def test_faces_shapes_classes_and_split():
    d = data.load_faces()
    assert d.class_names == ("non-face", "face")
    assert [len(d.train), len(d.val), len(d.test)] == [120, 30, 50]
    for part in (d.train, d.val, d.test):
        assert part.x.shape[1:] == (25, 25, 1) and part.x.dtype == np.float32
        assert part.y.mean() == 0.5  # stratified: as many faces as non-faces
    np.testing.assert_array_equal(data.load_faces(seed=0).test.y, d.test.y)
    assert not np.array_equal(data.load_faces(seed=1).train.x, d.train.x)


def test_original_contrast_is_the_shipped_pixels_and_stretch_fills_0_to_1():
    shipped = lfw_subset().astype(np.float32)
    original = data.load_faces(contrast="original", test_fraction=0.5, val_fraction=0.0)
    for x in original.train.x[:5, ..., 0]:
        assert np.isclose(shipped, x).all(axis=(1, 2)).any()  # every image is one of skimage's
    stretched = data.load_faces()
    lows, highs = stretched.train.x.min(axis=(1, 2, 3)), stretched.train.x.max(axis=(1, 2, 3))
    np.testing.assert_allclose(lows, 0, atol=1e-6)
    np.testing.assert_allclose(highs, 1, atol=1e-6)


def test_larger_sizes_enlarge_the_crops():
    d = data.load_faces(size=50)
    assert d.train.x.shape[1:] == (50, 50, 1)
    assert 0 <= d.train.x.min() and d.train.x.max() <= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 24}, "size must be an int >= 25"),
        ({"contrast": "equalise"}, "contrast must be one of"),
        ({"test_fraction": 0}, "fractions must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_faces(**kwargs)


def _brightness_baseline(contrast: str) -> float:
    """5-fold accuracy of a logistic regression on each image's mean and spread alone."""
    d = data.load_faces(contrast=contrast, val_fraction=0.0, test_fraction=0.5)
    x = np.concatenate([d.train.x, d.test.x])[..., 0]
    y = np.concatenate([d.train.y, d.test.y])
    features = np.c_[x.mean(axis=(1, 2)), x.std(axis=(1, 2))]
    return cross_val_score(LogisticRegression(), features, y, cv=5).mean()


def test_the_brightness_shortcut_the_docstring_describes():
    assert _brightness_baseline("original") == pytest.approx(0.75, abs=0.04)
    assert _brightness_baseline("stretch") == pytest.approx(0.66, abs=0.04)
