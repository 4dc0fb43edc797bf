"""Feature-map viewer: every channel that a chosen layer of a model computes for an image,
for a ``cnncourse.nn.Sequential`` or a Keras model."""

from __future__ import annotations

import ipywidgets as w
import numpy as np

from .. import viz
from .base import FigureExplorer


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


class FeatureMapViewer(FigureExplorer):
    """Pick a layer (and an image of the batch); see the image and all of the layer's
    channels. After any change: ``maps (H, W, C)`` for the chosen layer and image.

    model: ``cnncourse.nn.Sequential`` or Keras model; images: ``(N, H, W, C)`` (or one
    ``(H, W, C)`` image). Controls: ``layer``, ``index``.
    """

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

    def describe(self) -> str:
        h, wd, c = self.maps.shape
        shown = min(c, self.max_channels)
        more = f" (first {shown} shown)" if shown < c else ""
        return (
            f"output of <b>{self.layer.value}</b>: shape ({h}, {wd}, {c}) &mdash; one "
            f"map per filter{more}; bright = strong response"
        )
