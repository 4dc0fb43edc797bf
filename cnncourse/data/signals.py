"""Synthetic sequences for 1D convolutions: noisy time series and token sequences.

:func:`make_signals` draws one-channel signals of four kinds that a network can only
tell apart by looking at *local* patterns: a plain sine, the same with a short
high-frequency burst somewhere, a chirp whose frequency rises along the signal, and a
square wave. :func:`make_token_sequences` draws integer "sentences" whose label says
whether a fixed three-token motif occurs anywhere in them. The same ``seed`` always
gives the same data, and nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..common import positive_int
from .splits import Dataset, split_dataset, split_fractions

SIGNAL_CLASSES = ("sine", "burst", "chirp", "square")

# Frequencies in cycles per sample, so a pattern looks the same whatever the length.
_SINE_PERIOD = (20.0, 50.0)  # sine and square waves: 20 to 50 samples per cycle
_CHIRP_START = (0.015, 0.03)  # chirp: from 33-67 samples per cycle ...
_CHIRP_END = (0.10, 0.15)  # ... to 7-10 samples per cycle at the end
_BURST_PERIOD = (3.5, 5.0)  # burst: a fast oscillation ...
_BURST_LENGTH = (12, 20)  # ... lasting 12 to 20 samples
MIN_LENGTH = 32


@dataclass(frozen=True)
class Signals:
    """Signals and labels from :func:`make_signals`; unpacks as ``x, y = signals``.

    x: ``(N, length, 1)`` float32. y: ``(N,)`` int64 indices into ``class_names``.
    events: ``(N, 2)`` int64 ``(start, stop)`` sample indices of the burst (stop
    exclusive), ``(0, 0)`` for signals without one.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    events: np.ndarray

    def __iter__(self):
        return iter((self.x, self.y))

    def __len__(self):
        return len(self.y)


def make_signals(
    n: int,
    length: int = 128,
    seed: int = 0,
    classes=SIGNAL_CLASSES,
    noise: float = 0.2,
    amplitude: tuple[float, float] = (0.6, 1.0),
) -> Signals:
    """``n`` one-channel signals, balanced over ``classes`` (names from :data:`SIGNAL_CLASSES`).

    Every signal has an amplitude ``A`` drawn uniformly from ``amplitude`` and a random
    phase, then Gaussian noise of standard deviation ``noise`` is added:

    - ``sine``: ``A sin(2 pi f t + phase)``, a period of 20 to 50 samples;
    - ``burst``: the same sine plus, for 12 to 20 samples at a random place, a fast
      oscillation of amplitude ``A`` (3.5 to 5 samples per cycle), recorded in ``events``;
    - ``chirp``: a sine whose frequency rises linearly from 0.015-0.03 to 0.10-0.15
      cycles per sample between the first and the last sample;
    - ``square``: ``A sign(sin(2 pi f t + phase))``, values ``+A`` and ``-A`` only.

    length: samples per signal (>= 32). Returns a :class:`Signals` with ``x`` of shape
    ``(n, length, 1)``.
    """
    n = positive_int(n, "n")
    length = positive_int(length, "length")
    if length < MIN_LENGTH:
        raise ValueError(f"length must be >= {MIN_LENGTH} samples; got {length}")
    classes = tuple(classes)
    unknown = [c for c in classes if c not in SIGNAL_CLASSES]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct names from {SIGNAL_CLASSES}; got {classes!r}")
    lo, hi = amplitude
    if not 0 < lo <= hi:
        raise ValueError(f"amplitude must be (low, high) with 0 < low <= high; got {amplitude!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0; got {noise}")

    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(classes))
    names = np.array(classes)[y]
    amp = rng.uniform(lo, hi, n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n)[:, None]
    freq = 1.0 / rng.uniform(*_SINE_PERIOD, n)[:, None]
    t = np.arange(length, dtype=np.float64)[None, :]

    wave = np.sin(2 * np.pi * freq * t + phase)
    chirp = names == "chirp"
    if chirp.any():
        f0 = rng.uniform(*_CHIRP_START, chirp.sum())[:, None]
        f1 = rng.uniform(*_CHIRP_END, chirp.sum())[:, None]
        # Phase = 2 pi * integral of f(t) = f0 + (f1 - f0) t / (length - 1).
        cycles = f0 * t + (f1 - f0) * t**2 / (2 * (length - 1))
        wave[chirp] = np.sin(2 * np.pi * cycles + phase[chirp])
    square = names == "square"
    wave[square] = np.where(wave[square] >= 0, 1.0, -1.0)

    events = np.zeros((n, 2), dtype=np.int64)
    burst = np.flatnonzero(names == "burst")
    if len(burst):
        size = rng.integers(_BURST_LENGTH[0], _BURST_LENGTH[1] + 1, len(burst))
        start = (rng.uniform(0, 1, len(burst)) * (length - size + 1)).astype(np.int64)
        fast = 1.0 / rng.uniform(*_BURST_PERIOD, len(burst))
        fast_phase = rng.uniform(0, 2 * np.pi, len(burst))
        for i, s, m, f, p in zip(burst, start, size, fast, fast_phase, strict=True):
            wave[i, s : s + m] += np.sin(2 * np.pi * f * np.arange(m) + p)
        events[burst] = np.stack([start, start + size], axis=1)

    x = amp * wave
    if noise > 0:
        x = x + rng.normal(0.0, noise, x.shape)
    return Signals(
        x=x[..., None].astype(np.float32), y=y.astype(np.int64), class_names=classes, events=events
    )


