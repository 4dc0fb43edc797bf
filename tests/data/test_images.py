"""cnncourse.data.images: the sample photographs shipped with scikit-image / scikit-learn."""

import numpy as np
import pytest

from cnncourse import data


def test_sample_images():
    cat = data.sample_image("cat")
    assert cat.shape == (300, 451, 3) and cat.dtype == np.float32
    assert 0 <= cat.min() and cat.max() <= 1 and cat.max() > 0.5
    assert data.sample_image("coins").shape == (303, 384)
    gray = data.sample_image("astronaut", gray=True, size=64)
    assert gray.shape == (64, 64) and gray.dtype == np.float32
    assert data.sample_image("flower", size=(20, 30)).shape == (20, 30, 3)
    np.testing.assert_array_equal(data.sample_image("cameraman"), data.sample_image("camera"))
    assert set(data.describe_sample_images()) == set(data.SAMPLE_IMAGES)
    for name in data.SAMPLE_IMAGES:
        assert data.sample_image(name, size=8).shape[:2] == (8, 8)


def test_sample_image_bad_input():
    with pytest.raises(ValueError, match="unknown sample image 'dog'; choose one of cat"):
        data.sample_image("dog")
    with pytest.raises(TypeError, match="size must be None, an int or a pair"):
        data.sample_image("cat", size=(1, 2, 3))
