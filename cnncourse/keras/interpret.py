"""Where does a CNN look? Saliency maps, Grad-CAM and occlusion maps for a classifier.

>>> heat = saliency_map(model, images)        # (N, H, W): |d score / d pixel|
>>> heat = grad_cam(model, images)            # (N, H, W) in [0, 1], from the last Conv2D
>>> heat = occlusion_map(model, image)        # (H, W): score drop when a patch is hidden

The *class score* is the logit (the input of the final softmax) when the model ends in
a softmax, as in Simonyan et al. (2013) and Selvaraju et al. (2017): probabilities
saturate, so their gradients vanish for confident predictions. ``class_index=None``
explains each image's predicted class. :func:`saliency_map` also accepts a
``cnncourse.nn.Sequential`` (the gradient then comes from ``model.backward``).
"""

from __future__ import annotations

import numpy as np

from ..common import positive_int
from ..nn import Sequential
from . import compat
from ._tf import keras, tf

layers = keras.layers
ops = keras.ops
_CONV_TYPES = (layers.Conv2D, layers.SeparableConv2D, layers.DepthwiseConv2D)


# --------------------------------------------------------------------------- helpers


def _check_images(images, name: str = "images") -> np.ndarray:
    if not isinstance(images, np.ndarray | tf.Tensor | list | tuple):
        raise TypeError(f"{name} must be an array of shape (N, H, W, C); got {type(images).__name__}")
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, H, W, C); got shape {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{name} must hold at least one image; got shape {x.shape}")
    return x


def check_classifier(model) -> None:
    """A ``TypeError`` / ``ValueError`` unless ``model`` is a built Keras model with one
    image input and one ``(N, num_classes)`` output."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}")
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if not outputs:
        raise ValueError(
            "the model has no defined inputs and outputs yet: build it with "
            "keras.Input(...) or call it on a batch first"
        )
    if len(outputs) != 1 or len(outputs[0].shape) != 2:
        raise ValueError(
            "the model must have one output of shape (N, num_classes); got "
            f"{[tuple(o.shape) for o in outputs]}"
        )
    if len(model.inputs) != 1:
        raise ValueError(f"the model must have one image input; it has {len(model.inputs)}")


def check_input_shape(model, x: np.ndarray) -> None:
    """A ``ValueError`` unless images ``x (N, H, W, C)`` fit the model's input."""
    expected = tuple(model.inputs[0].shape[1:])
    if (
        any(e is not None and e != g for e, g in zip(expected, x.shape[1:], strict=False))
        or len(expected) != x.ndim - 1
    ):
        shown = ", ".join("None" if e is None else str(e) for e in expected)
        raise ValueError(f"the model expects images of shape (N, {shown}); got {x.shape}")


def _class_indices(class_index, n: int, num_classes: int, predicted) -> np.ndarray:
    """``(n,)`` int class indices: ``predicted()`` for None, else an int or n ints."""
    if class_index is None:
        return np.asarray(predicted(), dtype=np.int64)
    idx = np.asarray(class_index)
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise TypeError(f"class_index must be None, an int or a sequence of {n} ints; got {class_index!r}")
    idx = np.broadcast_to(idx, (n,)) if idx.ndim == 0 else idx
    if len(idx) != n:
        raise ValueError(f"class_index has {len(idx)} entries but there are {n} images")
    if idx.min() < 0 or idx.max() >= num_classes:
        raise ValueError(f"class_index must be in [0, {num_classes - 1}]; got {class_index!r}")
    return idx.astype(np.int64)


def _output_layer(model):
    return compat.output_layer_of(model.outputs[0]) or model.layers[-1]


def _ends_in_softmax(layer) -> bool:
    act = getattr(layer, "activation", None)
    return act is not None and getattr(act, "__name__", "") == "softmax"


def _scorer(model, extra=()):
    """A function ``x -> (*extra outputs, class scores (N, K))`` whose scores are the
    logits when the model ends in a softmax (else the model's outputs).

    Neither the model nor any of its layers is changed, not even for a moment: the
    logits of a layer with a built-in softmax are computed beside it (:func:`_logits`)."""
    last = _output_layer(model)
    if isinstance(last, layers.Activation) and _ends_in_softmax(last):
        return _probe(model, [*extra, last.input])
    if not _ends_in_softmax(last):
        return _probe(model, [*extra, model.outputs[0]])
    probe = _probe(model, [*extra, last.input])
    logits = _logits(last)

    def scores(x):
        *maps, h = probe(x)
        return (*maps, logits(h))

    return scores


def _logits(layer):
    """``h -> layer(h)`` without the layer's activation, computed from the layer's weights
    (the layer itself is left alone, so this is safe while other threads use it).

    Dense: ``h @ kernel + bias`` in the layer's compute dtype, the very operations of
    ``Dense.call``. Any other layer: a twin built from its config with a linear
    activation and a copy of its current weights."""
    if type(layer) is layers.Dense and getattr(layer, "quantization_mode", None) is None:

        def dense(h):
            dtype = layer.compute_dtype
            z = ops.matmul(ops.cast(h, dtype), ops.cast(layer.kernel, dtype))
            return z if layer.bias is None else ops.add(z, ops.cast(layer.bias, dtype))

        return dense
    twin = type(layer).from_config({**layer.get_config(), "activation": "linear"})
    twin.build(layer.input.shape)
    twin.set_weights(layer.get_weights())
    return lambda h: twin(h, training=False)


def _probe(model, outputs):
    """``x -> list of tensors``: the values of ``outputs`` (symbolic tensors of ``model``)."""
    probe = keras.Model(model.inputs, outputs)

    def run(x):
        values = probe(x, training=False)
        return list(values) if isinstance(values, list | tuple) else [values]

    return run


# --------------------------------------------------------------------------- saliency


def saliency_map(model, images, class_index=None) -> np.ndarray:
    """Gradient saliency: ``max_c |d score / d x[n, i, j, c]|`` for every pixel.

    model: a Keras classifier with one output ``(N, K)`` (or a ``cnncourse.nn.Sequential``);
    images: ``(N, H, W, C)``; class_index: None (each image's predicted class), an int
    or ``N`` ints. Returns ``(N, H, W)`` float32, not normalised (compare across images).
    """
    if isinstance(model, Sequential):
        return numpy_saliency_map(model, images, class_index)
    check_classifier(model)
    x = _check_images(images)
    check_input_shape(model, x)
    scores = _scorer(model)
    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        (z,) = scores(xt)
        idx = _class_indices(class_index, len(x), z.shape[-1], lambda: np.argmax(z, axis=-1))
        score = tf.reduce_sum(tf.gather(z, idx, axis=1, batch_dims=1))
    grad = tape.gradient(score, xt).numpy()
    return np.abs(grad).max(axis=-1).astype(np.float32)


def numpy_saliency_map(net: Sequential, images, class_index=None) -> np.ndarray:
    """:func:`saliency_map` for a ``cnncourse.nn.Sequential``: one forward pass, then
    ``net.backward`` of a one-hot gradient on the logits. Returns ``(N, H, W)``."""
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a cnncourse.nn.Sequential; got {type(net).__name__}")
    x = _check_images(images)
    out = net.forward(x, training=False)
    if out.ndim != 2:
        raise ValueError(f"the model must output (N, num_classes); it outputs shape {out.shape}")
    idx = _class_indices(class_index, len(x), out.shape[1], lambda: np.argmax(out, axis=1))
    onehot = np.zeros_like(out)
    onehot[np.arange(len(x)), idx] = 1.0
    # With a softmax at the end the one-hot is the gradient w.r.t. the logits.
    dx = net.backward(onehot, through_last_activation=not net._ends_in_softmax())
    return np.abs(dx).max(axis=-1).astype(np.float32)


# --------------------------------------------------------------------------- Grad-CAM


def last_conv_layer(model) -> str:
    """Name of the model's last Conv2D (or separable / depthwise conv) layer."""
    check_classifier(model)
    convs = [layer.name for layer in model.layers if isinstance(layer, _CONV_TYPES)]
    if not convs:
        raise ValueError(
            "the model has no Conv2D layer at its top level; pass layer_name= "
            "the name of a layer with (N, h, w, k) outputs"
        )
    return convs[-1]


def feature_map_layers(model) -> list[str]:
    """Names of the top-level layers whose outputs are ``(N, h, w, k)`` feature maps: the
    layers Grad-CAM can explain from."""
    check_classifier(model)
    return [
        layer.name
        for layer in model.layers
        if not isinstance(layer, layers.InputLayer) and len(layer.output.shape) == 4
    ]


def grad_cam(model, images, layer_name: str | None = None, class_index=None) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) heat maps ``(N, H, W)`` in [0, 1].

    With ``A`` the chosen layer's maps ``(N, h, w, k)`` and ``y`` the class score, the
    channel weights are ``a_k = mean_ij dy/dA[i, j, k]`` and the map is
    ``ReLU(sum_k a_k A[..., k])``, bilinearly resized to the input's ``H x W`` and divided
    by its maximum (all zeros if nothing speaks for the class). layer_name: default the
    last Conv2D; class_index: None (predicted class), an int or ``N`` ints.
    """
    check_classifier(model)
    x = _check_images(images)
    check_input_shape(model, x)
    if layer_name is None:
        layer_name = last_conv_layer(model)
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"layer_name must be one of {names}; got {layer_name!r}")
    layer = model.get_layer(layer_name)
    if layer_name not in feature_map_layers(model):
        raise ValueError(
            f"layer {layer_name!r} outputs shape {tuple(layer.output.shape)}; "
            "Grad-CAM needs (N, h, w, k) feature maps"
        )
    scores = _scorer(model, extra=[layer.output])
    with tf.GradientTape() as tape:
        maps, z = scores(tf.convert_to_tensor(x))
        idx = _class_indices(class_index, len(x), z.shape[-1], lambda: np.argmax(z, axis=-1))
        score = tf.reduce_sum(tf.gather(z, idx, axis=1, batch_dims=1))
    grads = tape.gradient(score, maps)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)  # (N, 1, 1, k)
    cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1, keepdims=True))  # (N, h, w, 1)
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear").numpy()[..., 0]
    return _normalise(cam)


def _normalise(maps: np.ndarray) -> np.ndarray:
    """Divide each map by its maximum; maps that are all <= 0 become zeros."""
    top = maps.reshape(len(maps), -1).max(axis=1)[:, None, None]
    safe = np.where(top > 0, top, 1.0)
    return np.where(top > 0, np.clip(maps, 0, None) / safe, 0.0).astype(np.float32)


# --------------------------------------------------------------------------- occlusion


def occlusion_map(
    model,
    image,
    patch: int = 8,
    stride: int = 4,
    class_index=None,
    fill: float | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Occlusion sensitivity (Zeiler & Fergus 2014) of one image ``(H, W, C)``.

    Slides a ``patch x patch`` square of value ``fill`` (default: the image's mean) over
    the image with ``stride`` and records how much the class *probability* drops; each
    pixel gets the mean drop over the patches that covered it. Returns ``(H, W)``
    (positive: hiding this region hurts the class). class_index: None = predicted class.
    """
    check_classifier(model)
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 3:
        raise ValueError(f"image must be one image of shape (H, W, C); got shape {img.shape}")
    check_input_shape(model, img[None])
    h, w = img.shape[:2]
    patch, stride = positive_int(patch, "patch"), positive_int(stride, "stride")
    if patch > min(h, w):
        raise ValueError(f"patch must fit in the {h}x{w} image; got {patch}")
    fill = float(img.mean()) if fill is None else float(fill)
    base = _predict(model, img[None], batch_size)[0]
    c = int(_class_indices(class_index, 1, len(base), lambda: [np.argmax(base)])[0])
    tops = _starts(h, patch, stride)
    lefts = _starts(w, patch, stride)
    batch = np.repeat(img[None], len(tops) * len(lefts), axis=0)
    for k, (i, j) in enumerate((i, j) for i in tops for j in lefts):
        batch[k, i : i + patch, j : j + patch] = fill
    probs = _predict(model, batch, batch_size)[:, c]
    drop = np.zeros((h, w), np.float64)
    count = np.zeros((h, w), np.float64)
    for k, (i, j) in enumerate((i, j) for i in tops for j in lefts):
        drop[i : i + patch, j : j + patch] += base[c] - probs[k]
        count[i : i + patch, j : j + patch] += 1
    return (drop / count).astype(np.float32)


def _predict(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """``model(x)`` in chunks: no ``predict`` loop to set up for a few small batches."""
    return np.concatenate(
        [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    )


def _starts(size: int, patch: int, stride: int) -> list[int]:
    """Patch positions that cover the whole axis (the last one flush with the edge)."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts
