"""Real image datasets that are available offline: nothing here downloads at run time.

- ``load_digits_images``: scikit-learn's bundled 8x8 handwritten digits (1,797 images).
- ``load_fashion_mnist``: Zalando's Fashion-MNIST, 60,000 + 10,000 28x28 grey images, from
  the Debian package ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``)
  or any folder holding the four standard IDX files.

Images come back NCHW (``(N, 1, H, W)``), float32 in [0, 1]; labels are int64.
"""

import os

import numpy as np

from nnlab.data.idx import read_idx

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_ENV = "NNLAB_FASHION_MNIST"
FASHION_MNIST_CLASSES = (
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
)
_FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_digits_images(test_size=0.2, random_state=42):
    """scikit-learn's 8x8 digits as images, split into a stratified train and test set.

    Args:
        test_size: fraction of the 1,797 images held out for testing.
        random_state: seed of the split (the same seed gives the same split).
    Returns:
        ``(x_train, x_test, y_train, y_test)`` (scikit-learn's ``train_test_split`` order):
        float32 images of shape (N, 1, 8, 8) in [0, 1] (pixel / 16) and int64 labels 0..9.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    labels = digits.target.astype(np.int64)
    return train_test_split(
        images, labels, test_size=test_size, random_state=random_state, stratify=labels
    )


def fashion_mnist_dir(directory=None) -> str:
    """The folder Fashion-MNIST is read from: ``directory``, else the environment variable
    ``NNLAB_FASHION_MNIST``, else the Debian package's ``/usr/share/datasets/fashion-mnist``."""
    if directory is not None:
        return os.fspath(directory)
    return os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR


def fashion_mnist_available(directory=None) -> bool:
    """Whether all four Fashion-MNIST files are found (see ``fashion_mnist_dir``)."""
    root = fashion_mnist_dir(directory)
    return all(_find(root, name) is not None for name in _FASHION_FILES.values())


def load_fashion_mnist(directory=None, flatten=False, normalize=True):
    """Fashion-MNIST: 60,000 training and 10,000 test images of 10 kinds of clothing.

    Args:
        directory: folder with ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
            ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (gzipped or not).
            Default: ``$NNLAB_FASHION_MNIST``, else ``/usr/share/datasets/fashion-mnist``.
        flatten: return images as (N, 784) rows instead of (N, 1, 28, 28).
        normalize: scale pixels to float32 in [0, 1]; False keeps uint8 0..255.
    Returns:
        ``((x_train, y_train), (x_test, y_test))``; labels are int64 0..9, named by
        ``FASHION_MNIST_CLASSES``.
    Raises:
        FileNotFoundError: saying how to get the data when a file is missing.
        ValueError: when a file is corrupted or the images and labels do not match.
    """
    root = fashion_mnist_dir(directory)
    paths = {key: _find(root, name) for key, name in _FASHION_FILES.items()}
    missing = [_FASHION_FILES[key] + ".gz" for key, path in paths.items() if path is None]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST not found in {root}: missing {', '.join(missing)}. Install the "
            "Debian package (sudo apt-get install dataset-fashion-mnist, which puts it in "
            f"{FASHION_MNIST_DIR}), or pass directory= (or set {FASHION_MNIST_ENV}) to a "
            "folder holding the four IDX files."
        )
    arrays = {key: read_idx(path) for key, path in paths.items()}
    splits = []
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        _check_pair(x, y, paths[f"x_{part}"], paths[f"y_{part}"])
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        if normalize:
            x = np.divide(x, np.float32(255.0), dtype=np.float32)
        splits.append((x, y.astype(np.int64)))
    return tuple(splits)


def _find(root: str, name: str) -> str | None:
    for candidate in (name + ".gz", name):
        path = os.path.join(root, candidate)
        if os.path.isfile(path):
            return path
    return None


def _check_pair(x, y, x_path, y_path) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise ValueError(
            f"{x_path}: expected uint8 images of shape (N, 28, 28), got {x.dtype} {x.shape}"
        )
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"{y_path}: expected {len(x)} labels to match {x_path}, got shape {y.shape}"
        )
    if len(y) and y.max() > 9:
        raise ValueError(f"{y_path}: labels must be 0..9, found {int(y.max())}")