def load_signals(
    n: int = 2000,
    length: int = 128,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    **kwargs,
) -> Dataset:
    """:func:`make_signals` split like :func:`~cnncourse.data.load_digits` into a
    :class:`~cnncourse.data.Dataset` of ``(N, length, 1)`` signals (stratified by class,
    fixed by ``seed``). kwargs go to :func:`make_signals` (``classes``, ``noise``, ...).
    """
    split_fractions(val_fraction, test_fraction)  # fail before the work
    data = make_signals(n, length=length, seed=seed, **kwargs)
    return split_dataset(data.x, data.y, data.class_names, val_fraction, test_fraction, seed)


def make_token_sequences(
    n: int, length: int = 24, vocab_size: int = 20, motif=(3, 1, 4), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A toy text task: does the ``motif`` (a short run of token ids) occur in the sequence?

    Half the sequences (label 1) contain the motif, planted at a random position; the other
    half (label 0) do not contain it anywhere, although they may contain its tokens in
    other orders. Tokens are ids in ``[0, vocab_size)``, as a tokenizer would produce.
    Returns ``x (n, length)`` int64 token ids and ``y (n,)`` int64 labels.
    """
    n = positive_int(n, "n")
    length = positive_int(length, "length")
    vocab_size = positive_int(vocab_size, "vocab_size")
    motif = np.asarray(motif)
    if motif.ndim != 1 or len(motif) < 1 or not np.issubdtype(motif.dtype, np.integer):
        raise ValueError(f"motif must be a non-empty sequence of ints; got {motif!r}")
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2; got {vocab_size}")
    if motif.min() < 0 or motif.max() >= vocab_size:
        raise ValueError(f"motif tokens must lie in [0, {vocab_size}); got {motif.tolist()}")
    if length < len(motif):
        raise ValueError(f"length must be >= the motif length {len(motif)}; got {length}")

    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 2)
    x = rng.integers(0, vocab_size, (n, length))
    k = len(motif)
    for i in range(n):
        # Break every accidental occurrence, then plant one if the label asks for it.
        while (hits := _motif_starts(x[i], motif)).size:
            x[i, hits + k - 1] = rng.integers(0, vocab_size, hits.size)
        if y[i]:
            start = rng.integers(0, length - k + 1)
            x[i, start : start + k] = motif
    return x.astype(np.int64), y.astype(np.int64)


def _motif_starts(seq: np.ndarray, motif: np.ndarray) -> np.ndarray:
    """Start indices where ``motif`` occurs in the 1D ``seq``."""
    k = len(motif)
    if len(seq) < k:
        return np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(seq, k)
    return np.flatnonzero((windows == motif).all(axis=1))
