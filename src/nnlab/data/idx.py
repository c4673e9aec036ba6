"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST (plain or gzipped).

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian uint32 dimensions, then the array's values in C order, big-endian. The header is
checked against the payload before any array is allocated, so a corrupted or hostile file
(truncated, oversized, or declaring a huge shape) fails fast with a message naming it.
"""

import gzip
import os

import numpy as np

# dtype code -> big-endian NumPy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT")
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_TO_CODE = {dtype.newbyteorder("="): code for code, dtype in _CODE_TO_DTYPE.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22  # bytes read at a time from a gzip stream


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzipped or not, told apart by its content) into an array.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.
    Returns:
        An array of the declared shape, in native byte order, with dtype uint8, int8, int16,
        int32, float32 or float64 as the file's dtype code says (0x08, 0x09, 0x0B, 0x0C,
        0x0D, 0x0E).
    Raises:
        ValueError: naming the file, for a bad magic number, an unknown dtype code, a
            truncated header, or a payload shorter or longer than the header declares.
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if compressed:
            with gzip.GzipFile(fileobj=raw) as stream:
                return _read_stream(stream, path, file_size=None)
        return _read_stream(raw, path, file_size=os.fstat(raw.fileno()).st_size)


def _read_stream(stream, path: str, file_size: int | None) -> np.ndarray:
    try:
        magic = _read_exactly(stream, 4, path, "the 4-byte magic number")
        if magic[0] != 0 or magic[1] != 0:
            raise ValueError(
                f"{path}: not an IDX file: the magic number must start with two zero bytes, "
                f"got {magic.hex(' ')}"
            )
        code, ndim = magic[2], magic[3]
        if code not in _CODE_TO_DTYPE:
            known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in _CODE_TO_DTYPE.items())
            raise ValueError(
                f"{path}: unknown IDX dtype code 0x{code:02X}; expected one of {known}"
            )
        dtype = _CODE_TO_DTYPE[code]
        dims_bytes = _read_exactly(stream, 4 * ndim, path, f"the {ndim} dimensions")
    except (OSError, EOFError) as err:  # gzip raises these for a damaged stream
        raise ValueError(f"{path}: cannot read the IDX header: {err}") from err
    shape = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">u4"))
    header = 4 + 4 * ndim
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python int: no overflow
    if file_size is not None:
        # Plain file: the size on disk tells everything before a byte of payload is read.
        _check_size(path, shape, dtype, expected, file_size - header)
        payload = np.empty(expected, np.uint8)
        stream.readinto(memoryview(payload))
    else:
        payload = _read_gzip_payload(stream, path, shape, dtype, expected)
    array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    # Native byte order; uint8/int8 have none, so they come back without a copy.
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_exactly(stream, n: int, path: str, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise ValueError(f"{path}: truncated IDX header: expected {what} ({n} bytes)")
    return data


def _read_gzip_payload(stream, path, shape, dtype, expected) -> bytearray:
    """Decompress in chunks, never reading more than ``expected + 1`` bytes: a header that
    declares a huge shape costs only as much memory as the data that is really there."""
    payload = bytearray()
    try:
        while len(payload) <= expected:
            chunk = stream.read(min(_CHUNK, expected + 1 - len(payload)))
            if not chunk:
                break
            payload += chunk
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: damaged gzip stream after {len(payload)} bytes: {err}") from err
    # Reading stopped one byte past the declared size: how much more follows is unknown.
    _check_size(path, shape, dtype, expected, None if len(payload) > expected else len(payload))
    return payload


def _check_size(path, shape, dtype, expected: int, actual: int | None) -> None:
    if actual == expected:
        return
    declared = f"the header declares shape {shape} of {dtype.newbyteorder('=').name}"
    if actual is None or actual > expected:
        extra = "" if actual is None else f" ({actual - expected} extra bytes)"
        raise ValueError(
            f"{path}: oversized IDX payload: {declared} ({expected} bytes), but the file holds "
            f"more data{extra}"
        )
    raise ValueError(
        f"{path}: truncated IDX payload: {declared} ({expected} bytes), but only {actual} "
        "bytes follow the header"
    )


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file; gzipped when ``path`` ends in ``.gz``.

    Args:
        path: the file to write (replaced atomically: written to a temporary file first).
        array: uint8, int8, int16, int32, float32 or float64 values, at most 255 axes, each
            shorter than 2**32.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _DTYPE_TO_CODE:
        names = ", ".join(d.name for d in _DTYPE_TO_CODE)
        raise ValueError(
            f"write_idx: IDX cannot store dtype {array.dtype}; convert to one of {names}"
        )
    if array.ndim > 255 or any(d >= 2**32 for d in array.shape):
        raise ValueError(f"write_idx: shape {array.shape} does not fit an IDX header")
    header = bytes([0, 0, _DTYPE_TO_CODE[native], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(tmp, "wb") as f:
            f.write(header)
            f.write(body)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
