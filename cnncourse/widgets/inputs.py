"""Where the convolution and pooling explorers get their input: a real photo, a digit,
or a small matrix the learner types in."""

from __future__ import annotations

import base64
import functools

import ipywidgets as w
import numpy as np

from ..data import sample_image

PHOTOS = ("cat", "coins", "camera", "astronaut")
PHOTO_SIZE = 128  # pixels on the shorter side: detailed enough, fast to convolve


@functools.cache
def _photo(name: str) -> np.ndarray:
    """A grayscale photo ``(H, W)`` uint8 whose shorter side is ``PHOTO_SIZE``, aspect kept.

    Stored as 8-bit levels so the browser receives the exact values Python computes with
    (a quarter of the bytes of float32); the explorers read it as ``levels / 255``.
    """
    h, w = sample_image(name, gray=True).shape
    scale = PHOTO_SIZE / min(h, w)
    photo = sample_image(name, gray=True, size=(round(h * scale), round(w * scale)))
    return np.round(np.clip(photo, 0.0, 1.0) * 255).astype(np.uint8)


@functools.cache
def _digit() -> np.ndarray:
    from ..data import load_digits

    return load_digits().train.x[0, :, :, 0]


def parse_matrix(text: str) -> np.ndarray:
    """Rows of numbers separated by spaces or commas, one row per line -> ``(H, W)`` float."""
    rows = [line.replace(",", " ").split() for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise ValueError("the matrix is empty: type rows of numbers, one row per line")
    if len({len(r) for r in rows}) != 1:
        raise ValueError(
            f"every row needs the same number of values; got row lengths {[len(r) for r in rows]}"
        )
    try:
        return np.array([[float(v) for v in r] for r in rows])
    except ValueError as exc:
        raise ValueError(f"the matrix must hold numbers only ({exc})") from None


def format_matrix(m) -> str:
    """The text :func:`parse_matrix` reads back."""
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(m))


class InputPicker:
    """A ``source`` dropdown (photos, a digit, a typed matrix or the caller's own image)
    and a ``matrix`` text area, shown only while the source is ``"matrix"`` if
    ``hide_matrix`` (a live explorer keeps it shown: in the static book no kernel could
    show it again). ``source=None`` picks the caller's ``image`` when given, else the
    typed matrix.

    ``value()`` returns the chosen input as a 2-D float array ``(H, W)``.
    """

    def __init__(self, source: str | None = None, matrix=None, image=None, hide_matrix: bool = True):
        options = [("typed matrix", "matrix"), ("digit", "digit")]
        options += [(f"photo: {name}", name) for name in PHOTOS]
        self.image = None
        if image is not None:
            img = np.asarray(image, dtype=float)
            if img.ndim == 3:
                img = img.mean(axis=-1)
            if img.ndim != 2:
                raise ValueError(f"image must be (H, W) or (H, W, C); got shape {np.shape(image)}")
            # float32 is what the browser receives, so both sides compute with the same values
            self.image = img.astype(np.float32).astype(float)
            options.insert(0, ("your image", "image"))
        if source is None:
            source = "matrix" if image is None else "image"
        values = [v for _, v in options]
        if source not in values:
            raise ValueError(f"source must be one of {values}; got {source!r}")
        self.source = w.Dropdown(options=options, value=source, description="input")
        self.matrix = w.Textarea(
            value=format_matrix(matrix), description="matrix", layout=w.Layout(width="22em", height="9em")
        )
        if hide_matrix:
            self.source.observe(self._toggle, names="value")
            self._toggle()

    def _toggle(self, _change=None) -> None:
        self.matrix.layout.display = "" if self.source.value == "matrix" else "none"

    @property
    def controls(self):
        return [self.source, self.matrix]

    def value(self) -> np.ndarray:
        src = self.source.value
        if src == "matrix":
            return parse_matrix(self.matrix.value)
        if src == "image":
            return self.image
        if src == "digit":
            return _digit().astype(float)
        return _photo(src) / 255.0

    def encoded_inputs(self) -> list[dict | None]:
        """Every source's array for the browser, in the order of ``source.options``:
        ``{"shape": [H, W], "dtype": "uint8" | "float32", "data": base64}`` (photos are
        8-bit levels to divide by 255), ``None`` for the typed matrix, which the browser
        parses from the text itself."""
        encoded = []
        for _, src in self.source.options:
            if src == "matrix":
                encoded.append(None)
            elif src in PHOTOS:
                encoded.append(encode_array(_photo(src), "uint8"))
            else:
                array = self.image if src == "image" else _digit()
                encoded.append(encode_array(array, "float32"))
        return encoded


def encode_array(array, dtype: str) -> dict:
    """``array`` for the browser: ``{"shape", "dtype", "data": base64 of its bytes}``,
    little-endian ``dtype`` (``"uint8"`` or ``"float32"``)."""
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    text = base64.b64encode(data.tobytes()).decode("ascii")
    return {"shape": list(data.shape), "dtype": dtype, "data": text}
