"""The model file's zip archive: its members, writing it, and reading it back with every
declared size checked against the file and the limits before anything is read.

Members are stored uncompressed, with a fixed date, so the same model always gives the same
bytes. CRCs are checked by ``zipfile`` on reading.
"""

import json
import os
import re
import zipfile

from nnlab.io.errors import CorruptFileError
from nnlab.io.json_codec import no_duplicates

CONFIG, WEIGHTS, OPT_JSON, OPT_ARRAYS, RNG = (
    "config.json",
    "model.safetensors",
    "optimizer.json",
    "optimizer.safetensors",
    "rng.json",
)
MAX_JSON_BYTES = 64 * 2**20  # any JSON member
MAX_MEMBERS = 64

ZIP_MAGIC = b"PK\x03\x04"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same model always gives the same bytes


def write_zip(f, members: dict) -> None:
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def read_archive(path: str) -> dict[str, bytes]:
    """The known members of the archive, after checking every declared size against the
    file and the limits (before reading anything); CRCs are checked on reading."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(16)
        if head[:4] != ZIP_MAGIC:
            raise CorruptFileError(_foreign_file_message(path, head, size))
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise CorruptFileError(
                f"{path}: not a readable nnlab model file: the zip archive is truncated or "
                f"damaged ({e})"
            ) from e
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise CorruptFileError(
                    f"{path}: the archive has {len(infos)} members, more than {MAX_MEMBERS}"
                )
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise CorruptFileError(f"{path}: the archive repeats a member name")
            known = {CONFIG, WEIGHTS, OPT_JSON, OPT_ARRAYS, RNG}
            members = {}
            for info in infos:
                if info.filename in known:
                    _check_member(info, size, path)
                    try:
                        members[info.filename] = archive.read(info)
                    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                        raise CorruptFileError(
                            f"{path}: member {info.filename} is damaged ({e})"
                        ) from e
    missing = [name for name in (CONFIG, WEIGHTS, RNG) if name not in members]
    if missing:
        raise CorruptFileError(
            f"{path}: not a complete nnlab model file: missing member(s) {missing} "
            f"(found {sorted(names)})"
        )
    return members


def _check_member(info: zipfile.ZipInfo, file_size: int, path: str) -> None:
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED:
        raise CorruptFileError(
            f"{path}: member {name} is compressed (method {info.compress_type}); nnlab model "
            "files store members uncompressed"
        )
    limit = MAX_JSON_BYTES if name.endswith(".json") else file_size
    if info.file_size > min(limit, file_size) or info.compress_size != info.file_size:
        raise CorruptFileError(
            f"{path}: member {name} declares {info.file_size} bytes ({info.compress_size} "
            f"stored), impossible in a file of {file_size} bytes"
            + (f" or over the {limit}-byte limit" if limit < file_size else "")
        )
    if info.header_offset + info.compress_size > file_size:
        raise CorruptFileError(
            f"{path}: member {name} runs past the end of the file (truncated archive)"
        )


def _foreign_file_message(path: str, head: bytes, size: int) -> str:
    if size == 0:
        return f"{path}: empty file, not an nnlab model file"
    hint = ""
    if head[:1] == b"\x80" or re.match(rb"c[\w.]+\n", head):  # pickle protocol 2+ or 0
        hint = " It looks like a pickle; nnlab never loads pickle."
    elif len(head) >= 9 and head[8:9] == b"{":
        hint = " It looks like a weights-only safetensors file: use nnlab.io.load_weights."
    return (
        f"{path}: not an nnlab model file (bad magic {head[:4]!r}, expected a zip archive "
        f"starting {ZIP_MAGIC!r}); pickle is never loaded.{hint}"
    )


def parse_json(members: dict, name: str, path: str):
    """The JSON object in member ``name``; CorruptFileError if missing, invalid or not an
    object."""
    if name not in members:
        raise CorruptFileError(f"{path}: missing member {name}")
    try:
        value = json.loads(members[name].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CorruptFileError(f"{path}: {name} is not valid JSON ({e})") from e
    if not isinstance(value, dict):
        raise CorruptFileError(
            f"{path}: {name} must hold a JSON object, got {type(value).__name__}"
        )
    return value
