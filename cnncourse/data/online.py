"""MNIST, Fashion-MNIST and CIFAR-10, downloaded once (with ``urllib``) and cached.

The files, their checksums and the cache layout are the ones ``keras.datasets`` uses
(``keras.utils.get_file``'s), so a file that Keras downloaded before is found again and
a file downloaded here is found by Keras (the default cache is ``$KERAS_HOME`` or
``~/.keras``). Downloads need a network; without one, :class:`DatasetUnavailableError`
says what was tried, where the cache is and which offline dataset to use instead.
Neither importing this module nor loading a dataset imports TensorFlow or Keras.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common import keras_cache_dir
from .splits import Dataset, Split, stratified_split

_KERAS_BUCKET = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class _Remote:
    fname: str  # name in the cache (Keras' name)
    origin: str
    file_hash: str | None  # sha256 (64 hex digits) or md5; None: not checked
    extract: bool = False  # a tar archive, kept as fname + "_archive", unpacked into fname/


@dataclass(frozen=True)
class _Source:
    title: str
    subdir: str  # under the cache folder
    files: tuple[_Remote, ...]
    class_names: tuple[str, ...]
    offline: str  # what to use instead without a network


# Hashes are those keras.datasets checks (Keras checks none for Fashion-MNIST; the IDX
# headers are validated on reading instead). Tests swap in the hash of a small file.
SOURCES: dict[str, _Source] = {
    "mnist": _Source(
        "MNIST",
        "datasets",
        (
            _Remote(
                "mnist.npz",
                _KERAS_BUCKET + "mnist.npz",
                "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            ),
        ),
        tuple(str(d) for d in range(10)),
        "cnncourse.data.load_digits() (scikit-learn's handwritten digits, 28x28x1)",
    ),
    "fashion_mnist": _Source(
        "Fashion-MNIST",
        os.path.join("datasets", "fashion-mnist"),
        tuple(
            _Remote(f, _KERAS_BUCKET + f, None)
            for f in (
                "train-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
            )
        ),
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        "cnncourse.data.load_shapes(size=28, gray=True) (synthetic shapes, 28x28x1)",
    ),
    "cifar10": _Source(
        "CIFAR-10",
        "datasets",
        (
            _Remote(
                "cifar-10-batches-py-target",
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                extract=True,
            ),
        ),
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        "cnncourse.data.load_shapes(size=32) (synthetic colour shapes, 32x32x3)",
    ),
}


class DatasetUnavailableError(OSError):
    """A dataset is neither in the cache nor downloadable (usually: no network)."""


def default_cache_dir() -> Path:
    """Where Keras caches downloads: ``$KERAS_HOME`` if set, else ``~/.keras``."""
    return keras_cache_dir()


def load_mnist(cache_dir=None, val_fraction: float = 1 / 12, seed: int = 0) -> Dataset:
    """MNIST: 60,000 + 10,000 handwritten digits, ``(N, 28, 28, 1)`` float32 in [0, 1].

    The validation split (default 5,000 images) is carved from the training set,
    stratified and fixed by ``seed``. cache_dir: folder for the download (created if
    missing); default :func:`default_cache_dir`. Raises :class:`DatasetUnavailableError`
    offline when the file is not cached.
    """
    (path,) = _fetch("mnist", cache_dir)
    with np.load(path, allow_pickle=False) as f:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
        if missing:
            raise ValueError(f"{path} is not an MNIST file: it lacks {sorted(missing)}")
        parts = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    return _as_dataset("mnist", *parts, val_fraction, seed)


def load_fashion_mnist(cache_dir=None, val_fraction: float = 1 / 12, seed: int = 0) -> Dataset:
    """Fashion-MNIST: 60,000 + 10,000 clothing images, ``(N, 28, 28, 1)`` float32.

    Same splitting, caching and errors as :func:`load_mnist`.
    """
    y_train, x_train, y_test, x_test = (_read_idx(p) for p in _fetch("fashion_mnist", cache_dir))
    return _as_dataset("fashion_mnist", x_train, y_train, x_test, y_test, val_fraction, seed)


def load_cifar10(cache_dir=None, val_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """CIFAR-10: 50,000 + 10,000 colour photos, ``(N, 32, 32, 3)`` float32 in [0, 1].

    Same splitting, caching and errors as :func:`load_mnist` (a 163 MB download).
    """
    (folder,) = _fetch("cifar10", cache_dir)
    batches = Path(folder) / "cifar-10-batches-py"
    train = [_read_cifar_batch(batches / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _read_cifar_batch(batches / "test_batch")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return _as_dataset("cifar10", x_train, y_train, x_test, y_test, val_fraction, seed)


# --------------------------------------------------------------------------- internals


def _fetch(name: str, cache_dir) -> list[str]:
    """Paths of the dataset's files in the cache, downloaded first if missing or corrupt."""
    source = SOURCES[name]
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    folder = cache / source.subdir
    paths = []
    for remote in source.files:
        try:
            paths.append(str(_cached(remote, folder)))
        except Exception as exc:
            raise DatasetUnavailableError(
                f"could not load {source.title}: {remote.fname} is not in the cache folder "
                f"{folder} (or fails its checksum), and downloading it from {remote.origin} "
                f"failed: {exc}\n"
                f"To work offline, copy the file into {folder} (pass cache_dir= to use another "
                f"folder), or use an offline dataset instead: {source.offline}."
            ) from exc
    return paths


