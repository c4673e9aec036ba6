"""Saving and loading: a whole model in one file, or its weights alone.

A model file is a zip archive (members stored uncompressed) holding:

- ``config.json``: format and version, the model's registered class and ``get_config()``,
  the shape and dtype of the input it was built from, and the compile settings (optimizer
  class and config, loss, metrics);
- ``model.safetensors``: ``model.state_dict()``;
- ``optimizer.json`` and ``optimizer.safetensors``: the optimizer's parameter groups and
  scalar state, and its state arrays keyed ``state.<index>.<name>``;
- ``rng.json``: the state of every ``numpy.random.Generator`` of the model (shuffling, dropout),
  and which attributes shared one Generator, so a loaded model resumes bit for bit.

Loading never executes anything from a file: there is no pickle, class names resolve only
through nnlab's closed registries (never an import path), and every size, header and offset
is checked against the bytes actually present before anything is allocated. Writes are
atomic: a temp file in the same directory, flushed, fsynced, then ``os.replace``d.

The package, each module importing only those above it in this list:

- ``errors``: ``CorruptFileError``;
- ``json_codec``: JSON members written from plain Python, read back strictly;
- ``atomic``: atomic writes (temp file, fsync, ``os.replace``);
- ``safetensors_blob``: safetensors written, and read only after checking header and offsets;
- ``archive``: the zip archive and its members, read with every declared size checked;
- ``optimizer_state``: the optimizer's parameter groups and state;
- ``compile_info``: loss, metrics and optimizer of ``compile``;
- ``random_state``: the model's Generators;
- ``model_file``: ``save_model`` / ``load_model``;
- ``weights``: ``save_weights`` / ``load_weights``.
"""

from nnlab.io.archive import CONFIG as CONFIG
from nnlab.io.archive import MAX_JSON_BYTES as MAX_JSON_BYTES
from nnlab.io.archive import MAX_MEMBERS as MAX_MEMBERS
from nnlab.io.archive import OPT_ARRAYS as OPT_ARRAYS
from nnlab.io.archive import OPT_JSON as OPT_JSON
from nnlab.io.archive import RNG as RNG
from nnlab.io.archive import WEIGHTS as WEIGHTS
from nnlab.io.errors import CorruptFileError
from nnlab.io.model_file import FORMAT as FORMAT
from nnlab.io.model_file import FORMAT_VERSION as FORMAT_VERSION
from nnlab.io.model_file import MAX_BUILD_ELEMENTS as MAX_BUILD_ELEMENTS
from nnlab.io.model_file import load_model, save_model
from nnlab.io.safetensors_blob import MAX_SAFETENSORS_HEADER as MAX_SAFETENSORS_HEADER
from nnlab.io.weights import load_weights, save_weights

__all__ = ["CorruptFileError", "load_model", "load_weights", "save_model", "save_weights"]
