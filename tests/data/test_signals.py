"""cnncourse.data.signals: synthetic 1D signals and token sequences for chapter 12."""

import numpy as np
import pytest

from cnncourse.data.signals import (
    SIGNAL_CLASSES,
    load_signals,
    make_signals,
    make_token_sequences,
)


def test_signals_shapes_dtypes_balance_and_seed():
    a = make_signals(400, length=96, seed=3)
    b = make_signals(400, length=96, seed=3)
    c = make_signals(400, length=96, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    x, y = a
    assert x.shape == (400, 96, 1) and x.dtype == np.float32
    assert y.shape == (400,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100] * 4
    assert a.class_names == SIGNAL_CLASSES == ("sine", "burst", "chirp", "square")
    assert a.events.shape == (400, 2) and len(a) == 400


def test_each_class_has_its_hand_checkable_property():
    s = make_signals(200, length=128, seed=0, noise=0.0, amplitude=(0.8, 0.8))
    x = s.x[..., 0].astype(np.float64)
    sine, burst, chirp, square = (x[s.y == k] for k in range(4))
    # A sampled sine obeys x[t-1] + x[t+1] = 2 cos(w) x[t]: the ratio is one constant.
    for row in sine[:10]:
        big = np.abs(row[1:-1]) > 0.3
        ratio = (row[:-2] + row[2:])[big] / row[1:-1][big]
        assert np.ptp(ratio) < 1e-6
        # cos(w) for a period of 20 to 50 samples
        assert np.cos(2 * np.pi / 20) - 1e-9 <= ratio[0] / 2 <= np.cos(2 * np.pi / 50) + 1e-9
    # A square wave takes the values +A and -A only, and both.
    np.testing.assert_allclose(np.abs(square), 0.8, rtol=1e-6)
    assert ((square > 0).any(axis=1) & (square < 0).any(axis=1)).all()
    # A chirp speeds up: more zero crossings in the second half than in the first.
    crossings = np.diff(np.signbit(chirp), axis=1)
    assert (crossings[:, 64:].sum(axis=1) > crossings[:, :63].sum(axis=1) + 3).all()
    # A burst is local: steps between neighbours are far larger inside the event.
    events = s.events[s.y == 1]
    assert (events[:, 1] - events[:, 0] >= 12).all() and (events[:, 1] - events[:, 0] <= 20).all()
    assert (events[:, 0] >= 0).all() and (events[:, 1] <= 128).all()
    for row, (start, stop) in zip(burst, events, strict=True):
        steps = np.abs(np.diff(row))
        inside = steps[start : stop - 1].max()
        outside = np.delete(steps, np.arange(start - 1 if start else 0, stop)).max()
        assert inside > 2 * outside
        assert outside <= 0.8 * 2 * np.pi / 20 + 1e-6  # the slowest sine can't step further
    assert (s.events[s.y != 1] == 0).all()


def test_signal_noise_has_the_requested_spread():
    clean = make_signals(300, seed=5, noise=0.0)
    noisy = make_signals(300, seed=5, noise=0.3)
    np.testing.assert_array_equal(clean.y, noisy.y)
    assert np.std(noisy.x - clean.x) == pytest.approx(0.3, rel=0.02)


def test_signal_class_subset_and_load_signals():
    s = make_signals(30, length=32, classes=("square", "chirp"), seed=1)
    assert s.class_names == ("square", "chirp") and set(s.y.tolist()) == {0, 1}
    d = load_signals(1000, length=64, seed=2)  # 250 per class: 175 / 25 / 50
    assert (len(d.train), len(d.val), len(d.test)) == (700, 100, 200)
    assert d.train.x.shape[1:] == (64, 1) and d.class_names == SIGNAL_CLASSES
    assert np.bincount(d.test.y).tolist() == [50] * 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be a positive int"),
        ({"n": 3.0}, "n must be a positive int"),
        ({"n": 10, "length": 16}, "length must be >= 32"),
        ({"n": 10, "classes": ("sine", "noise")}, "classes must be distinct names"),
        ({"n": 10, "classes": ("sine", "sine")}, "classes must be distinct names"),
        ({"n": 10, "amplitude": (1.0, 0.5)}, "amplitude must be"),
        ({"n": 10, "noise": -0.1}, "noise must be >= 0"),
    ],
)
def test_signals_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_signals(**kwargs)


def test_load_signals_bad_fractions():
    with pytest.raises(ValueError, match="fractions must be"):
        load_signals(100, val_fraction=0.5, test_fraction=0.5)


def _contains(seq, motif):
    k = len(motif)
    return any(tuple(seq[i : i + k]) == tuple(motif) for i in range(len(seq) - k + 1))


def test_token_sequences_label_says_whether_the_motif_occurs():
    x, y = make_token_sequences(300, length=16, vocab_size=5, motif=(3, 1, 4), seed=0)
    assert x.shape == (300, 16) and x.dtype == np.int64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [150, 150]
    assert x.min() >= 0 and x.max() < 5
    # With only 5 tokens the motif would appear by chance often; the label is still exact.
    assert all(_contains(seq, (3, 1, 4)) == bool(label) for seq, label in zip(x, y, strict=True))
    again, _ = make_token_sequences(300, length=16, vocab_size=5, motif=(3, 1, 4), seed=0)
    np.testing.assert_array_equal(x, again)
    # Negatives still use the motif's tokens, so counting tokens cannot solve the task.
    assert (np.isin(x[y == 0], (3, 1, 4)).mean()) > 0.4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be a positive int"),
        ({"n": 10, "vocab_size": 1, "motif": (0,)}, "vocab_size must be >= 2"),
        ({"n": 10, "motif": ()}, "motif must be a non-empty sequence of ints"),
        ({"n": 10, "motif": (0.5, 1.0)}, "motif must be a non-empty sequence of ints"),
        ({"n": 10, "vocab_size": 4, "motif": (1, 5)}, r"motif tokens must lie in \[0, 4\)"),
        ({"n": 10, "length": 2}, "length must be >= the motif length 3"),
    ],
)
def test_token_sequences_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_token_sequences(**kwargs)
