"""safetensors blobs: written with the safetensors library, read only after checking by hand.

A crafted header cannot make us allocate: the header length, JSON, dtypes, shapes and offsets
are all checked against the bytes actually present before safetensors decodes anything.
safetensors itself is imported on use, so that importing nnlab does not load it.
"""

import json
import math
import struct

import numpy as np

from nnlab.io.errors import CorruptFileError
from nnlab.io.json_codec import is_count, no_duplicates

MAX_SAFETENSORS_HEADER = 100_000_000  # as safetensors' own MAX_HEADER_SIZE

_ST_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
    "F16": np.float16, "U32": np.uint32, "I32": np.int32, "F32": np.float32,
    "U64": np.uint64, "I64": np.int64, "F64": np.float64,
}  # fmt: skip


def safetensors_bytes(arrays: dict, metadata=None) -> bytes:
    import safetensors.numpy

    # np.asarray(order="C"), not ascontiguousarray: that one turns a 0-d array (BatchNorm's
    # num_batches_tracked) into shape (1,), which then would not load back.
    contiguous = {k: np.asarray(v, order="C") for k, v in arrays.items()}
    return safetensors.numpy.save(contiguous, metadata=metadata)


def read_safetensors(data: bytes, where: str) -> dict[str, np.ndarray]:
    """Check a safetensors blob completely (header length, JSON, dtypes, shapes and offsets
    against the bytes present), then decode it: a crafted header cannot make us allocate."""
    import safetensors.numpy

    if len(data) < 8:
        raise CorruptFileError(
            f"{where}: not a safetensors file: {len(data)} bytes, fewer than the 8-byte header "
            "length"
        )
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_SAFETENSORS_HEADER or 8 + n > len(data):
        raise CorruptFileError(
            f"{where}: safetensors header length {n} exceeds the file ({len(data)} bytes)"
            + (f" or the {MAX_SAFETENSORS_HEADER}-byte limit" if n > MAX_SAFETENSORS_HEADER else "")
        )
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CorruptFileError(f"{where}: safetensors header is not valid JSON ({e})") from e
    if not isinstance(header, dict):
        raise CorruptFileError(f"{where}: safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise CorruptFileError(f"{where}: safetensors __metadata__ must map strings to strings")
    spans = sorted((_tensor_span(name, info, where), name) for name, info in header.items())
    data_size, position = len(data) - 8 - n, 0
    for (start, end), name in spans:
        if start != position:
            problem = "overlaps the previous tensor" if start < position else "leaves a gap"
            raise CorruptFileError(
                f"{where}: tensor {name!r} has data_offsets [{start}, {end}] which {problem} "
                f"(expected to start at {position})"
            )
        position = end
    if position != data_size:
        raise CorruptFileError(
            f"{where}: tensor data ends at byte {position} but the file holds {data_size} bytes "
            "of data (offsets exceed the data, or the file is truncated or padded)"
        )
    try:
        return safetensors.numpy.load(data)
    except Exception as e:  # safetensors' own checks, should ours ever miss a case
        raise CorruptFileError(f"{where}: invalid safetensors data ({e})") from e


def _tensor_span(name: str, info, where: str) -> tuple[int, int]:
    """(start, end) of a tensor's bytes, after checking its dtype, shape and size."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise CorruptFileError(
            f"{where}: tensor {name!r} needs exactly dtype, shape and data_offsets in the header"
        )
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in _ST_DTYPES:
        raise CorruptFileError(
            f"{where}: tensor {name!r} has unsupported dtype {dtype!r}; allowed: "
            f"{sorted(_ST_DTYPES)}"
        )
    if not isinstance(shape, list) or not all(is_count(d) for d in shape):
        raise CorruptFileError(f"{where}: tensor {name!r} has invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(is_count, offsets))):
        raise CorruptFileError(f"{where}: tensor {name!r} has invalid data_offsets {offsets!r}")
    start, end = offsets
    nbytes = math.prod(shape) * np.dtype(_ST_DTYPES[dtype]).itemsize  # Python ints: no overflow
    if end < start or end - start != nbytes:
        raise CorruptFileError(
            f"{where}: tensor {name!r} of dtype {dtype} and shape {shape} needs {nbytes} bytes, "
            f"but its data_offsets [{start}, {end}] span {end - start}"
        )
    return start, end
