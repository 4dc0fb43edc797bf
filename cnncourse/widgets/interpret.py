"""Saliency explorer: where does a trained classifier look? Pick an image, a method
(gradient saliency, Grad-CAM or occlusion) and the class to explain; see the heat map on
its own and over the image.

TensorFlow is imported only when the explorer is created, so importing this module is light.
"""

from __future__ import annotations

import ipywidgets as w
import numpy as np

from .. import viz
from .base import FigureExplorer

METHODS = {"saliency": "gradient saliency", "grad-cam": "Grad-CAM", "occlusion": "occlusion"}


class SaliencyExplorer(FigureExplorer):
    """After any change: ``heat (H, W)`` (the map shown), ``explained`` (the class index
    it explains) and ``probs (K,)`` (the model's probabilities for the chosen image).

    model: a Keras classifier ``(N, H, W, C) -> (N, K)`` (or a ``cnncourse.nn.Sequential``,
    which offers saliency only); images: ``(N, H, W, C)``; class_names: K names (default
    ``"class k"``); labels: optional ``(N,)`` true classes, shown in the caption;
    layer_name: the first Grad-CAM layer (default the last Conv2D). Maps are computed on
    demand for one image at a time. Controls: ``index``, ``method``, ``target`` (-1:
    predicted), ``layer`` (Grad-CAM's layer: any layer with ``(N, h, w, k)`` outputs).
    """

    figsize = (9.0, 3.2)

    def __init__(
        self,
        model,
        images,
        class_names=None,
        labels=None,
        layer_name: str | None = None,
        method: str = "saliency",
        occlusion_patch: int | None = None,
    ):
        from ..keras import interpret
        from ..nn import Sequential

        self._interpret = interpret
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images must be (N, H, W, C) with N >= 1; got shape {images.shape}")
        self.model, self.images = model, images
        self.numpy_model = isinstance(model, Sequential)
        if self.numpy_model:
            self.probs_all = model.predict(images)
            methods = ["saliency"]
        else:
            interpret.check_classifier(model)
            interpret.check_input_shape(model, images)
            self.probs_all = np.asarray(model.predict(images, verbose=0))
            methods = list(METHODS)
            maps = interpret.feature_map_layers(model)
            layer_name = layer_name or interpret.last_conv_layer(model)
            if layer_name not in maps:
                raise ValueError(f"layer_name must be one of {maps}; got {layer_name!r}")
        k = self.probs_all.shape[1]
        self.class_names = (
            [f"class {i}" for i in range(k)] if class_names is None else [str(c) for c in class_names]
        )
        if len(self.class_names) != k:
            raise ValueError(
                f"class_names must have {k} names (the model has {k} outputs); got {len(self.class_names)}"
            )
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and self.labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},); got {self.labels.shape}")
        if method not in methods:
            raise ValueError(f"method must be one of {methods}; got {method!r}")
        side = min(images.shape[1:3])
        self.occlusion_patch = occlusion_patch or max(2, side // 4)

        self.index = w.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
        if len(images) == 1:
            self.index.layout.display = "none"
        self.method = w.ToggleButtons(
            options=[(METHODS[m], m) for m in methods],
            value=method,
            description="method",
            style={"button_width": "9em"},
            layout=w.Layout(width="auto"),
        )
        self.target = w.Dropdown(
            options=[("predicted", -1)] + [(name, i) for i, name in enumerate(self.class_names)],
            value=-1,
            description="explain",
        )
        self.layer = w.Dropdown(
            options=[""] if self.numpy_model else maps,
            value="" if self.numpy_model else layer_name,
            description="layer",
        )
        if self.numpy_model:
            self.layer.layout.display = "none"
        super().__init__([w.HBox([self.index, self.target, self.layer]), self.method])
        self.watch(self.index, self.method, self.target, self.layer)
        self.update()

    def compute(self) -> None:
        i = self.index.value
        image = self.images[i : i + 1]
        self.probs = self.probs_all[i]
        self.explained = int(np.argmax(self.probs)) if self.target.value < 0 else self.target.value
        method, ip = self.method.value, self._interpret
        self.layer.disabled = method != "grad-cam"
        if method == "saliency":
            self.heat = ip.saliency_map(self.model, image, self.explained)[0]
        elif method == "grad-cam":
            self.heat = ip.grad_cam(self.model, image, self.layer.value, self.explained)[0]
        else:
            patch = self.occlusion_patch
            self.heat = ip.occlusion_map(self.model, image[0], patch, max(1, patch // 2), self.explained)

    def draw(self, fig) -> None:
        image = self.images[self.index.value]
        name = METHODS[self.method.value]
        ax_img, ax_heat, ax_over = fig.subplots(1, 3)
        viz.draw_image(ax_img, image, "input")
        signed = self.method.value == "occlusion" and self.heat.min() < 0
        viz.draw_image(
            ax_heat, self.heat, f"{name}: {self.class_names[self.explained]}", cmap="inferno", signed=signed
        )
        viz.draw_image(ax_over, image, "overlay")
        top = float(np.abs(self.heat).max()) or 1.0
        heat = np.clip(self.heat, 0, None) / top  # opaque where the map is strong
        ax_over.imshow(heat, cmap="inferno", alpha=0.7 * heat, vmin=0, vmax=1)

    def alt_text(self) -> str:
        return (
            f"Image {self.index.value}, its {METHODS[self.method.value]} map, and the map laid over "
            f"the image (strong where the colour is bright): {super().alt_text()}"
        )

    def describe(self) -> str:
        predicted = int(np.argmax(self.probs))
        truth = ""
        if self.labels is not None:
            truth = f" (true class: {self.class_names[self.labels[self.index.value]]})"
        text = (
            f"predicted <b>{self.class_names[predicted]}</b> with probability "
            f"{self.probs[predicted]:.2f}{truth}; the map explains "
            f"<b>{self.class_names[self.explained]}</b> "
            f"(probability {self.probs[self.explained]:.2f})"
        )
        if self.method.value == "grad-cam":
            text += f", from layer <code>{self.layer.value}</code>"
        elif self.method.value == "occlusion":
            text += (
                f"; each pixel: mean drop of that probability when a "
                f"{self.occlusion_patch}×{self.occlusion_patch} patch hides it"
            )
        return text
