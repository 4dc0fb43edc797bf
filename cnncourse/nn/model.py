"""``Sequential``: a stack of layers with Keras-like ``summary``, ``fit``, ``evaluate``
and ``predict``, trained with softmax cross-entropy on integer labels.

>>> from cnncourse.nn import Sequential, Conv2D, MaxPool2D, Flatten, Dense
>>> model = Sequential([Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten(),
...                     Dense(10, activation="softmax")], input_shape=(28, 28, 1), seed=0)
>>> model.count_params()
13610
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from . import functional as F
from .layers import Layer
from .optim import Optimizer, get_optimizer
from .validation import as_float_array, positive_int


class History:
    """What :meth:`Sequential.fit` returns: ``history`` maps each metric to its per-epoch
    values (``loss``, ``accuracy``, and ``val_loss``, ``val_accuracy`` with validation data)."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"


class Sequential:
    """Layers applied in order. ``input_shape`` excludes the batch axis, e.g. ``(28, 28, 1)``.

    Parameters are created from ``seed`` when the input shape is known (at construction
    if given, else on the first ``fit``/``predict``). ``dtype`` float32 trains fast;
    float64 is for gradient checks.
    """

    def __init__(
        self, layers=(), input_shape=None, seed: int = 0, dtype=np.float32, name: str = "sequential"
    ):
        self.layers: list[Layer] = []
        for layer in layers:
            self.add(layer)
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.name = name
        self.input_shape: tuple | None = None
        self.stop_training = False
        self.optimizer: Optimizer | None = None  # the one the latest fit used (or a checkpoint held)
        self.rng = np.random.default_rng(seed)
        if input_shape is not None:
            self.build(input_shape)

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes Layer objects; got {type(layer).__name__}")
        self.layers.append(layer)

    # ------------------------------------------------------------------ structure

    def build(self, input_shape) -> None:
        """Create every layer's parameters for inputs of ``input_shape`` (no batch axis)."""
        shape = tuple(int(s) for s in input_shape)
        self.input_shape = shape
        init_rng = np.random.default_rng(self.seed)
        seen: dict[str, int] = {}
        for layer in self.layers:
            base = layer.name.rsplit("_", 1)[0] if layer.name[-1].isdigit() else layer.name
            count = seen.get(base, 0)
            seen[base] = count + 1
            layer.name = base if count == 0 else f"{base}_{count}"
            layer.build(shape, init_rng, self.dtype)
            shape = tuple(layer.output_shape(shape))

    @property
    def output_shape(self) -> tuple:
        shape = self._require_built()
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        return shape

    def _require_built(self):
        if self.input_shape is None:
            raise RuntimeError(
                "the model has no input shape yet: pass input_shape=(H, W, C) "
                "or call fit/predict on data first"
            )
        return self.input_shape

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every trainable array, keyed ``"<layer index>.<name>"`` (``"0.w"``, ``"0.b"``...)."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def count_params(self) -> int:
        self._require_built()
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[np.ndarray]:
        """All layers' arrays, in Keras' order (``model.get_weights()`` in Keras matches)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        expected = sum(len(layer.weight_names) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"the model has {expected} weight arrays; got {len(weights)}")
        for layer in self.layers:
            k = len(layer.weight_names)
            layer.set_weights(weights[:k])
            weights = weights[k:]

    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts; printed and returned."""
        shape = self._require_built()
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
            rows.append(
                (f"{layer.name} ({type(layer).__name__})", str((None, *shape)), f"{layer.count_params():,}")
            )
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "-" * sum(widths)
        out = [f'Model: "{self.name}"', line]
        for j, r in enumerate(rows):
            out.append("".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            out.append("=" * sum(widths) if j == 0 else line)
        trainable = sum(p.size for layer in self.layers for p in layer.params.values())
        out.append(f"Total params: {self.count_params():,}")
        out.append(f"Trainable params: {trainable:,}")
        out.append(f"Non-trainable params: {self.count_params() - trainable:,}")
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text

    # ------------------------------------------------------------------ passes

    def _check_input(self, x) -> np.ndarray:
        x = as_float_array(x, "x")
        if self.input_shape is None:
            self.build(x.shape[1:])
        if x.shape[1:] != self.input_shape:
            expected = ", ".join(map(str, self.input_shape))
            raise ValueError(f"the model expects inputs of shape (N, {expected}); got {x.shape}")
        return x.astype(self.dtype, copy=False)

    def forward(self, x, training: bool = False) -> np.ndarray:
        """Output for a batch ``(N, *input_shape)``."""
        x = self._check_input(x)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dout, through_last_activation: bool = True) -> np.ndarray:
        """Backpropagate ``dout`` from the output; fills every layer's ``grads``.

        ``through_last_activation=False``: ``dout`` is the gradient with respect to the last
        layer's ``logits``, so its activation is skipped (the fused softmax + cross-entropy
        protocol described on :class:`~cnncourse.nn.layers.Layer`).
        """
        for i, layer in enumerate(reversed(self.layers)):
            if i == 0 and not through_last_activation:
                dout = layer.backward(dout, through_activation=False)
            else:
                dout = layer.backward(dout)
        return dout

    def _ends_in_softmax(self) -> bool:
        return self.layers[-1].activation == "softmax"

    def loss(self, x, y, training: bool = True, label_smoothing: float = 0.0) -> tuple[float, np.ndarray]:
        """Forward pass, cross-entropy loss (plus regularisation) and backward pass.

        If the last layer applies softmax, the loss uses its logits (a fused, stable
        softmax + cross-entropy). ``label_smoothing``: see
        :func:`~cnncourse.nn.functional.softmax_cross_entropy`. Returns
        ``(loss, output)``; gradients are in ``grads``.
        """
        out = self.forward(x, training=training)
        fused = self._ends_in_softmax()
        logits = self.layers[-1].logits if fused else out
        loss, dlogits = F.softmax_cross_entropy(logits, y, label_smoothing)
        loss += sum(layer.penalty() for layer in self.layers)
        self.backward(dlogits.astype(self.dtype, copy=False), through_last_activation=not fused)
        return loss, out

    def train_step(self, x, y, optimizer: Optimizer, label_smoothing: float = 0.0) -> tuple[float, float]:
        """One gradient step on a batch; returns ``(loss, accuracy)`` on that batch."""
        loss, out = self.loss(x, y, training=True, label_smoothing=label_smoothing)
        optimizer.step(self.params, self.grads)
        return loss, F.accuracy(out, y)

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Outputs (probabilities if the model ends in softmax) for ``x (N, *input_shape)``."""
        x = self._check_input(x)
        return np.concatenate([self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])

    def evaluate(self, x, y, batch_size: int = 256) -> tuple[float, float]:
        """``(loss, accuracy)`` over a whole dataset, in inference mode."""
        out = self.predict(x, batch_size)
        logits = np.log(np.clip(out, 1e-30, None)) if self._ends_in_softmax() else out
        loss, _ = F.softmax_cross_entropy(logits, y)
        return loss, F.accuracy(out, y)

    # ------------------------------------------------------------------ training

    def fit(
        self,
        x,
        y,
        epochs: int = 1,
        batch_size: int = 32,
        optimizer="adam",
        validation_data=None,
        shuffle: bool = True,
        verbose: int = 1,
        callbacks=(),
        label_smoothing: float = 0.0,
        augment=None,
    ) -> History:
        """Mini-batch training. Returns a :class:`History`.

        x: ``(N, *input_shape)``; y: ``(N,)`` integer labels or ``(N, K)`` one-hot (or
        soft) targets. optimizer: an :class:`~cnncourse.nn.optim.Optimizer` or a name
        (``"sgd"``, ``"momentum"``, ``"adam"``, ``"adamw"``); it is kept as
        ``model.optimizer``, so pass ``optimizer=model.optimizer`` to carry on where the
        last fit (or a loaded checkpoint) stopped. callbacks: objects with any of
        ``set_model(model)`` (called first), ``on_epoch_end(epoch, logs)``,
        ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``;
        setting ``model.stop_training = True`` ends training after the current epoch.
        label_smoothing: smooths the training targets (see
        :func:`~cnncourse.nn.functional.softmax_cross_entropy`); ``loss`` includes it,
        ``val_loss`` is the plain cross-entropy. augment: a function
        ``augment(x_batch, y_batch, rng) -> (x_batch, y_batch)`` applied to every
        training batch, never to validation data, e.g.
        ``functools.partial(cnncourse.nn.mixing.mixup, alpha=0.2)`` with one-hot ``y``.
        """
        x = self._check_input(x)
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels")
        epochs, batch_size = positive_int(epochs, "epochs"), positive_int(batch_size, "batch_size")
        optimizer = get_optimizer(optimizer)
        self.optimizer = optimizer
        history = History()
        self.stop_training = False
        _call(callbacks, "set_model", self)
        _call(callbacks, "on_train_begin", {})
        n = len(x)
        for epoch in range(epochs):
            order = self.rng.permutation(n) if shuffle else np.arange(n)
            starts = range(0, n, batch_size)
            bar = tqdm(
                starts,
                desc=f"Epoch {epoch + 1}/{epochs}",
                unit="batch",
                disable=not verbose,
                leave=verbose >= 1,
            )
            total_loss = total_correct = 0.0
            for b, start in enumerate(bar):
                idx = order[start : start + batch_size]
                x_batch, y_batch = x[idx], y[idx]
                if augment is not None:
                    x_batch, y_batch = augment(x_batch, y_batch, self.rng)
                loss, acc = self.train_step(x_batch, y_batch, optimizer, label_smoothing)
                total_loss += loss * len(idx)
                total_correct += acc * len(idx)
                seen = min(start + batch_size, n)
                logs = {"loss": total_loss / seen, "accuracy": total_correct / seen}
                bar.set_postfix(loss=f"{logs['loss']:.4f}", acc=f"{logs['accuracy']:.4f}", refresh=False)
                _call(callbacks, "on_batch_end", b, {"loss": loss, "accuracy": acc})
            if validation_data is not None:
                val_loss, val_acc = self.evaluate(*validation_data)
                logs.update(val_loss=val_loss, val_accuracy=val_acc)
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            bar.close()
            history.append(epoch, logs)
            _call(callbacks, "on_epoch_end", epoch, dict(logs))
            if self.stop_training:
                break
        _call(callbacks, "on_train_end", dict(history.history))
        return history

    def save(self, path, include_optimizer: bool = True) -> None:
        """Write the architecture, the weights and (unless ``include_optimizer=False``)
        ``model.optimizer`` with its state to one ``.npz`` file; see
        :func:`cnncourse.nn.checkpoint.save_model` and ``load_model``."""
        from .checkpoint import save_model  # the checkpoint module imports this one

        save_model(self, path, self.optimizer if include_optimizer else None)

    def __repr__(self):
        return f"Sequential({len(self.layers)} layers, input_shape={self.input_shape})"


def _call(callbacks, method, *args):
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if fn is not None:
            fn(*args)
