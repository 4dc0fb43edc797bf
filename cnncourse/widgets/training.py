"""Live training monitor: loss and accuracy curves redrawn while ``fit`` runs, for the
NumPy trainer (pass the monitor in ``callbacks``) and for Keras
(``callbacks=[monitor.keras_callback()]``)."""

from __future__ import annotations

import ipywidgets as w

from .. import viz
from .base import FigureExplorer

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


class TrainingMonitor(FigureExplorer):
    """A callback and a widget at once.

    ``history`` holds per-epoch metrics (``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``), ``batches`` per-batch ``(position in epochs, loss, accuracy)``. The
    figure is redrawn after every epoch and every ``update_every`` batches (0: only
    after epochs).
    """

    figsize = (9.0, 3.0)

    def __init__(self, epochs: int | None = None, update_every: int = 0):
        self.epochs = epochs
        self.update_every = update_every
        self.status = w.HTML("waiting for <code>fit</code> to start")
        self.history: dict[str, list[float]] = {}
        self.steps_per_epoch: int | None = None
        self._raw: list[tuple[int, int, float, float]] = []  # (epoch, batch, loss, accuracy)
        self._epoch = 0
        super().__init__([self.status])
        self.update()

    # ------------------------------------------------------------------ callback protocol

    @property
    def batches(self) -> list[tuple[float, float, float]]:
        """``(epoch_position, loss, accuracy)`` per batch; batch ``b`` of epoch ``e`` sits
        at ``e + (b + 1) / n``, ``n`` the batches per epoch (``steps_per_epoch``, or as
        counted in the first epoch so far)."""
        counts: dict[int, int] = {}
        for e, b, _, _ in self._raw:
            counts[e] = max(counts.get(e, 0), b + 1)
        n = self.steps_per_epoch or counts.get(0, 1)
        return [(e + (b + 1) / n, loss, acc) for e, b, loss, acc in self._raw]

    def on_train_begin(self, logs=None) -> None:
        self.history, self._raw, self._epoch = {}, [], 0
        self.status.value = "training&hellip;"
        self.update()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None) -> None:
        logs = logs or {}
        self._raw.append(
            (
                self._epoch,
                batch,
                float(logs.get("loss", float("nan"))),
                float(logs.get("accuracy", float("nan"))),
            )
        )
        if self.update_every and (batch + 1) % self.update_every == 0:
            self.update()

    def on_epoch_end(self, epoch, logs=None) -> None:
        for key, value in (logs or {}).items():
            if key in METRICS:
                self.history.setdefault(key, []).append(float(value))
        self._epoch = epoch + 1
        total = f"/{self.epochs}" if self.epochs else ""
        numbers = ", ".join(f"{k} {v[-1]:.4f}" for k, v in self.history.items())
        self.status.value = f"epoch {epoch + 1}{total}: {numbers}"
        self.update()

    def on_train_end(self, logs=None) -> None:
        self.status.value = self.status.value.replace("epoch", "finished after epoch", 1)

    def keras_callback(self):
        """A ``keras.callbacks.Callback`` that forwards Keras' events to this monitor
        (imports TensorFlow, which ``import cnncourse.widgets`` alone does not)."""
        from ..keras.training import LiveCurves

        return LiveCurves(self)

    # ------------------------------------------------------------------ drawing

    def compute(self) -> None:
        pass

    def alt_text(self) -> str:
        return viz.describe_history(self.history)

    def draw(self, fig) -> None:
        ax_loss, ax_acc = fig.subplots(1, 2)
        viz.draw_history(ax_loss, ax_acc, self.history, self.batches)
        if not self.history and not self.batches:
            ax_loss.text(
                0.5, 0.5, "no data yet", ha="center", va="center", transform=ax_loss.transAxes, color="0.5"
            )
