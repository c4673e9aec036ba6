"""CIFAR-10 binary batches: exact pixels in R, G, B plane order; bad files rejected."""

import numpy as np
import pytest

from nnlab.data import load_cifar10, read_cifar10_binary
from nnlab.data.cifar import TEST_FILE, TRAIN_FILES


def _batch(rng, n):
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def _write_batch(path, images, labels):
    records = np.concatenate([labels[:, None], images.reshape(len(images), -1)], axis=1)
    path.write_bytes(records.astype(np.uint8).tobytes())


def test_binary_batch_reads_back_exactly_in_rgb_plane_order(tmp_path):
    # One handmade record: label 7, red plane all 10, green rising 0..255 row by row, blue 200.
    green = (np.arange(1024) % 256).astype(np.uint8)
    record = bytes([7]) + bytes([10] * 1024) + green.tobytes() + bytes([200] * 1024)
    images, labels = _batch(np.random.default_rng(0), 2)
    _write_batch(tmp_path / "b.bin", images, labels)
    path = tmp_path / "b.bin"
    path.write_bytes(record + path.read_bytes())

    x, y = read_cifar10_binary(path)
    assert x.dtype == np.uint8 and x.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(y, [7, *labels])
    assert y.dtype == np.int64
    assert (x[0, 0] == 10).all() and (x[0, 2] == 200).all()
    np.testing.assert_array_equal(x[0, 1], green.reshape(32, 32))
    assert x[0, 1, 0, 5] == 5 and x[0, 1, 1, 0] == 32  # row-major within a plane
    np.testing.assert_array_equal(x[1:], images)


def test_size_that_is_not_whole_records_is_rejected(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(3073 * 2 + 5))
    with pytest.raises(ValueError, match=r"bad.bin: not a CIFAR-10 binary batch.*6151 bytes.*3073"):
        read_cifar10_binary(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"not a CIFAR-10 binary batch.*\(0 bytes\)"):
        read_cifar10_binary(path)


def test_label_out_of_range_is_rejected(tmp_path):
    path = tmp_path / "c100.bin"
    path.write_bytes(bytes([3]) + bytes(3072) + bytes([42]) + bytes(3072))
    with pytest.raises(ValueError, match=r"c100.bin: record 1 has label 42.*0..9"):
        read_cifar10_binary(path)


def test_load_cifar10_concatenates_the_five_training_batches(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-bin"  # the archive's own folder, found from its parent
    folder.mkdir()
    parts = [_batch(rng, 2) for _ in range(6)]
    for name, (images, labels) in zip((*TRAIN_FILES, TEST_FILE), parts, strict=True):
        _write_batch(folder / name, images, labels)

    (x_train, y_train), (x_test, y_test) = load_cifar10(tmp_path)
    assert x_train.shape == (10, 3, 32, 32) and x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train * 255, np.concatenate([p[0] for p in parts[:5]]))
    np.testing.assert_array_equal(y_train, np.concatenate([p[1] for p in parts[:5]]))
    np.testing.assert_array_equal(x_test * 255, parts[5][0])
    np.testing.assert_array_equal(y_test, parts[5][1])

    (raw_train, _), _ = load_cifar10(folder, normalize=False)
    np.testing.assert_array_equal(raw_train, np.concatenate([p[0] for p in parts[:5]]))


def test_load_cifar10_names_missing_files_and_the_binary_download(tmp_path):
    images, labels = _batch(np.random.default_rng(2), 1)
    _write_batch(tmp_path / "data_batch_1.bin", images, labels)
    (tmp_path / "data_batch_1").write_bytes(b"pickle")  # the python version is never read
    with pytest.raises(FileNotFoundError) as err:
        load_cifar10(tmp_path)
    message = str(err.value)
    assert "missing data_batch_2.bin, data_batch_3.bin, data_batch_4.bin" in message
    assert "test_batch.bin" in message and "data_batch_1.bin," not in message
    assert "cifar-10-binary.tar.gz" in message and "unpickling can execute code" in message
