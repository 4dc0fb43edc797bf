"""The checks of chapter 13 (cnncourse.grading.checks.interpretation): right answers pass,
the classic mistakes fail with a message that names the case and the first wrong value."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse.grading import checks
from cnncourse.grading.checks import interpretation as I


def test_the_worked_example_by_hand():
    grads = np.broadcast_to(np.array([2.0, -1.0]) / 9, I.WORKED_MAPS.shape)[None]
    np.testing.assert_allclose(I.reference_cam_from_gradients(I.WORKED_MAPS[None], grads)[0], I.WORKED_CAM)
    np.testing.assert_allclose(
        I.reference_cam_from_gradients(I.WORKED_MAPS[None], -grads)[0], I.WORKED_CAM_CLASS1
    )
    assert I.WORKED_CAM[1, 1] == 1 and I.WORKED_CAM[0, 1] == pytest.approx(1 / 3)


def test_cam_mistakes_get_hints(capsys):
    checks.check_cam_from_gradients(I.reference_cam_from_gradients)
    assert "\u2713 reference_cam_from_gradients: 2 public checks passed" in capsys.readouterr().out

    def no_relu(maps, grads):
        weighted = (grads.mean(axis=(1, 2), keepdims=True) * maps).sum(axis=-1)
        return weighted / np.abs(weighted).reshape(len(weighted), -1).max(axis=1)[:, None, None]

    def batch_maximum(maps, grads):
        cam = np.maximum((grads.mean(axis=(1, 2), keepdims=True) * maps).sum(axis=-1), 0)
        return cam / cam.max()

    with pytest.raises(AssertionError, match=r"(?s)worked example.*expected 0, got -0\.333333.*ReLU"):
        checks.check_cam_from_gradients(no_relu)
    with pytest.raises(
        AssertionError, match=r"(?s)a batch.*its own maximum, not by the maximum over the batch"
    ):
        checks.check_cam_from_gradients(batch_maximum)


def test_near_shape_must_not_wrap_around():
    def wrapping(masks):
        inside = np.asarray(masks) > 0
        near = inside.copy()
        for axis in (1, 2):
            for shift in (1, -1):
                near |= np.roll(inside, shift, axis=axis)
        return near

    checks.check_near_shape(I.reference_near_shape)
    with pytest.raises(
        AssertionError, match=r"\[shapes on the edges: nothing wraps around\].*first wrong index"
    ):
        checks.check_near_shape(wrapping)


def test_focus_ratio_by_hand():
    checks.check_focus_ratio(I.reference_focus_ratio)
    with pytest.raises(AssertionError, match=r"expected 1.74194, got"):
        checks.check_focus_ratio(
            lambda maps, masks: float(np.mean(maps[np.asarray(masks) > 0]) / np.mean(maps))
        )


def test_sign_noise_checks_balance_seeds_and_clipping():
    checks.check_sign_noise(I.reference_sign_noise)
    with pytest.raises(AssertionError, match="the same seed should give the same noise"):
        checks.check_sign_noise(lambda images, eps, seed=0: I.reference_sign_noise(images, eps, None))
    with pytest.raises(AssertionError, match="clip the result"):
        checks.check_sign_noise(
            lambda images, eps, seed=0: (
                images + eps * np.random.default_rng(seed).choice([-1.0, 1.0], images.shape)
            )
        )
    with pytest.raises(AssertionError, match="about half the values should go up"):
        checks.check_sign_noise(lambda images, eps, seed=0: np.clip(images + eps, 0, 1))


# --------------------------------------------------------------------------- with Keras


@pytest.fixture(scope="module")
def shapes():
    from cnncourse.data import make_shapes
    from cnncourse.keras.pretrained import load_pretrained

    return load_pretrained(), make_shapes(60, seed=1, masks=True)


@pytest.mark.slow
def test_the_worked_example_model_and_its_gradients():
    model = I.tiny_gradcam_model()
    maps, grads = I.reference_score_gradients(model, I.WORKED_MAPS[None], "maps", 1)
    np.testing.assert_allclose(maps[0], I.WORKED_MAPS)
    np.testing.assert_allclose(grads[0, 1, 2], [-2 / 9, 1 / 9], rtol=1e-6)
    np.testing.assert_allclose(
        I.reference_grad_cam(model, I.WORKED_MAPS[None], "maps")[0], I.WORKED_CAM, atol=1e-6
    )


@pytest.mark.slow
def test_keras_checks_pass_the_references_and_name_mistakes(shapes):
    model, test = shapes
    checks.check_score_gradients(I.reference_score_gradients, model, test.x[:3])
    checks.check_grad_cam(I.reference_grad_cam, model, test.x[:3])
    checks.check_fgsm(I.reference_fgsm, model, test.x[:8], test.y[:8])

    def probability_gradients(model, images, layer_name, class_index):
        from cnncourse.keras._tf import keras, tf

        probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
        with tf.GradientTape() as tape:
            maps, probs = probe(tf.convert_to_tensor(np.asarray(images, np.float32)))
            idx = np.broadcast_to(np.asarray(class_index), (len(images),))
            score = tf.reduce_sum(tf.gather(probs, idx, axis=1, batch_dims=1))
        return maps.numpy(), tape.gradient(score, maps).numpy()

    with pytest.raises(AssertionError, match="differentiate the logit"):
        checks.check_score_gradients(probability_gradients)
    with pytest.raises(AssertionError, match=r"step \*up\* the loss"):
        checks.check_fgsm(lambda m, x, y, eps: I.reference_fgsm(m, x, y, -eps), model, test.x[:8], test.y[:8])
    with pytest.raises(AssertionError, match="within eps of the image and in"):
        checks.check_fgsm(lambda m, x, y, eps: x + 2 * eps, model, test.x[:8], test.y[:8])


@pytest.mark.slow
def test_attack_report_scores_each_number(shapes, capsys):
    model, test = shapes
    x, y, eps = test.x, test.y, 0.04
    clean = I.reference_accuracy(model, x, y)
    noise = I.reference_accuracy(model, I.reference_sign_noise(x, eps, 0), y)
    fgsm = I.reference_accuracy(model, I.reference_fgsm(model, x, y, eps), y)
    assert clean - fgsm > clean - noise + I.CLEAR_MARGIN  # the chapter's point, measured
    right = checks.score_attack_report(
        clean, noise, fgsm, model, x, y, eps, sign_noise=I.reference_sign_noise
    )
    assert all(right.values()) and len(right) == 5
    wrong = checks.score_attack_report(clean, noise, noise, model, x, y, eps)
    assert wrong == {
        "clean accuracy": True,
        "accuracy under random sign noise": True,
        "accuracy under FGSM": False,
        "the attack beats the noise": False,
    }
    assert "the grader measures" in capsys.readouterr().out
