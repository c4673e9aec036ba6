"""The random streams of a model file (``rng.json``): the state of every
``numpy.random.Generator`` of the model (shuffling, dropout), and which attributes shared one
Generator, so a loaded model resumes bit for bit.
"""

import re

import numpy as np

from nnlab.io.archive import RNG
from nnlab.io.errors import CorruptFileError
from nnlab.io.json_codec import is_count, plain
from nnlab.training.model import Model

_BIT_GENERATORS = {
    cls.__name__: cls
    for cls in (np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox,
                np.random.SFC64)
}  # fmt: skip
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def rng_entries(model: Model) -> dict:
    """Every Generator attribute of the model and its modules, grouped by identity."""
    groups: dict[int, dict] = {}
    for module_path, module in model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, np.random.Generator):
                path = f"{module_path}.{attr}" if module_path else attr
                group = groups.setdefault(id(value), {"paths": [], "generator": value})
                if path not in group["paths"]:
                    group["paths"].append(path)
    entries = []
    for group in groups.values():
        bit_generator = group["generator"].bit_generator
        seed_seq = getattr(bit_generator, "seed_seq", None)
        entries.append(
            {
                "paths": group["paths"],
                "state": plain(bit_generator.state),
                "seed_seq": plain(seed_seq.state)
                if isinstance(seed_seq, np.random.SeedSequence)
                else None,
            }
        )
    return {"generators": entries}


def restore_generators(model: Model, saved: dict, path: str) -> None:
    """One new Generator per saved group, with the saved state, set on every attribute that
    shared it; attributes must exist and hold a Generator already, or be an ``...rng``
    attribute holding None (an initializer stream that a module rebuilt from its config does
    not get, such as Linear's ``_rng``)."""
    groups = saved.get("generators")
    if not isinstance(groups, list):
        raise CorruptFileError(f"{path}: {RNG} has no list of generators")
    modules = dict(model.named_modules())
    plan = []
    for k, group in enumerate(groups):
        where = f"{path}: {RNG} generator {k}"
        paths = group.get("paths") if isinstance(group, dict) else None
        if not (isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths)):
            raise CorruptFileError(f"{where}: needs a non-empty list of attribute paths")
        targets = [_generator_owner(modules, p, where) for p in paths]
        try:
            generator = _make_generator(group.get("state"), group.get("seed_seq"))
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            raise CorruptFileError(f"{where}: invalid generator state ({e})") from e
        plan += [(owner, attr, generator) for owner, attr in targets]
    for owner, attr, generator in plan:
        setattr(owner, attr, generator)


def _generator_owner(modules: dict, path: str, where: str):
    module_path, _, attr = path.rpartition(".")
    owner = modules.get(module_path)
    if owner is None or not _IDENTIFIER.match(attr):
        raise CorruptFileError(f"{where}: the model has no module for path {path!r}")
    current = vars(owner).get(attr, False)
    unset_stream = current is None and attr.endswith("rng")
    if not (unset_stream or isinstance(current, np.random.Generator)):
        raise CorruptFileError(f"{where}: {path!r} is not a Generator attribute of the model")
    return owner, attr


def _make_generator(state, seed_seq) -> np.random.Generator:
    if not isinstance(state, dict) or state.get("bit_generator") not in _BIT_GENERATORS:
        raise ValueError(f"bit_generator must be one of {sorted(_BIT_GENERATORS)}")
    seed = np.random.SeedSequence(0)
    if seed_seq is not None:
        entropy, spawn_key = seed_seq.get("entropy"), seed_seq.get("spawn_key", [])
        pool_size = seed_seq.get("pool_size", 4)
        entropy_list = entropy if isinstance(entropy, list) else [entropy]
        if not (
            all(is_count(e) for e in entropy_list + list(spawn_key))
            and len(entropy_list) + len(spawn_key) <= 1024
            and type(pool_size) is int
            and 4 <= pool_size <= 1024
        ):
            raise ValueError(f"invalid seed sequence {seed_seq!r}")
        seed = np.random.SeedSequence(
            entropy,
            spawn_key=tuple(spawn_key),
            pool_size=pool_size,
            n_children_spawned=int(seed_seq.get("n_children_spawned", 0)),
        )
    bit_generator = _BIT_GENERATORS[state["bit_generator"]](seed)
    bit_generator.state = state
    return np.random.Generator(bit_generator)
