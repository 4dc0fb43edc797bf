"""cnncourse.data.splits: the Split / Dataset containers and seeded stratified splits."""

import numpy as np
import pytest

from cnncourse import data
from cnncourse.data import splits


def test_split_unpacks_and_has_a_length():
    s = data.Split(np.zeros((3, 2, 2, 1), np.float32), np.arange(3))
    x, y = s
    assert x is s.x and y is s.y and len(s) == 3


def test_stratified_split_keeps_the_class_proportions():
    y = np.repeat(np.arange(3), [10, 20, 30])
    parts = splits.stratified_split(y, [0.7, 0.1, 0.2], np.random.default_rng(0))
    assert [len(p) for p in parts] == [42, 6, 12]
    assert [np.bincount(y[p], minlength=3).tolist() for p in parts] == [[7, 14, 21], [1, 2, 3], [2, 4, 6]]
    together = np.sort(np.concatenate(parts))
    np.testing.assert_array_equal(together, np.arange(60))  # a partition: nothing lost or shared
    again = splits.stratified_split(y, [0.7, 0.1, 0.2], np.random.default_rng(0))
    for a, b in zip(parts, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_split_dataset_by_seed():
    x = np.arange(100, dtype=np.float32)[:, None]
    y = np.arange(100) % 4
    d = data.split_dataset(x, y, ["a", "b", "c", "d"], val_fraction=0.2, test_fraction=0.2, seed=3)
    assert (len(d.train), len(d.val), len(d.test)) == (60, 20, 20)
    assert d.class_names == ("a", "b", "c", "d")
    np.testing.assert_array_equal(d.train.x[:, 0].astype(int) % 4, d.train.y)  # pairs kept together
    other = data.split_dataset(x, y, "abcd", 0.2, 0.2, seed=4)
    assert not np.array_equal(other.train.y, d.train.y)


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.2), (0.1, 0.0), (0.5, 0.5), (1.0, 0.1)])
def test_bad_fractions(val, test):
    with pytest.raises(ValueError, match="fractions must be in"):
        splits.split_fractions(val, test)
