"""Offline real datasets: sklearn digits as images and Fashion-MNIST from the Debian package."""

import os

import numpy as np
import pytest

from nnlab.data import (
    FASHION_MNIST_CLASSES,
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    read_idx,
    write_idx,
)
from nnlab.data.datasets import FASHION_MNIST_DIR

from conftest import IN_CI

# ---- digits -------------------------------------------------------------------------------


def test_digits_images_are_scaled_nchw_and_split_stratified():
    from sklearn.datasets import load_digits

    x_train, x_test, y_train, y_test = load_digits_images()
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    # Every pixel is k/16 for an integer k, and together the sets are exactly sklearn's digits.
    pixels = np.concatenate([x_train, x_test]) * 16
    np.testing.assert_array_equal(pixels, np.round(pixels))
    digits = load_digits()
    assert pixels.sum() == digits.images.sum()
    np.testing.assert_array_equal(
        np.bincount(np.concatenate([y_train, y_test])), np.bincount(digits.target)
    )
    # Stratified: each class keeps its share of the test set to within one image.
    expected = np.bincount(digits.target) * 0.2
    assert np.abs(np.bincount(y_test, minlength=10) - expected).max() <= 1


def test_digits_split_follows_the_seed():
    a = load_digits_images(test_size=0.25, random_state=0)
    b = load_digits_images(test_size=0.25, random_state=0)
    c = load_digits_images(test_size=0.25, random_state=1)
    assert len(a[1]) == 450
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[3], c[3])


# ---- Fashion-MNIST from files a test writes -----------------------------------------------


def _fake_fashion(folder, n_train=5, n_test=3, gz=True):
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        write_idx(folder / f"{part}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{part}-labels-idx1-ubyte{suffix}", labels)
        arrays[part] = images, labels
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_loader_on_small_idx_files(tmp_path, gz):
    arrays = _fake_fashion(tmp_path / "fm", gz=gz)
    assert fashion_mnist_available(tmp_path / "fm")
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(tmp_path / "fm")
    assert x_train.shape == (5, 1, 28, 28) and x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train[:, 0] * 255, arrays["train"][0])
    np.testing.assert_array_equal(y_train, arrays["train"][1])
    assert y_train.dtype == np.int64
    np.testing.assert_array_equal(x_test[:, 0] * 255, arrays["t10k"][0])
    np.testing.assert_array_equal(y_test, arrays["t10k"][1])

    (flat, _), _ = load_fashion_mnist(tmp_path / "fm", flatten=True, normalize=False)
    assert flat.dtype == np.uint8
    np.testing.assert_array_equal(flat, arrays["train"][0].reshape(5, 784))


def test_fashion_mnist_directory_from_environment(tmp_path, monkeypatch):
    arrays = _fake_fashion(tmp_path / "env")
    monkeypatch.setenv("NNLAB_FASHION_MNIST", str(tmp_path / "env"))
    (_, y_train), _ = load_fashion_mnist()
    np.testing.assert_array_equal(y_train, arrays["train"][1])


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    assert not fashion_mnist_available(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        load_fashion_mnist(tmp_path)
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message and "directory=" in message
    assert "missing train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz" in message


def test_mismatched_images_and_labels_are_rejected(tmp_path):
    _fake_fashion(tmp_path, n_train=5)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: expected 5 labels"):
        load_fashion_mnist(tmp_path)


# ---- the real Fashion-MNIST ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory):
    # The Debian path itself: NNLAB_FASHION_MNIST must not redirect this check.
    if not fashion_mnist_available(FASHION_MNIST_DIR):
        if IN_CI:
            pytest.fail(
                f"Fashion-MNIST is missing from {FASHION_MNIST_DIR} in CI: the CI script must "
                "run `apt-get install -y dataset-fashion-mnist`"
            )
        pytest.skip(
            f"Fashion-MNIST not installed in {FASHION_MNIST_DIR} "
            "(apt-get install dataset-fashion-mnist)"
        )
    return FASHION_MNIST_DIR


def test_real_fashion_mnist_shapes_labels_and_pixels(fashion_root):
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(fashion_root)
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert x_test.min() == 0.0 and x_test.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"

    raw_labels = read_idx(os.path.join(fashion_root, "train-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(y_train[:20], raw_labels[:20])
    np.testing.assert_array_equal(y_train[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    raw_images = read_idx(os.path.join(fashion_root, "t10k-images-idx3-ubyte.gz"))
    np.testing.assert_array_equal(np.round(x_test[:5, 0] * 255), raw_images[:5])
