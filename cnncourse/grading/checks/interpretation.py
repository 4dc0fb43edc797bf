"""Checks of chapter 13: Grad-CAM (from maps and gradients, the gradients of a class
score, the whole heat map), how much of a map lies near the shape, and the fast gradient
sign attack measured against random sign noise of the same size.

The Grad-CAM checks use the chapter's worked example: a ``3 x 3`` map with two channels
followed by global average pooling and logits ``2 g_1 - g_2`` and ``-2 g_1 + g_2``
(:func:`tiny_gradcam_model`), whose channel weights are ``(2/9, -1/9)`` by hand.
TensorFlow is imported only when a check needs it, so importing the checks stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import (
    Case,
    assert_close,
    assert_shape,
    check_function,
    learner_facing,
    name_of,
    outputs_match,
    passed,
    run_parts,
)
from .detection import hand_worked

__all__ = [
    "check_cam_from_gradients",
    "check_fgsm",
    "check_focus_ratio",
    "check_grad_cam",
    "check_near_shape",
    "check_score_gradients",
    "check_sign_noise",
    "score_attack_report",
]

# The chapter's worked example: channel 1 a blob in the centre, channel 2 two corners.
WORKED_MAPS = np.stack(
    [np.array([[0, 1, 0], [1, 3, 1], [0, 1, 0]]), np.array([[2, 0, 0], [0, 0, 0], [0, 0, 2]])], axis=-1
).astype(np.float32)  # (3, 3, 2)
WORKED_LOGIT_WEIGHTS = np.array([[2.0, -2.0], [-1.0, 1.0]], dtype=np.float32)  # (K, classes)
# Grad-CAM of the worked example by hand, for class 0 and for class 1.
WORKED_CAM = np.array([[0, 1, 0], [1, 3, 1], [0, 1, 0]]) / 3
WORKED_CAM_CLASS1 = np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, 1]])


# --------------------------------------------------------------------------- references


def reference_cam_from_gradients(maps, grads) -> np.ndarray:
    """Grad-CAM from a layer's maps and the class score's gradients, both ``(N, h, w, K)``:
    ``ReLU(sum_k mean_ij(grads) * maps)``, each map divided by its maximum -> ``(N, h, w)``."""
    maps, grads = np.asarray(maps, dtype=np.float64), np.asarray(grads, dtype=np.float64)
    cam = np.maximum((grads.mean(axis=(1, 2), keepdims=True) * maps).sum(axis=-1), 0)
    return _per_image_normalised(cam)


def _per_image_normalised(cam: np.ndarray) -> np.ndarray:
    top = cam.reshape(len(cam), -1).max(axis=1)[:, None, None]
    return np.where(top > 0, cam / np.where(top > 0, top, 1.0), 0.0)


def reference_score_gradients(model, images, layer_name: str, class_index) -> tuple[np.ndarray, np.ndarray]:
    """``(maps, grads)``, both ``(N, h, w, K)``: the maps of ``layer_name`` and the
    gradients of each image's class logit with respect to them."""
    from cnncourse.keras import interpret
    from cnncourse.keras._tf import tf

    x = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    scores = interpret._scorer(model, extra=[model.get_layer(layer_name).output])
    with tf.GradientTape() as tape:
        maps, logits = scores(x)
        idx = np.broadcast_to(np.asarray(class_index), (len(x),))
        score = tf.reduce_sum(tf.gather(logits, idx, axis=1, batch_dims=1))
    return maps.numpy(), tape.gradient(score, maps).numpy()


def reference_grad_cam(model, images, layer_name: str, class_index=None) -> np.ndarray:
    """Grad-CAM heat maps ``(N, H, W)`` in [0, 1] (the course's ``interpret.grad_cam``)."""
    from cnncourse.keras import interpret

    return interpret.grad_cam(model, images, layer_name, class_index)


def reference_fgsm(model, images, labels, eps: float) -> np.ndarray:
    """``clip(x + eps * sign(d loss / d x), 0, 1)`` with the cross-entropy of the model's
    probabilities for the true labels: images ``(N, H, W, C)`` -> the same shape."""
    x = np.asarray(images, dtype=np.float32)
    return np.clip(x + eps * _loss_gradient_sign(model, x, labels), 0, 1)


def _loss_gradient_sign(model, images: np.ndarray, labels) -> np.ndarray:
    from cnncourse.keras._tf import keras, tf

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = keras.losses.sparse_categorical_crossentropy(labels, model(x, training=False))
    return np.sign(tape.gradient(loss, x).numpy())