def _cached(remote: _Remote, folder: Path) -> Path:
    """The file (or, for an archive, the folder it unpacks to) in ``folder``, where
    ``keras.utils.get_file`` puts it: ``fname``, or ``fname + "_archive"`` unpacked into
    ``fname/``. Downloaded when missing or when it fails its checksum."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (remote.fname + "_archive" if remote.extract else remote.fname)
    fresh = not (target.is_file() and _hash_ok(target, remote.file_hash))
    if fresh:
        _download(remote.origin, target, remote.file_hash)
    if not remote.extract:
        return target
    unpacked = folder / remote.fname
    if fresh or not unpacked.is_dir():
        _unpack(target, unpacked)
    return unpacked


def _hash_ok(path: Path, expected: str | None) -> bool:
    """True when ``expected`` is None or the file's sha256 (64 hex digits) or md5 is it."""
    if expected is None:
        return True
    hasher = hashlib.sha256() if len(expected) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == expected


def _download(origin: str, target: Path, file_hash: str | None) -> None:
    """``origin`` -> ``target``, written under a temporary name and renamed once complete
    and checked: a failed download leaves nothing behind."""
    print(f"Downloading {origin}", file=sys.stderr)
    with urllib.request.urlopen(origin, timeout=60) as response:
        fd, part = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
            if not _hash_ok(Path(part), file_hash):
                raise ValueError(f"the downloaded file's hash does not match {file_hash}")
            os.replace(part, target)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise


def _unpack(archive: Path, folder: Path) -> None:
    """Unpack the tar archive into ``folder`` (replacing it), refusing members that would
    land outside it; unpacked beside it first, so a failure leaves no half folder."""
    tmp = Path(tempfile.mkdtemp(prefix=folder.name, suffix=".unpacking", dir=folder.parent))
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extractall(tmp, filter="data")
            else:
                for member in tar.getmembers():
                    inside = (tmp / member.name).resolve().is_relative_to(tmp.resolve())
                    if not inside or not (member.isfile() or member.isdir()):
                        raise tarfile.TarError(f"refusing to unpack {member.name!r}")
                tar.extractall(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _as_dataset(name, x_train, y_train, x_test, y_test, val_fraction, seed) -> Dataset:
    """uint8 images -> float32 ``(N, H, W, C)`` in [0, 1]; a seeded validation split."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction}")

    def prep(x, y):
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or len(x) != len(y):
            raise ValueError(
                f"corrupt {SOURCES[name].title} file: images of shape {x.shape} for {len(y)} labels"
            )
        return x.astype(np.float32) / np.float32(255), np.asarray(y).reshape(-1).astype(np.int64)

    x_train, y_train = prep(x_train, y_train)
    x_test, y_test = prep(x_test, y_test)
    train, val = stratified_split(y_train, [1 - val_fraction, val_fraction], np.random.default_rng(seed))
    return Dataset(
        Split(x_train[train], y_train[train]),
        Split(x_train[val], y_train[val]),
        Split(x_test, y_test),
        SOURCES[name].class_names,
    )


def _read_idx(path) -> np.ndarray:
    """A gzipped IDX file (the MNIST format): labels ``(N,)`` or images ``(N, H, W)`` uint8."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    if magic == 2049:
        shape, offset = (int.from_bytes(data[4:8], "big"),), 8
    elif magic == 2051:
        shape = tuple(int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
        offset = 16
    else:
        raise ValueError(
            f"{path} is not an IDX file of uint8 labels or images "
            f"(magic number {magic}, expected 2049 or 2051)"
        )
    if len(data) - offset != int(np.prod(shape)):
        raise ValueError(
            f"{path} is truncated: the header says {shape}, but it holds {len(data) - offset} bytes of data"
        )
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles CIFAR's dicts of NumPy arrays and nothing else (no arbitrary code)."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            *(
                (f"numpy.{core}.multiarray", name)
                for core in ("core", "_core")
                for name in ("_reconstruct", "scalar")
            ),
        }
    )

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR file")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module.removeprefix("numpy.core.")  # NumPy 2's name
        return super().find_class(module, name)


def _read_cifar_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One pickled CIFAR batch -> images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)``."""
    with open(path, "rb") as f:
        batch = _ArrayUnpickler(f, encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels
