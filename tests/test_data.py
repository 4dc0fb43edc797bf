"""cnncourse.data: digits, synthetic shapes, sample photos, and the cached online loaders.

The online loaders run their real path (Keras' ``get_file`` finds the file in the cache
and checks its hash, then the file is parsed) on small files written here; the network
is blocked for the whole module, so nothing is ever downloaded.
"""

import gzip
import hashlib
import io
import pickle
import socket
import tarfile
import time

import numpy as np
import pytest

from cnncourse import data
from cnncourse.data import online


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt fails as it does on a machine without a network."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# --------------------------------------------------------------------------- digits


def test_digits_shapes_split_and_seed():
    d = data.load_digits()
    assert d.train.x.shape[1:] == (28, 28, 1) and d.train.x.dtype == np.float32
    assert len(d.train) + len(d.val) + len(d.test) == 1797
    assert len(d.test) == pytest.approx(0.2 * 1797, abs=10)
    assert 0.0 <= d.train.x.min() and d.train.x.max() <= 1.0
    assert set(np.unique(d.test.y)) == set(range(10))
    again = data.load_digits(seed=0)
    other = data.load_digits(seed=1)
    np.testing.assert_array_equal(again.train.y, d.train.y)
    assert not np.array_equal(other.train.y, d.train.y)


# --------------------------------------------------------------------------- shapes


def test_shapes_deterministic_balanced_and_in_range():
    a = data.make_shapes(600, size=32, seed=3)
    b = data.make_shapes(600, size=32, seed=3)
    c = data.make_shapes(600, size=32, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    x, y = a
    assert x.shape == (600, 32, 32, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0 and x.max() <= 1
    assert np.bincount(y).tolist() == [100] * 6  # 600 images over 6 classes
    assert a.class_names == data.SHAPE_NAMES


def test_shapes_masks_boxes_and_colours_agree():
    s = data.make_shapes(300, size=40, seed=0, noise=0.0, masks=True, boxes=True)
    assert s.masks.shape == (300, 40, 40) and s.masks.dtype == np.uint8
    assert s.boxes.shape == (300, 4)
    # The mask holds 0 and y + 1 only, and every shape covers some pixels.
    for i in range(300):
        assert set(np.unique(s.masks[i])) == {0, s.y[i] + 1}
    # Without noise the image has exactly two colours, split along the mask.
    fg = s.masks[0] > 0
    assert np.ptp(s.x[0][fg], axis=0).max() == 0 and np.ptp(s.x[0][~fg], axis=0).max() == 0
    # Each box is the tight box of its mask: the mask touches all four sides.
    for i in range(0, 300, 17):
        y0, x0, y1, x1 = s.boxes[i].astype(int)
        inside = s.masks[i][y0:y1, x0:x1] > 0
        assert inside.sum() == (s.masks[i] > 0).sum()
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


def test_shapes_area_ordering_matches_geometry():
    """Same radius for every class: a circle covers more pixels than the square inside it,
    which covers more than the triangle inside that (pi > 2 > 1.30 in units of r^2)."""
    s = data.make_shapes(600, size=64, seed=1, noise=0.0, scale=(0.4, 0.4), masks=True,
                         classes=("circle", "square", "triangle"))
    area = (s.masks > 0).sum(axis=(1, 2))
    mean = [area[s.y == k].mean() for k in range(3)]
    r2 = (0.4 * 64) ** 2
    np.testing.assert_allclose(mean, [np.pi * r2, 2 * r2, 3 * np.sqrt(3) / 4 * r2], rtol=0.03)


def test_extra_shapes_areas_match_geometry():
    """The shapes kept for new tasks: pentagon and hexagon inscribed in the circle of
    radius r ((5/2) sin 72 and (3/2) sqrt 3, times r^2), the disk below v = 0.2
    (pi/2 + 0.2 sqrt(0.96) + asin 0.2) and a 2:1 ellipse (pi/2)."""
    names = ("pentagon", "hexagon", "semicircle", "ellipse")
    s = data.make_shapes(400, size=64, seed=3, noise=0.0, scale=(0.4, 0.4), masks=True,
                         classes=names)
    area = (s.masks > 0).sum(axis=(1, 2))
    mean = [area[s.y == k].mean() for k in range(4)]
    r2 = (0.4 * 64) ** 2
    expected = [2.5 * np.sin(np.radians(72)), 1.5 * np.sqrt(3),
                np.pi / 2 + 0.2 * np.sqrt(0.96) + np.arcsin(0.2), np.pi / 2]
    np.testing.assert_allclose(mean, np.array(expected) * r2, rtol=0.03)
    assert set(data.EXTRA_SHAPES) == {*names, "heart"}
    assert not set(data.EXTRA_SHAPES) & set(data.SHAPE_NAMES)
    heart = data.make_shapes(5, size=32, classes=("heart",), masks=True, seed=0)
    assert (heart.masks > 0).sum(axis=(1, 2)).min() > 50


def test_shapes_gray_subset_and_load_shapes():
    s = data.make_shapes(20, size=28, gray=True, classes=("star", "ring"), seed=0)
    assert s.x.shape == (20, 28, 28, 1) and set(s.y) == {0, 1}
    assert s.class_names == ("star", "ring") and s.masks is None and s.boxes is None
    d = data.load_shapes(1200, size=16, seed=2)  # 200 per class: 140 / 20 / 40
    assert (len(d.train), len(d.val), len(d.test)) == (840, 120, 240)
    assert d.train.x.shape[1:] == (16, 16, 3)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 0}, "n must be a positive int"),
    ({"n": 2.5}, "n must be a positive int"),
    ({"n": 10, "size": 4}, "size must be >= 8"),
    ({"n": 10, "classes": ("circle", "blob")}, "classes must be distinct names"),
    ({"n": 10, "scale": (0.3, 0.7)}, "scale must be"),
    ({"n": 10, "noise": -1}, "noise must be >= 0"),
])
def test_shapes_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.make_shapes(**kwargs)