def reference_sign_noise(images, eps: float, seed: int) -> np.ndarray:
    """``clip(x + eps * s, 0, 1)`` with ``s`` independent random signs (+1 or -1)."""
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=np.shape(images))
    return np.clip(np.asarray(images, dtype=np.float32) + eps * signs, 0, 1).astype(np.float32)


def reference_accuracy(model, images, labels) -> float:
    """Share of ``images`` whose most probable class is the label."""
    predicted = np.argmax(np.asarray(model(np.asarray(images, dtype=np.float32), training=False)), axis=1)
    return float(np.mean(predicted == np.asarray(labels)))


def reference_near_shape(masks) -> np.ndarray:
    """``masks (N, H, W)`` (0: background) -> bool ``(N, H, W)``: on the shape or next to
    it (one of the four neighbours is on it); the image's edges do not wrap around."""
    inside = np.asarray(masks) > 0
    near = inside.copy()
    near[:, 1:] |= inside[:, :-1]
    near[:, :-1] |= inside[:, 1:]
    near[:, :, 1:] |= inside[:, :, :-1]
    near[:, :, :-1] |= inside[:, :, 1:]
    return near


def reference_focus_ratio(maps, masks) -> float:
    """Mean of ``maps (N, H, W)`` near the shapes divided by its mean everywhere else."""
    near = reference_near_shape(masks)
    maps = np.asarray(maps, dtype=np.float64)
    return float(maps[near].mean() / maps[~near].mean())


# --------------------------------------------------------------------------- the worked example


def tiny_gradcam_model():
    """The chapter's worked example as a Keras model: ``(N, 3, 3, 2)`` -> a 1x1 conv
    named ``"maps"`` that copies its input -> global average pooling -> ``Dense(2,
    softmax)`` with logits ``2 g_1 - g_2`` and ``-2 g_1 + g_2``."""
    from cnncourse.keras._tf import keras

    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((3, 3, 2)),
            layers.Conv2D(2, 1, use_bias=False, name="maps"),
            layers.GlobalAveragePooling2D(name="features"),
            layers.Dense(2, activation="softmax", name="predictions"),
        ],
        name="worked_example",
    )
    model.set_weights(
        [np.eye(2, dtype=np.float32).reshape(1, 1, 2, 2), WORKED_LOGIT_WEIGHTS, np.zeros(2, np.float32)]
    )
    return model


def shared_model(model):
    """``model``, made to stay itself under ``copy.deepcopy``: the checks copy a case's
    arguments to catch changes in place, but a copied Keras model's weights are no longer
    watched by a ``tf.GradientTape`` (and copying it is slow). Returns ``model``."""
    model.__deepcopy__ = lambda memo: model
    return model


# --------------------------------------------------------------------------- Grad-CAM


def _cam_diagnose(got, case: Case) -> str:
    maps, grads = (np.asarray(a, dtype=np.float64) for a in case.args)
    weighted = (grads.mean(axis=(1, 2), keepdims=True) * maps).sum(axis=-1)
    relu = np.maximum(weighted, 0)
    variants = {
        "keep only the positive part of the weighted sum (ReLU) before dividing by the maximum": (
            weighted / np.abs(weighted).reshape(len(weighted), -1).max(axis=1)[:, None, None]
        ),
        "divide each image's map by its own maximum, not by the maximum over the batch": relu / relu.max(),
        "divide each map by its maximum, so that it lies in [0, 1]": relu,
    }
    return next((hint for hint, value in variants.items() if outputs_match(got, value)), "")


@learner_facing
def check_cam_from_gradients(fn: Callable) -> None:
    """``fn(maps, grads)`` -> Grad-CAM ``(N, h, w)`` in [0, 1], from ``(N, h, w, K)``."""
    name = name_of(fn)
    maps = WORKED_MAPS[None]
    class0 = np.broadcast_to(WORKED_LOGIT_WEIGHTS[:, 0] / 9, maps.shape).astype(np.float32)
    batch = np.concatenate([maps, maps, 10 * maps])
    batch_grads = np.concatenate([-class0, np.full_like(class0, -1 / 9), class0])
    cases = [
        (Case((maps, class0), note="the chapter's worked example, weights (2/9, -1/9)"), WORKED_CAM[None]),
        (
            Case((batch, batch_grads), note="a batch: class 1, nothing for the class, the example x 10"),
            np.stack([WORKED_CAM_CLASS1, np.zeros((3, 3)), WORKED_CAM]),
        ),
    ]
    for case, expected in cases:
        check_function(
            fn,
            hand_worked(expected),
            [case],
            name=name,
            check_dtype=False,
            quiet=True,
            diagnose=_cam_diagnose,
        )
    passed(name, len(cases), "the chapter's worked example")


