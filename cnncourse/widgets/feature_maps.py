"""Feature-map viewer: every channel that a chosen layer of a model computes for an image,
for a ``cnncourse.nn.Sequential`` or a Keras model."""

from __future__ import annotations

import base64
import zlib

import ipywidgets as w
import matplotlib
import numpy as np
import traitlets as t

from .. import viz
from .inputs import encode_array
from .live import LiveExplorer, LiveFigure, js_module


def layer_outputs(model, x) -> dict[str, np.ndarray]:
    """Outputs of every layer that keeps an image shape, ``{name: (N, H, W, C)}``, in order.

    model: a ``cnncourse.nn.Sequential`` or a built Keras model; x: ``(N, H, W, C)``.
    """
    x = np.asarray(x, dtype=np.float32)
    from ..nn import Sequential

    if isinstance(model, Sequential):
        outputs = {}
        a = model._check_input(x)
        for layer in model.layers:
            a = layer.forward(a, training=False)
            if a.ndim == 4:
                outputs[layer.name] = a
        return outputs
    return _keras_layer_outputs(model, x)


def _keras_layer_outputs(model, x) -> dict[str, np.ndarray]:
    import keras

    layers = [layer for layer in model.layers if len(layer.output.shape) == 4]
    if not layers:
        return {}
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs=inputs, outputs=[layer.output for layer in layers])
    values = probe(x, training=False)
    if not isinstance(values, list | tuple):
        values = [values]
    return {layer.name: np.asarray(v) for layer, v in zip(layers, values, strict=True)}


def quantise_maps(maps) -> dict:
    """``maps (N, H, W, K)`` as 8-bit levels per map, for the browser.

    Returns ``{"shape": [N, K, H, W], "data": base64 of the zlib-compressed uint8
    (N, K, H, W), "lo": (N, K), "hi": (N, K)}``: map ``k`` of image ``n`` is
    ``lo + level / 255 * (hi - lo)``, within half a level, ``(hi - lo) / 510``, of the real
    values (a constant map is exact). Compression about halves the page's weight: maps
    after a ReLU are mostly zeros.
    """
    maps = np.moveaxis(np.asarray(maps, dtype=np.float64), -1, 1)  # (N, K, H, W)
    lo = maps.min(axis=(2, 3))
    hi = maps.max(axis=(2, 3))
    span = np.where(hi > lo, hi - lo, 1.0)[..., None, None]
    levels = np.rint((maps - lo[..., None, None]) / span * 255).astype(np.uint8)
    data = base64.b64encode(zlib.compress(levels.tobytes(), 9)).decode("ascii")
    return {"shape": list(maps.shape), "data": data, "lo": lo.tolist(), "hi": hi.tolist()}


def dequantise_maps(encoded: dict) -> np.ndarray:
    """The maps :func:`quantise_maps` encoded, back as ``(N, H, W, K)`` float64."""
    raw = zlib.decompress(base64.b64decode(encoded["data"]))
    levels = np.frombuffer(raw, dtype=np.uint8).reshape(encoded["shape"])
    lo = np.asarray(encoded["lo"])[..., None, None]
    hi = np.asarray(encoded["hi"])[..., None, None]
    return np.moveaxis(lo + levels / 255 * (hi - lo), 1, -1)


def _colour_table(name: str = "viridis") -> str:
    """Matplotlib's colour map ``name`` as 256 RGB triples, base64 (768 bytes)."""
    rgba = matplotlib.colormaps[name](np.arange(256))
    return encode_array(np.rint(rgba[:, :3] * 255), "uint8")["data"]


class FeatureMapFigure(LiveFigure):
    """Draws the chosen layer's maps for the chosen image in the browser
    (``js/feature_maps.js``) from maps computed once in Python.

    ``layers``: ``[{"name", "shape": [H, W, C], "maps": quantise_maps(...)}]``, in the
    dropdown's order; ``images``: ``{"shape": [N, H, W, C], "data": base64 uint8}``
    (values in [0, 1] as 8-bit levels); ``colours``: the viridis table; ``layer`` and
    ``image`` are the controls' indices.
    """

    _esm = js_module("feature_maps")
    layers = t.List().tag(sync=True)
    images = t.Dict().tag(sync=True)
    colours = t.Unicode("").tag(sync=True)
    layer = t.Int(0).tag(sync=True)
    image = t.Int(0).tag(sync=True)


class FeatureMapViewer(LiveExplorer):
    """Pick a layer (and an image of the batch); see the image and all of the layer's
    channels. After any change: ``maps (H, W, C)`` for the chosen layer and image.

    model: ``cnncourse.nn.Sequential`` or Keras model; images: ``(N, H, W, C)`` (or one
    ``(H, W, C)`` image). Controls: ``layer``, ``index``. Every layer's first
    ``max_channels`` maps for every image travel to the browser as 8-bit levels
    (:func:`quantise_maps`), so the figure stays live in the static book.
    """

    figure_class = FeatureMapFigure

    def __init__(self, model, images, layer: str | None = None, max_channels: int = 64):
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4:
            raise ValueError(f"images must be (N, H, W, C); got shape {images.shape}")
        self.images = images
        self.max_channels = max_channels
        self.outputs = layer_outputs(model, images)
        if not self.outputs:
            raise ValueError("the model has no layer with (H, W, C) outputs to show")
        names = list(self.outputs)
        if layer is not None and layer not in names:
            raise ValueError(f"layer must be one of {names}; got {layer!r}")
        self.layer = w.Dropdown(options=names, value=layer or names[0], description="layer")
        self.index = w.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
        if len(images) == 1:
            self.index.layout.display = "none"
        super().__init__([w.HBox([self.layer, self.index])])
        self.view.layers = [
            {"name": name, "shape": list(out.shape[1:]), "maps": quantise_maps(out[..., :max_channels])}
            for name, out in self.outputs.items()
        ]
        levels = np.rint(np.clip(images, 0, 1) * 255)
        self.view.images = {"shape": list(images.shape), "data": encode_array(levels, "uint8")["data"]}
        self.view.colours = _colour_table()
        self.link(layer=(self.layer, "index"), image=(self.index, "value"))
        self.watch(self.layer, self.index)
        self.update()

    @property
    def figsize(self):
        c = min(self.maps.shape[-1], self.max_channels)
        rows = -(-c // min(c, 8))
        return (10.0, 1.3 * rows + 1.6)

    def compute(self) -> None:
        self.maps = self.outputs[self.layer.value][self.index.value]

    def draw(self, fig) -> None:
        left, right = fig.subfigures(1, 2, width_ratios=[1, 4])
        viz.draw_image(left.subplots(), self.images[self.index.value], "input")
        h, wd, c = self.maps.shape
        viz.draw_feature_maps(
            right, self.maps, self.max_channels, title=f"{self.layer.value}: {c} feature maps of {h}×{wd}"
        )

    def alt_text(self) -> str:
        h, wd, c = self.maps.shape
        return (
            f"Input image {self.index.value} and the {c} feature maps ({h}×{wd}) of layer "
            f"{self.layer.value}, brightest where the filter responds most."
        )

    def describe(self) -> str:
        h, wd, c = self.maps.shape
        shown = min(c, self.max_channels)
        more = f" (first {shown} shown)" if shown < c else ""
        return (
            f"output of <b>{self.layer.value}</b>: shape ({h}, {wd}, {c}) &mdash; one "
            f"map per filter{more}; bright = strong response"
        )