@pytest.mark.slow
def test_shapes_100k_in_seconds():
    start = time.perf_counter()
    s = data.make_shapes(100_000, size=32, seed=0)
    seconds = time.perf_counter() - start
    assert s.x.shape == (100_000, 32, 32, 3)
    assert seconds < 20, f"100k shapes took {seconds:.1f} s"


# --------------------------------------------------------------------------- photos


def test_sample_images():
    cat = data.sample_image("cat")
    assert cat.shape == (300, 451, 3) and cat.dtype == np.float32
    assert 0 <= cat.min() and cat.max() <= 1 and cat.max() > 0.5
    assert data.sample_image("coins").shape == (303, 384)
    gray = data.sample_image("astronaut", gray=True, size=64)
    assert gray.shape == (64, 64) and gray.dtype == np.float32
    assert data.sample_image("flower", size=(20, 30)).shape == (20, 30, 3)
    np.testing.assert_array_equal(data.sample_image("cameraman"), data.sample_image("camera"))
    assert set(data.describe_sample_images()) == set(data.SAMPLE_IMAGES)
    for name in data.SAMPLE_IMAGES:
        assert data.sample_image(name, size=8).shape[:2] == (8, 8)


def test_sample_image_bad_input():
    with pytest.raises(ValueError, match="unknown sample image 'dog'; choose one of cat"):
        data.sample_image("dog")
    with pytest.raises(TypeError, match="size must be None, an int or a pair"):
        data.sample_image("cat", size=(1, 2, 3))


# --------------------------------------------------------------------------- online


def _register(monkeypatch, name, path):
    """Tell the loader that ``path`` is the genuine file (its sha256 becomes the hash)."""
    source = online.SOURCES[name]
    remote = source.files[0]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    patched = online._Source(source.title, source.subdir,
                             (online._Remote(remote.fname, remote.origin, digest, remote.extract),),
                             source.class_names, source.offline)
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
    for name, array in [("train-labels-idx1-ubyte.gz", y_train),
                        ("train-images-idx3-ubyte.gz", x_train),
                        ("t10k-labels-idx1-ubyte.gz", y_test),
                        ("t10k-images-idx3-ubyte.gz", x_test)]:
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
    batch = {b"data": images.transpose(0, 3, 1, 2).reshape(n, 3072),
             b"labels": rng.integers(0, 10, n).tolist(), b"batch_label": b"test"}
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


@pytest.mark.parametrize(("loader", "fname", "instead"), [
    (data.load_mnist, "mnist.npz", "load_digits()"),
    (data.load_fashion_mnist, "train-labels-idx1-ubyte.gz", "load_shapes(size=28, gray=True)"),
    (data.load_cifar10, "cifar-10-batches-py-target", "load_shapes(size=32)"),
])
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