def _gradient_diagnose(got, case: Case) -> str:
    if isinstance(got, tuple) and len(got) == 2:
        grads = np.asarray(got[1], dtype=np.float64)
        expected = np.asarray(_hand_worked_gradients(case)[1], dtype=np.float64)
        if grads.shape == expected.shape and not outputs_match(grads, expected):
            if np.all(np.sign(grads) == np.sign(expected)):
                return (
                    "the gradients point the right way but have the wrong size: differentiate the "
                    "logit (the input of the softmax), not the probability"
                )
    return ""


def _hand_worked_gradients(case: Case):
    _, images, _, class_index = case.args
    idx = np.broadcast_to(np.asarray(class_index), (len(images),))
    grads = np.stack([np.broadcast_to(WORKED_LOGIT_WEIGHTS[:, c] / 9, WORKED_MAPS.shape) for c in idx])
    return np.asarray(images, dtype=np.float32), grads.astype(np.float32)


@learner_facing
def check_score_gradients(fn: Callable, model=None, images=None) -> None:
    """``fn(model, images, layer_name, class_index)`` -> ``(maps, grads)``, both ``(N, h,
    w, K)``: on the worked example, then (given ``model`` and ``images``) against the
    course's computation at ``conv3``."""
    name = name_of(fn)
    tiny = shared_model(tiny_gradcam_model())
    pair = np.stack([WORKED_MAPS, 2 * WORKED_MAPS])
    cases = [
        Case((tiny, WORKED_MAPS[None], "maps", 0), label="worked example, 'maps', class_index=0"),
        Case(
            (tiny, pair, "maps", np.array([1, 0])),
            label="worked example x (1, 2), 'maps', class_index=[1, 0]",
        ),
    ]
    for case in cases:
        check_function(
            fn,
            lambda *args, case=case: _hand_worked_gradients(case),
            [case],
            name=name,
            outputs=("maps", "grads"),
            check_dtype=False,
            quiet=True,
            diagnose=_gradient_diagnose,
        )
    if model is not None:
        labels = np.arange(len(images)) % model.output_shape[-1]
        case = Case(
            (shared_model(model), np.asarray(images), "conv3", labels),
            label=f"model, images {np.shape(images)}, 'conv3', class_index={labels.tolist()}",
        )
        check_function(
            fn,
            reference_score_gradients,
            [case],
            name=name,
            outputs=("maps", "grads"),
            check_dtype=False,
            rtol=1e-3,
            atol=1e-5,
            quiet=True,
        )
        cases.append(case)
    passed(name, len(cases), "the worked example" + (" and the shapes CNN" if model is not None else ""))


@learner_facing
def check_grad_cam(fn: Callable, model=None, images=None) -> None:
    """``fn(model, images, layer_name, class_index=None)`` -> ``(N, H, W)`` in [0, 1]."""
    name = name_of(fn)
    tiny = shared_model(tiny_gradcam_model())
    example = WORKED_MAPS[None]
    cases = [
        (
            Case((tiny, example, "maps"), {"class_index": 0}, label="worked example, 'maps', class_index=0"),
            WORKED_CAM,
        ),
        (
            Case((tiny, example, "maps"), {"class_index": 1}, label="worked example, 'maps', class_index=1"),
            WORKED_CAM_CLASS1,
        ),
        (Case((tiny, example, "maps"), label="worked example, 'maps' (the predicted class, 0)"), WORKED_CAM),
    ]
    for case, expected in cases:
        check_function(
            fn, hand_worked(expected[None]), [case], name=name, check_dtype=False, quiet=True, atol=1e-6
        )
    n_checks = len(cases)
    if model is not None:
        for layer in ("conv3", "conv4"):
            case = Case(
                (shared_model(model), np.asarray(images), layer),
                label=f"model, images {np.shape(images)}, {layer!r}",
            )
            check_function(
                fn, reference_grad_cam, [case], name=name, check_dtype=False, quiet=True, rtol=1e-3, atol=1e-4
            )
            n_checks += 1
    passed(name, n_checks, "the worked example" + (" and the shapes CNN" if model is not None else ""))


# --------------------------------------------------------------------------- measuring a map


@learner_facing
def check_near_shape(fn: Callable) -> None:
    """``fn(masks)`` -> bool ``(N, H, W)``: the shape and the pixels next to it."""
    name = name_of(fn)
    dot = np.zeros((1, 5, 5), dtype=np.int64)
    dot[0, 2, 2] = 3
    plus = np.zeros((1, 5, 5), dtype=bool)
    plus[0, 1:4, 2] = plus[0, 2, 1:4] = True
    corner = np.zeros((2, 4, 4), dtype=np.int64)
    corner[0, 0, 0] = 1
    corner[1, 1:3, 3] = 2
    corner_near = np.zeros((2, 4, 4), dtype=bool)
    corner_near[0, :2, 0] = corner_near[0, 0, :2] = True
    corner_near[1, 0:4, 3] = corner_near[1, 1:3, 2] = True
    cases = [
        (Case((dot,), note="one pixel in the middle"), plus),
        (Case((corner,), note="shapes on the edges: nothing wraps around"), corner_near),
    ]
    for case, expected in cases:
        check_function(fn, hand_worked(expected), [case], name=name, quiet=True)
    passed(name, len(cases), "hand-worked masks")


@learner_facing
def check_focus_ratio(fn: Callable) -> None:
    """``fn(maps, masks)`` -> mean of the maps near the shapes / mean elsewhere."""
    name = name_of(fn)
    masks = np.zeros((2, 4, 4), dtype=np.int64)
    masks[0, 1, 1] = 1  # near: 5 pixels of image 0
    flat = np.ones((2, 4, 4))
    twice = flat.copy()
    twice[0, :3, :3] = 2.0  # 2 on the 5 near pixels and on 4 of the others
    cases = [
        (Case((flat, masks), note="the same value everywhere"), 1.0),
        (
            Case((twice, masks), note="2 near the shape, 2 on 4 of the 27 other pixels, 1 elsewhere"),
            2 / (31 / 27),
        ),
    ]
    for case, expected in cases:
        check_function(fn, hand_worked(expected), [case], name=name, check_dtype=False, quiet=True)
    passed(name, len(cases), "hand-worked ratios")


# --------------------------------------------------------------------------- attacks


def _fgsm_diagnose(got, case: Case) -> str:
    model, images, labels, eps = case.args
    step = eps * _loss_gradient_sign(model, images, labels)
    variants = {
        "step *up* the loss: add eps times the sign of the gradient": np.clip(images - step, 0, 1),
        "clip the result to the valid pixel range [0, 1]": images + step,
    }
    return next((hint for hint, value in variants.items() if outputs_match(got, value, atol=1e-6)), "")


@learner_facing
def check_fgsm(fn: Callable, model, images, labels) -> None:
    """``fn(model, images, labels, eps)`` -> the FGSM images: compared with the course's
    computation (at most 0.1 % of the pixels may differ, where a gradient is about 0)."""
    name = name_of(fn)
    images, labels = np.asarray(images, dtype=np.float32), np.asarray(labels)
    for eps in (0.02, 0.0):
        case = Case(
            (shared_model(model), images, labels, eps),
            label=f"model, images {images.shape}, labels, eps={eps}",
        )
        what = case.describe(name)
        got = np.asarray(fn(*case.args), dtype=np.float64)
        expected = reference_fgsm(*case.args)
        if got.shape != expected.shape:
            assert_close(got, expected, what)
        step = np.abs(got - images)
        if step.max() > eps + 1e-6 or got.min() < 0 or got.max() > 1:
            raise AssertionError(
                f"{what}: every pixel must stay within eps of the image and in [0, 1]; got changes up to "
                f"{step.max():.4g} and values from {got.min():.4g} to {got.max():.4g}"
            )
        wrong = ~np.isclose(got, expected, atol=1e-6)
        if wrong.mean() > 1e-3:
            first = tuple(int(i) for i in np.argwhere(wrong)[0])
            hint = _fgsm_diagnose(got, case)
            raise AssertionError(
                f"{what}: {int(wrong.sum())} of {wrong.size} values differ; first wrong index {first}: "
                f"expected {expected[first]:.6g}, got {got[first]:.6g}" + (f"\nHint: {hint}" if hint else "")
            )
    passed(name, 2, "eps 0.02 and 0")


