"""CIFAR-10 from its *binary* distribution, read from files the user supplies.

No registry package ships CIFAR-10, so nnlab never downloads it: fetch the binary version
("CIFAR-10 binary version (suitable for C programs)",
https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz), unpack it and pass the folder.

The "CIFAR-10 python version" (``cifar-10-python.tar.gz``) is deliberately not read: its
batches are pickles, and unpickling a file can execute arbitrary code. nnlab never runs code
from a data file.
"""

import os

import numpy as np

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
_IMAGE_BYTES = 3 * 32 * 32
_RECORD_BYTES = 1 + _IMAGE_BYTES


def read_cifar10_binary(path):
    """Read one CIFAR-10 binary batch file.

    Each record is 1 label byte (0-9) followed by 3072 pixel bytes: the 32x32 red plane,
    then green, then blue, each row by row.

    Args:
        path: a batch file such as ``data_batch_1.bin``.
    Returns:
        ``(images, labels)``: uint8 images of shape (N, 3, 32, 32), channels in R, G, B
        order, and int64 labels of shape (N,).
    Raises:
        ValueError: naming the file, when its size is not a whole number of 3073-byte
            records or a label is not in 0..9 (a CIFAR-100 file, for instance).
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size == 0 or size % _RECORD_BYTES:
        raise ValueError(
            f"{path}: not a CIFAR-10 binary batch: its size ({size} bytes) is not a positive "
            f"multiple of the {_RECORD_BYTES}-byte record (1 label byte + 3072 pixel bytes)"
        )
    records = np.fromfile(path, dtype=np.uint8).reshape(-1, _RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.flatnonzero(labels > 9)[0])
        raise ValueError(
            f"{path}: record {bad} has label {labels[bad]}, but CIFAR-10 labels are 0..9 "
            "(CIFAR-100 binary files, with two label bytes, are a different format)"
        )
    images = np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32)
    return images, labels


def load_cifar10(directory, normalize=True):
    """CIFAR-10 from the unpacked binary version: 50,000 training and 10,000 test images.

    Args:
        directory: the folder holding ``data_batch_1.bin`` ... ``data_batch_5.bin`` and
            ``test_batch.bin`` (the ``cifar-10-batches-bin`` folder of the archive, or the
            folder the archive was unpacked into).
        normalize: scale pixels to float32 in [0, 1]; False keeps uint8 0..255.
    Returns:
        ``((x_train, y_train), (x_test, y_test))`` with images of shape (N, 3, 32, 32)
        (NCHW, RGB) and int64 labels; class names are ``CIFAR10_CLASSES``.
    Raises:
        FileNotFoundError: listing the missing files and where to get the binary version.
    """
    directory = os.fspath(directory)
    nested = os.path.join(directory, "cifar-10-batches-bin")
    if os.path.isdir(nested) and not os.path.exists(os.path.join(directory, TEST_FILE)):
        directory = nested
    names = (*TRAIN_FILES, TEST_FILE)
    missing = [f for f in names if not os.path.isfile(os.path.join(directory, f))]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 binary batches not found in {directory}: missing {', '.join(missing)}. "
            f"Download the binary version ({CIFAR10_BINARY_URL}), unpack it and pass the "
            "cifar-10-batches-bin folder. The pickled 'python version' is not supported: "
            "unpickling can execute code."
        )
    parts = [read_cifar10_binary(os.path.join(directory, f)) for f in TRAIN_FILES]
    x_train = np.concatenate([images for images, _ in parts])
    y_train = np.concatenate([labels for _, labels in parts])
    x_test, y_test = read_cifar10_binary(os.path.join(directory, TEST_FILE))
    if normalize:
        x_train = np.divide(x_train, np.float32(255.0), dtype=np.float32)
        x_test = np.divide(x_test, np.float32(255.0), dtype=np.float32)
    return (x_train, y_train), (x_test, y_test)
