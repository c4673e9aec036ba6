"""JSON as nnlab files hold it: written from plain Python values, read back strictly.

Reading is strict because the bytes come from a file we do not trust: a repeated key is an
error rather than last-one-wins, and a count must be a real ``int`` (not a bool or a float).
"""

import json

import numpy as np


def plain(value):
    """``value`` as JSON-ready Python: NumPy scalars and arrays to numbers and lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"cannot save {type(value).__name__} value {value!r} in JSON")


def json_bytes(obj) -> bytes:
    return json.dumps(obj, indent=1, sort_keys=False).encode("utf-8")


def no_duplicates(pairs):
    """``object_pairs_hook`` for ``json.loads``: reject an object that repeats a key."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def is_count(value) -> bool:
    """A non-negative ``int`` read from JSON (a bool or a float is not one)."""
    return type(value) is int and value >= 0