@learner_facing
def check_sign_noise(fn: Callable) -> None:
    """``fn(images, eps, seed)`` -> images plus random +-eps per value, clipped to [0, 1]."""
    name = name_of(fn)
    grey = np.full((2, 8, 8, 3), 0.5, dtype=np.float32)
    what = f"{name}(images (2, 8, 8, 3) float32 of 0.5, eps=0.1, seed=0)"
    noisy = np.asarray(fn(grey.copy(), 0.1, 0))
    assert_shape(noisy, grey.shape, what)
    up = np.isclose(noisy, 0.6, atol=1e-6)
    if not np.all(up | np.isclose(noisy, 0.4, atol=1e-6)):
        raise AssertionError(
            f"{what}: every value should be 0.5 - 0.1 or 0.5 + 0.1; got {np.unique(noisy)[:6]}"
        )
    if not 0.4 <= up.mean() <= 0.6:
        raise AssertionError(f"{what}: about half the values should go up; {up.mean():.0%} did")
    if not np.array_equal(noisy, np.asarray(fn(grey.copy(), 0.1, 0))):
        raise AssertionError(f"{what}: the same seed should give the same noise")
    if np.array_equal(noisy, np.asarray(fn(grey.copy(), 0.1, 1))):
        raise AssertionError(f"{name}: seeds 0 and 1 gave the same noise")
    black = np.asarray(fn(np.zeros_like(grey), 0.1, 0))
    if not np.all(np.isclose(black, 0) | np.isclose(black, 0.1)):
        raise AssertionError(f"{name}(images of 0.0, eps=0.1, seed=0): clip the result to [0, 1]")
    passed(name, 4, "values, balance, seeds and clipping")


NOISE_TOLERANCE = 0.05  # accuracy under random noise varies a little with the draw
FGSM_TOLERANCE = 0.02  # pixels with a gradient near 0 may flip a few answers
CLEAR_MARGIN = 0.25  # how much more the attack must cost than the noise


@learner_facing
def score_attack_report(
    clean, noise, fgsm, model, images, labels, eps: float, sign_noise: Callable | None = None
) -> dict[str, bool]:
    """Whether the reported accuracies (clean, under random sign noise, under FGSM) are
    what the grader measures with ``eps``, and whether the attack's drop exceeds the
    noise's by a clear margin (and, given ``sign_noise``, :func:`check_sign_noise`).
    Prints one line per part; returns ``{part: passed}``."""
    images, labels = np.asarray(images, dtype=np.float32), np.asarray(labels)
    measured_clean = reference_accuracy(model, images, labels)
    noise_runs = [reference_accuracy(model, reference_sign_noise(images, eps, s), labels) for s in range(3)]
    measured_noise = float(np.mean(noise_runs))
    measured_fgsm = reference_accuracy(model, reference_fgsm(model, images, labels, eps), labels)

    def near(value, expected, tolerance, what):
        def part():
            if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
                raise AssertionError(f"{what}: expected a number, got {type(value).__name__} {value!r}")
            if abs(float(value) - expected) > tolerance:
                raise AssertionError(
                    f"{what}: the grader measures {expected:.3f}, you reported {float(value):.3f}"
                )
            print(f"\u2713 {what}: {float(value):.3f}")

        return part

    def clearly_more():
        try:
            drop_noise, drop_fgsm = float(clean) - float(noise), float(clean) - float(fgsm)
        except (TypeError, ValueError):
            raise AssertionError("report the three accuracies as numbers") from None
        if drop_fgsm < drop_noise + CLEAR_MARGIN:
            raise AssertionError(
                f"the attack should cost at least {CLEAR_MARGIN:.2f} more accuracy than the noise; "
                f"your drops: {drop_fgsm:.3f} (attack) and {drop_noise:.3f} (noise)"
            )
        print(
            f"\u2713 at eps={eps}: the attack costs {drop_fgsm:.3f} accuracy, random noise {drop_noise:.3f}"
        )

    parts = {} if sign_noise is None else {name_of(sign_noise): lambda: check_sign_noise(sign_noise)}
    return run_parts(
        parts
        | {
            "clean accuracy": near(clean, measured_clean, 1e-9, "clean accuracy"),
            "accuracy under random sign noise": near(
                noise, measured_noise, NOISE_TOLERANCE, "under random noise"
            ),
            "accuracy under FGSM": near(fgsm, measured_fgsm, FGSM_TOLERANCE, "under FGSM"),
            "the attack beats the noise": clearly_more,
        }
    )
