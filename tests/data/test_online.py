"""cnncourse.data.online: the cached loaders of MNIST, Fashion-MNIST and CIFAR-10.

The loaders run their real path (the file is found in the cache and its hash checked,
an archive is unpacked, then the file is parsed) on small files written here; the
network is blocked (tests/data/conftest.py), so nothing is ever downloaded.
"""

import gzip
import hashlib
import io
import pickle
import tarfile
import time

import numpy as np
import pytest

from cnncourse import data
from cnncourse.data import online


def _register(monkeypatch, name, path):
    """Tell the loader that ``path`` is the genuine file (its sha256 becomes the hash)."""
    source = online.SOURCES[name]
    remote = source.files[0]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    patched = online._Source(
        source.title,
        source.subdir,
        (online._Remote(remote.fname, remote.origin, digest, remote.extract),),
        source.class_names,
        source.offline,
    )
    monkeypatch.setitem(online.SOURCES, name, patched)


def test_mnist_from_cache(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (24, 28, 28), dtype=np.uint8)
    y_train = np.repeat(np.arange(3, dtype=np.uint8), 8)
    x_test = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    y_test = np.arange(5, dtype=np.uint8)
    path = tmp_path / "cache" / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    _register(monkeypatch, "mnist", path)

    d = data.load_mnist(cache_dir=tmp_path / "cache", val_fraction=0.25, seed=0)
    assert d.train.x.shape == (18, 28, 28, 1) and d.val.x.shape == (6, 28, 28, 1)
    assert np.bincount(d.val.y).tolist() == [2, 2, 2]  # stratified: a quarter of each class
    np.testing.assert_allclose(d.test.x[..., 0] * 255, x_test, atol=1e-4)
    np.testing.assert_array_equal(d.test.y, y_test)
    assert d.class_names[9] == "9"


def test_mnist_with_a_wrong_hash_is_not_trusted(tmp_path, monkeypatch):
    path = tmp_path / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))
    # Not registered: the real MNIST hash does not match, so Keras tries to download.
    with pytest.raises(data.DatasetUnavailableError, match="fails its checksum"):
        data.load_mnist(cache_dir=tmp_path)


def _idx(array: np.ndarray) -> bytes:
    magic = 2049 if array.ndim == 1 else 2051
    header = b"".join(int(v).to_bytes(4, "big") for v in (magic, *array.shape))
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_from_cache(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    y_train = np.tile(np.arange(10), 2)
    x_train = rng.integers(0, 256, (20, 28, 28))
    y_test, x_test = np.arange(4), rng.integers(0, 256, (4, 28, 28))
    for name, array in [
        ("train-labels-idx1-ubyte.gz", y_train),
        ("train-images-idx3-ubyte.gz", x_train),
        ("t10k-labels-idx1-ubyte.gz", y_test),
        ("t10k-images-idx3-ubyte.gz", x_test),
    ]:
        (folder / name).write_bytes(_idx(array))
    d = data.load_fashion_mnist(cache_dir=tmp_path, val_fraction=0.5)
    assert len(d.train) == len(d.val) == 10 and d.test.x.shape == (4, 28, 28, 1)
    np.testing.assert_allclose(d.test.x[..., 0] * 255, x_test, atol=1e-4)
    assert d.class_names[9] == "Ankle boot"

    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(gzip.decompress(_idx(y_test))[:-1]))
    with pytest.raises(ValueError, match="is truncated: the header says"):
        data.load_fashion_mnist(cache_dir=tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"<html>moved</html>"))
    with pytest.raises(ValueError, match="is not an IDX file"):
        data.load_fashion_mnist(cache_dir=tmp_path)


def _cifar_batch(rng, n):
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    # CIFAR stores each image as 3 planes (R, G, B) of 32x32, flattened.
    batch = {
        b"data": images.transpose(0, 3, 1, 2).reshape(n, 3072),
        b"labels": rng.integers(0, 10, n).tolist(),
        b"batch_label": b"test",
    }
    return images, batch


def test_cifar10_from_cache(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    archive = tmp_path / "datasets" / "cifar-10-batches-py-target_archive"
    archive.parent.mkdir(parents=True)
    expected = []
    with tarfile.open(archive, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            images, batch = _cifar_batch(rng, 4)
            expected.append((images, batch[b"labels"]))
            blob = pickle.dumps(batch, protocol=4)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    _register(monkeypatch, "cifar10", archive)

    d = data.load_cifar10(cache_dir=tmp_path, val_fraction=0.0)
    assert d.train.x.shape == (20, 32, 32, 3) and d.test.x.shape == (4, 32, 32, 3)
    np.testing.assert_allclose(d.test.x * 255, expected[-1][0], atol=1e-4)
    np.testing.assert_array_equal(d.test.y, expected[-1][1])
    assert d.class_names[0] == "airplane"


def test_cifar_unpickler_refuses_code(tmp_path):
    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({b"data": time.sleep}))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load time\.sleep"):
        online._read_cifar_batch(path)


@pytest.mark.parametrize(
    ("loader", "fname", "instead"),
    [
        (data.load_mnist, "mnist.npz", "load_digits()"),
        (data.load_fashion_mnist, "train-labels-idx1-ubyte.gz", "load_shapes(size=28, gray=True)"),
        (data.load_cifar10, "cifar-10-batches-py-target", "load_shapes(size=32)"),
    ],
)
def test_offline_error_says_what_where_and_instead(tmp_path, loader, fname, instead):
    cache = tmp_path / "not-yet-created"
    with pytest.raises(data.DatasetUnavailableError) as err:
        loader(cache_dir=cache)
    message = str(err.value)
    assert fname in message
    assert "https://" in message  # what was tried
    assert str(cache / "datasets") in message  # where the cache is
    assert "network disabled in tests" in message  # why it failed
    assert f"cnncourse.data.{instead}" in message  # what to use instead
    assert not list(cache.rglob("*.*")), "a failed download must not leave partial files"


def _mnist_bytes(seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    blob = io.BytesIO()
    np.savez(
        blob,
        x_train=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        y_train=np.arange(8, dtype=np.uint8) % 2,
        x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        y_test=np.arange(2),
    )
    return blob.getvalue()


def test_a_download_lands_where_keras_looks_and_a_bad_one_leaves_nothing(tmp_path, monkeypatch):
    """The downloader itself, with urllib's urlopen answering from memory."""
    payload = _mnist_bytes()
    source = online.SOURCES["mnist"]
    remote = source.files[0]
    digest = hashlib.sha256(payload).hexdigest()
    monkeypatch.setitem(
        online.SOURCES,
        "mnist",
        online._Source(
            source.title,
            source.subdir,
            (online._Remote(remote.fname, remote.origin, digest),),
            source.class_names,
            source.offline,
        ),
    )
    served = []

    def urlopen(url, timeout=None):
        served.append(url)
        return io.BytesIO(served_bytes)

    monkeypatch.setattr(online.urllib.request, "urlopen", urlopen)
    served_bytes = payload[:-10]  # truncated on the way: fails its checksum
    with pytest.raises(data.DatasetUnavailableError, match="hash does not match"):
        data.load_mnist(cache_dir=tmp_path, val_fraction=0.25)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []
    served_bytes = payload
    d = data.load_mnist(cache_dir=tmp_path, val_fraction=0.25)
    assert (tmp_path / "datasets" / "mnist.npz").read_bytes() == payload  # keras.datasets' path
    assert len(d.train) == 6 and len(d.test) == 2
    data.load_mnist(cache_dir=tmp_path)  # from the cache now
    assert served == [remote.origin] * 2
