"""A whole model in one file: ``save_model`` and ``load_model``.

``config.json`` holds the format and version, the model's registered class and
``get_config()``, the shape and dtype of the input it was built from, and the compile
settings; the model is rebuilt from it through nnlab's closed class registry, never an
import path. The other members are written and read by the files beside this one.
"""

import math
import os
import warnings

import numpy as np

from nnlab import backend, layers, models, nn
from nnlab.io.archive import CONFIG, RNG, WEIGHTS, parse_json, read_archive, write_zip
from nnlab.io.atomic import atomic_write
from nnlab.io.compile_info import compile_entries, restore_compile
from nnlab.io.errors import CorruptFileError
from nnlab.io.json_codec import is_count, json_bytes
from nnlab.io.random_state import restore_generators, rng_entries
from nnlab.io.safetensors_blob import read_safetensors, safetensors_bytes
from nnlab.nn.module import class_key, registered
from nnlab.training.model import Model

FORMAT = "nnlab.model"
FORMAT_VERSION = 1
MAX_BUILD_ELEMENTS = 2**26  # elements of the one-sample input the model is rebuilt from

_BUILD_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                 "float64")  # fmt: skip

# Configs name classes through the registry, which a class joins when its module is imported:
# these imports make every class nnlab can save known to a fresh process.
_REGISTERING_MODULES = (layers, models, nn)


# ---- saving ---------------------------------------------------------------------------------


def save_model(model: Model, path) -> None:
    """Write ``model`` (config, weights, optimizer and RNG state) to one file, atomically.

    Parts that cannot be described by a config (a custom loss function or metric, an
    optimizer class nnlab does not know) are left out with a warning; the file still loads.

    Args:
        model: a Model whose class is registered (``Sequential`` or ``@register``-ed).
        path: the file to write (``.nnlab`` by convention); replaced only once complete.
    """
    if not isinstance(model, Model):
        raise TypeError(
            f"save_model saves an nnlab Model, got {type(model).__name__}; for any Module use "
            "save_weights(module, path)"
        )
    key = class_key(type(model))
    try:
        known = registered(key) is type(model)
    except ValueError:
        known = False
    if not known:
        raise ValueError(
            f"cannot save {type(model).__name__}: its class is not registered, so the file "
            "could not be loaded; decorate it with nnlab.nn.module.register and give it "
            "get_config(), or save the weights alone with save_weights()"
        )
    notes: list[str] = []
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class_name": key,
        "config": model.get_config(),
        "build_input": _build_input(model),
        "compile": None,
        "notes": notes,
    }
    members = {WEIGHTS: safetensors_bytes(model.state_dict())}
    if model.optimizer is not None or model.loss is not None:
        config["compile"], opt_members = compile_entries(model, notes)
        members.update(opt_members)
    members[RNG] = json_bytes(rng_entries(model))
    members = {CONFIG: json_bytes(config), **members}
    for note in notes:
        warnings.warn(f"save_model({os.fspath(path)!r}): {note}", UserWarning, stacklevel=2)
    atomic_write(path, lambda f: write_zip(f, members))


def _build_input(model: Model):
    sample = getattr(model, "_build_sample", None)
    if not model.built or sample is None:
        return None
    return {"shape": list(sample.shape), "dtype": sample.dtype.name}


# ---- loading --------------------------------------------------------------------------------


def load_model(path, compile: bool = True) -> Model:
    """Rebuild a model saved by ``save_model``: same config, weights, optimizer state and
    random streams, so predictions match bit for bit and training resumes exactly.

    Args:
        path: the file.
        compile: restore the optimizer (with its state), the loss and the metrics.
    Raises:
        CorruptFileError (a ValueError) naming the file and the problem, for anything that
        is not a complete, consistent nnlab model file.
    """
    path = os.fspath(path)
    members = read_archive(path)
    config = parse_json(members, CONFIG, path)
    _check_format(config, path)
    library_rng = backend.get_generator()
    library_state = library_rng.bit_generator.state
    try:
        model = _rebuild(config, path)
    finally:  # building draws initial weights; loading must not move the caller's stream
        library_rng.bit_generator.state = library_state
    weights = read_safetensors(members[WEIGHTS], f"{path}: {WEIGHTS}")
    try:
        model.load_state_dict(weights)
    except ValueError as e:
        raise CorruptFileError(
            f"{path}: {WEIGHTS} does not match the model rebuilt from {CONFIG}: {e}"
        ) from e
    if compile and config.get("compile"):
        restore_compile(model, config["compile"], members, path)
        for note in config.get("notes") or []:
            warnings.warn(f"{path} was saved without part of its state: {note}", stacklevel=2)
    restore_generators(model, parse_json(members, RNG, path), path)
    return model


def _check_format(config: dict, path: str) -> None:
    if config.get("format") != FORMAT:
        raise CorruptFileError(
            f"{path}: {CONFIG} has format {config.get('format')!r}, expected {FORMAT!r}"
        )
    version = config.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        newer = type(version) is int and version > FORMAT_VERSION
        raise CorruptFileError(
            f"{path}: unsupported format version {version!r} (this nnlab reads version "
            f"{FORMAT_VERSION}{'; the file was written by a newer nnlab' if newer else ''})"
        )


def _rebuild(config: dict, path: str) -> Model:
    name = config.get("class_name")
    if not isinstance(name, str):
        raise CorruptFileError(f"{path}: {CONFIG} has no class_name string")
    try:
        cls = registered(name)
    except ValueError as e:
        raise CorruptFileError(f"{path}: {CONFIG}: {e}") from e
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise CorruptFileError(f"{path}: {CONFIG} names {name!r}, which is not a Model class")
    if not isinstance(config.get("config"), dict):
        raise CorruptFileError(f"{path}: {CONFIG} has no model config object")
    build = config.get("build_input")
    sample = None if build is None else _build_sample(build, path)
    try:
        model = cls.from_config(config["config"])
        if sample is not None and not model.built:
            model._build_from(sample)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, MemoryError) as e:
        raise CorruptFileError(
            f"{path}: cannot rebuild {name} from {CONFIG}: {type(e).__name__}: {e}"
        ) from e
    return model


def _build_sample(build, path: str) -> np.ndarray:
    shape = build.get("shape") if isinstance(build, dict) else None
    dtype = build.get("dtype") if isinstance(build, dict) else None
    if not (isinstance(shape, list) and all(is_count(d) for d in shape)) or dtype not in (
        _BUILD_DTYPES
    ):
        raise CorruptFileError(
            f"{path}: {CONFIG} build_input must be {{'shape': [ints], 'dtype': one of "
            f"{list(_BUILD_DTYPES)}}}, got {build!r}"
        )
    if math.prod(shape) > MAX_BUILD_ELEMENTS:
        raise CorruptFileError(
            f"{path}: {CONFIG} build_input shape {shape} has more than {MAX_BUILD_ELEMENTS} "
            "elements"
        )
    return np.zeros(shape, dtype)
