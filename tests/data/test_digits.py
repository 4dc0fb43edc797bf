"""cnncourse.data.digits: scikit-learn's digits as 28x28x1 images, split by seed."""

import numpy as np
import pytest

from cnncourse import data


def test_digits_shapes_split_and_seed():
    d = data.load_digits()
    assert d.train.x.shape[1:] == (28, 28, 1) and d.train.x.dtype == np.float32
    assert len(d.train) + len(d.val) + len(d.test) == 1797
    assert len(d.test) == pytest.approx(0.2 * 1797, abs=10)
    assert 0.0 <= d.train.x.min() and d.train.x.max() <= 1.0
    assert set(np.unique(d.test.y)) == set(range(10))
    again = data.load_digits(seed=0)
    other = data.load_digits(seed=1)
    np.testing.assert_array_equal(again.train.y, d.train.y)
    assert not np.array_equal(other.train.y, d.train.y)
