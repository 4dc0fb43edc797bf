"""cnncourse.data.shapes: synthetic coloured shapes with masks and boxes."""

import time

import numpy as np
import pytest

from cnncourse import data


def test_shapes_deterministic_balanced_and_in_range():
    a = data.make_shapes(600, size=32, seed=3)
    b = data.make_shapes(600, size=32, seed=3)
    c = data.make_shapes(600, size=32, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    x, y = a
    assert x.shape == (600, 32, 32, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0 and x.max() <= 1
    assert np.bincount(y).tolist() == [100] * 6  # 600 images over 6 classes
    assert a.class_names == data.SHAPE_NAMES


def test_shapes_masks_boxes_and_colours_agree():
    s = data.make_shapes(300, size=40, seed=0, noise=0.0, masks=True, boxes=True)
    assert s.masks.shape == (300, 40, 40) and s.masks.dtype == np.uint8
    assert s.boxes.shape == (300, 4)
    # The mask holds 0 and y + 1 only, and every shape covers some pixels.
    for i in range(300):
        assert set(np.unique(s.masks[i])) == {0, s.y[i] + 1}
    # Without noise the image has exactly two colours, split along the mask.
    fg = s.masks[0] > 0
    assert np.ptp(s.x[0][fg], axis=0).max() == 0 and np.ptp(s.x[0][~fg], axis=0).max() == 0
    # Each box is the tight box of its mask: the mask touches all four sides.
    for i in range(0, 300, 17):
        y0, x0, y1, x1 = s.boxes[i].astype(int)
        inside = s.masks[i][y0:y1, x0:x1] > 0
        assert inside.sum() == (s.masks[i] > 0).sum()
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


def test_shapes_area_ordering_matches_geometry():
    """Same radius for every class: a circle covers more pixels than the square inside it,
    which covers more than the triangle inside that (pi > 2 > 1.30 in units of r^2)."""
    s = data.make_shapes(
        600,
        size=64,
        seed=1,
        noise=0.0,
        scale=(0.4, 0.4),
        masks=True,
        classes=("circle", "square", "triangle"),
    )
    area = (s.masks > 0).sum(axis=(1, 2))
    mean = [area[s.y == k].mean() for k in range(3)]
    r2 = (0.4 * 64) ** 2
    np.testing.assert_allclose(mean, [np.pi * r2, 2 * r2, 3 * np.sqrt(3) / 4 * r2], rtol=0.03)


def test_extra_shapes_areas_match_geometry():
    """The shapes kept for new tasks: pentagon and hexagon inscribed in the circle of
    radius r ((5/2) sin 72 and (3/2) sqrt 3, times r^2), the disk below v = 0.2
    (pi/2 + 0.2 sqrt(0.96) + asin 0.2) and a 2:1 ellipse (pi/2)."""
    names = ("pentagon", "hexagon", "semicircle", "ellipse")
    s = data.make_shapes(400, size=64, seed=3, noise=0.0, scale=(0.4, 0.4), masks=True, classes=names)
    area = (s.masks > 0).sum(axis=(1, 2))
    mean = [area[s.y == k].mean() for k in range(4)]
    r2 = (0.4 * 64) ** 2
    expected = [
        2.5 * np.sin(np.radians(72)),
        1.5 * np.sqrt(3),
        np.pi / 2 + 0.2 * np.sqrt(0.96) + np.arcsin(0.2),
        np.pi / 2,
    ]
    np.testing.assert_allclose(mean, np.array(expected) * r2, rtol=0.03)
    assert set(data.EXTRA_SHAPES) == {*names, "heart"}
    assert not set(data.EXTRA_SHAPES) & set(data.SHAPE_NAMES)
    heart = data.make_shapes(5, size=32, classes=("heart",), masks=True, seed=0)
    assert (heart.masks > 0).sum(axis=(1, 2)).min() > 50


def test_shapes_gray_subset_and_load_shapes():
    s = data.make_shapes(20, size=28, gray=True, classes=("star", "ring"), seed=0)
    assert s.x.shape == (20, 28, 28, 1) and set(s.y) == {0, 1}
    assert s.class_names == ("star", "ring") and s.masks is None and s.boxes is None
    d = data.load_shapes(1200, size=16, seed=2)  # 200 per class: 140 / 20 / 40
    assert (len(d.train), len(d.val), len(d.test)) == (840, 120, 240)
    assert d.train.x.shape[1:] == (16, 16, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be a positive int"),
        ({"n": 2.5}, "n must be a positive int"),
        ({"n": 10, "size": 4}, "size must be >= 8"),
        ({"n": 10, "classes": ("circle", "blob")}, "classes must be distinct names"),
        ({"n": 10, "scale": (0.3, 0.7)}, "scale must be"),
        ({"n": 10, "noise": -1}, "noise must be >= 0"),
    ],
)
def test_shapes_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.make_shapes(**kwargs)


@pytest.mark.slow
def test_shapes_100k_in_seconds():
    # CPU time of this process (the generator is single-threaded): `make test` builds the
    # book beside two test workers on two cores, and the wall clock measured the wait
    # (22.8 s once, for about 9 s of work).
    start = time.process_time()
    s = data.make_shapes(100_000, size=32, seed=0)
    seconds = time.process_time() - start
    assert s.x.shape == (100_000, 32, 32, 3)
    assert seconds < 20, f"100k shapes took {seconds:.1f} s of CPU"
