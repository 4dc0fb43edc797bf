"""Mixup and CutMix on hand-worked tiny batches, their invariants over many draws, and
training with them through ``fit(augment=...)``."""

from functools import partial

import numpy as np
import pytest

from cnncourse import nn
from cnncourse.nn.mixing import cutmix, cutmix_box, mixup, one_hot


def _two_images():
    """Image 0 all zeros, image 1 all ones (4x4, 1 channel); labels class 0 and class 2 of 3."""
    x = np.zeros((2, 4, 4, 1), np.float32)
    x[1] = 1.0
    return x, one_hot(np.array([0, 2]), 3)


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert one_hot([1], 2).dtype == np.float32
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]; got 3 at index 1"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="labels must be a 1-D array of integers"):
        one_hot([0.5], 3)


def test_mixup_hand_worked():
    x = np.array([0.0, 4.0, 8.0], np.float32).reshape(3, 1, 1, 1)
    y = one_hot(np.array([0, 1, 1]), 2)
    x_mix, y_mix = mixup(x, y, lam=0.75, partners=[1, 2, 0])
    # 0.75 * [0, 4, 8] + 0.25 * [4, 8, 0] = [1, 5, 6]
    np.testing.assert_allclose(x_mix.ravel(), [1.0, 5.0, 6.0])
    np.testing.assert_allclose(y_mix, [[0.75, 0.25], [0.0, 1.0], [0.25, 0.75]])
    assert x_mix.dtype == np.float32


def test_cutmix_hand_worked_box():
    x, y = _two_images()
    x_mix, y_mix = cutmix(x, y, box=(1, 1, 2, 3), partners=[1, 0])
    expected = np.zeros((4, 4))
    expected[1:3, 1:4] = 1.0  # rows 1-2, columns 1-3 come from image 1
    np.testing.assert_array_equal(x_mix[0, ..., 0], expected)
    np.testing.assert_array_equal(x_mix[1, ..., 0], 1.0 - expected)
    # The box covers 6 of 16 pixels: 10/16 of the label stays, 6/16 comes from the partner.
    np.testing.assert_allclose(y_mix, [[0.625, 0.0, 0.375], [0.375, 0.0, 0.625]])
    np.testing.assert_array_equal(x[0], 0.0)  # the input is not changed


def test_cutmix_box_size_and_clipping():
    # lam = 0.75: sides 8 * sqrt(0.25) = 4, so rows and columns centre - 2 .. centre + 1.
    # Seed 0 draws the centre (row 6, column 5): rows 4-7, columns 3-6, inside the image.
    assert cutmix_box(8, 8, 0.75, 0) == (4, 3, 4, 4)
    # Seed 3 draws (row 6, column 0): columns -2..1 are cut to 0..1, a 4x2 box.
    assert cutmix_box(8, 8, 0.75, 3) == (4, 0, 4, 2)
    assert cutmix_box(8, 8, 1.0, 3)[2:] == (0, 0)  # lam = 1: nothing to paste
    for seed in range(50):
        top, left, h, w = cutmix_box(10, 6, 0.5, seed)
        assert 0 <= top and top + h <= 10 and 0 <= left and left + w <= 6
        assert h <= round(10 * np.sqrt(0.5)) and w <= round(6 * np.sqrt(0.5))


@pytest.mark.parametrize("seed", range(20))
def test_labels_sum_to_one_and_cutmix_label_weight_is_the_pasted_area(seed):
    rng = np.random.default_rng(seed)
    n, k = 6, 4
    # Image i is filled with the value i, so every pixel tells which image it came from.
    x = np.broadcast_to(np.arange(n, dtype=np.float64).reshape(n, 1, 1, 1), (n, 7, 9, 2)).copy()
    y = one_hot(np.arange(n) % k, k)
    for mix in (partial(mixup, alpha=0.4), partial(cutmix, alpha=1.0)):
        x_mix, y_mix = mix(x, y, np.random.default_rng(seed))
        np.testing.assert_allclose(y_mix.sum(axis=1), 1.0)
        assert (y_mix >= 0).all()
    x_mix, y_mix = cutmix(x, y, rng, alpha=1.0)
    for i in range(n):
        from_partner = x_mix[i] != i
        if from_partner.any():
            j = int(x_mix[i][from_partner][0])
            own = 1.0 - from_partner.mean()
            expected = own * y[i] + (1 - own) * y[j]
            np.testing.assert_allclose(y_mix[i], expected, err_msg=f"image {i} mixed with {j}")
        else:  # an empty box, or the image drew itself as partner
            np.testing.assert_allclose(y_mix[i], y[i])


def test_mixup_draws_lam_from_beta_and_is_reproducible():
    x, y = _two_images()
    first = mixup(x, y, np.random.default_rng(5), alpha=0.2)
    again = mixup(x, y, np.random.default_rng(5), alpha=0.2)
    np.testing.assert_array_equal(first[0], again[0])
    # Small alpha pushes lam towards 0 or 1: most batches barely mix.
    lams = [mixup(x, y, seed, alpha=0.2, partners=[1, 0])[1][0, 0] for seed in range(400)]
    assert np.mean((np.array(lams) < 0.1) | (np.array(lams) > 0.9)) > 0.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, y: mixup(x, y.argmax(1)), r"mixup needs one-hot labels y \(N, K\); got shape \(2,\)"),
        (lambda x, y: mixup(x[:1], y), "x has 1 images but y has 2 labels"),
        (lambda x, y: mixup(x, y, lam=1.5), r"lam must be in \[0, 1\]; got 1.5"),
        (lambda x, y: mixup(x, y, alpha=0), "alpha must be > 0"),
        (lambda x, y: mixup(x, y, partners=[0, 2]), r"partners must be 2 indices in \[0, 1\]"),
        (lambda x, y: cutmix(x, y, box=(3, 0, 2, 2)), r"does not fit in a 4x4 image"),
        (lambda x, y: cutmix(x, y, lam=0.5, box=(0, 0, 1, 1)), "give either lam or box, not both"),
        (lambda x, y: cutmix(x[..., 0], y), r"x must be a 4-D array \(N, H, W, C\)"),
    ],
)
def test_bad_input(call, message):
    x, y = _two_images()
    with pytest.raises(ValueError, match=message):
        call(x, y)


def test_fit_applies_augment_to_training_batches_only():
    rng = np.random.default_rng(0)
    x = rng.random((40, 6, 6, 1)).astype(np.float32)
    y = one_hot(np.arange(40) % 3, 3)
    seen = []

    def spy(x_batch, y_batch, rng):
        x_mix, y_mix = cutmix(x_batch, y_batch, rng)
        seen.append((len(x_batch), y_mix))
        return x_mix, y_mix

    model = nn.Sequential(
        [nn.Conv2D(2, 3, activation="relu"), nn.Flatten(), nn.Dense(3, activation="softmax")]
    )
    history = model.fit(x, y, epochs=2, batch_size=16, augment=spy, validation_data=(x, y), verbose=0)
    assert [n for n, _ in seen] == [16, 16, 8] * 2  # every training batch, no validation batch
    assert any((y_mix.max(axis=1) < 1).any() for _, y_mix in seen)  # labels did get mixed
    assert len(history.history["val_loss"]) == 2
