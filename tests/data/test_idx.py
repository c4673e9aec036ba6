"""IDX reading and writing: every dtype round-trips, corrupted files are rejected early."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from nnlab.data import read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _values(dtype, shape=(3, 4, 5)):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    values = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    values.flat[0], values.flat[-1] = info.min, info.max  # extremes catch byte-order slips
    return values


def _write_raw(path, header: bytes, payload: bytes) -> None:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + payload)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(tmp_path, dtype, suffix):
    array = _values(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_file_layout_is_big_endian_idx(tmp_path):
    path = tmp_path / "a.idx"
    write_idx(path, np.array([[258, -2]], dtype=np.int16))
    assert path.read_bytes() == bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 0xFF, 0xFE])


def test_reads_handmade_mnist_style_files_gz_detected_by_content(tmp_path):
    labels = bytes([9, 0, 0, 3])
    header = struct.pack(">BBBBI", 0, 0, 0x08, 1, 4)
    path = tmp_path / "labels-no-gz-suffix"
    _write_raw(path, header, labels)
    np.testing.assert_array_equal(read_idx(path), [9, 0, 0, 3])
    with gzip.open(path, "wb") as f:  # gzipped although the name has no .gz
        f.write(header + labels)
    np.testing.assert_array_equal(read_idx(path), [9, 0, 0, 3])


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_payload_is_rejected(tmp_path, suffix):
    path = tmp_path / f"t.idx{suffix}"
    _write_raw(path, struct.pack(">BBBBII", 0, 0, 0x08, 2, 3, 4), bytes(11))
    with pytest.raises(ValueError, match=r"truncated IDX payload.*\(3, 4\).*12 bytes.*only 11"):
        read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_oversized_payload_is_rejected(tmp_path, suffix):
    path = tmp_path / f"o.idx{suffix}"
    _write_raw(path, struct.pack(">BBBBI", 0, 0, 0x0C, 1, 2), bytes(8 + 3))
    with pytest.raises(ValueError, match=r"oversized IDX payload.*\(2,\).*int32") as err:
        read_idx(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_huge_declared_shape_fails_without_allocating(tmp_path, suffix):
    # 3 x (2**32 - 1) float64: about 10**20 bytes declared, 16 bytes present.
    path = tmp_path / f"huge.idx{suffix}"
    dims = struct.pack(">III", 2**32 - 1, 2**32 - 1, 2**32 - 1)
    _write_raw(path, bytes([0, 0, 0x0E, 3]) + dims, bytes(16))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"truncated IDX payload.*only 16 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24, f"read_idx allocated {peak} bytes for a 16-byte payload"


def test_bad_magic_is_rejected(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    with pytest.raises(ValueError, match=r"bad.idx: not an IDX file.*89 50 4e 47"):
        read_idx(path)


def test_unknown_dtype_code_is_rejected(tmp_path):
    path = tmp_path / "code.idx"
    _write_raw(path, struct.pack(">BBBBI", 0, 0, 0x0A, 1, 1), bytes(8))
    with pytest.raises(ValueError, match=r"code.idx: unknown IDX dtype code 0x0A.*0x08 \(uint8\)"):
        read_idx(path)


def test_truncated_header_is_rejected(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 5]))
    with pytest.raises(ValueError, match=r"short.idx: truncated IDX header.*3 dimensions"):
        read_idx(path)


def test_damaged_gzip_stream_is_rejected(tmp_path):
    path = tmp_path / "damaged.idx.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"damaged.idx.gz"):
        read_idx(path)


def test_write_rejects_dtypes_idx_cannot_store(tmp_path):
    with pytest.raises(ValueError, match=r"IDX cannot store dtype int64; convert to one of uint8"):
        write_idx(tmp_path / "x.idx", np.arange(3))
    assert not (tmp_path / "x.idx").exists()
