"""Weights alone: ``module.state_dict()`` in one ``.safetensors`` file, for any Module."""

import os

from nnlab.io.archive import ZIP_MAGIC
from nnlab.io.atomic import atomic_write
from nnlab.io.errors import CorruptFileError
from nnlab.io.safetensors_blob import read_safetensors, safetensors_bytes
from nnlab.nn.module import Module


def save_weights(module: Module, path) -> None:
    """Write ``module.state_dict()`` to one ``.safetensors`` file, atomically."""
    data = safetensors_bytes(module.state_dict(), {"format": "np", "nnlab": "weights"})
    atomic_write(path, lambda f: f.write(data))


def load_weights(module: Module, path) -> None:
    """Load a ``.safetensors`` file written by ``save_weights`` into ``module``; names and
    shapes must match (each mismatch is reported by name) and nothing changes otherwise."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == ZIP_MAGIC:
        raise CorruptFileError(
            f"{path}: this is a whole-model file (zip archive), not a weights file; use "
            "nnlab.io.load_model(path)"
        )
    arrays = read_safetensors(data, path)
    try:
        module.load_state_dict(arrays)
    except ValueError as e:
        hint = ""
        if getattr(module, "built", True) is False:
            hint = " (the model is not built yet: call model.build(input_shape) first)"
        raise ValueError(f"{path}: weights do not fit {type(module).__name__}{hint}: {e}") from e
