"""The optimizer's part of a model file: its class and config in ``config.json``, its
parameter groups and scalar state in ``optimizer.json``, and its state arrays, keyed
``state.<index>.<name>``, in ``optimizer.safetensors``.

Parameters are stored by their name in the model, so the state reattaches to the rebuilt
model's parameters; only nnlab's own optimizer classes can be named.
"""

import re

import numpy as np

from nnlab import optim
from nnlab.io.archive import OPT_ARRAYS, OPT_JSON, parse_json
from nnlab.io.errors import CorruptFileError
from nnlab.io.json_codec import is_count, json_bytes, plain
from nnlab.io.safetensors_blob import read_safetensors, safetensors_bytes
from nnlab.training.model import Model

OPTIMIZERS = {
    cls.__name__: cls
    for cls in (getattr(optim, name) for name in optim.__all__)
    if isinstance(cls, type) and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer
}
_STATE_KEY = re.compile(r"state\.(\d+)\.([A-Za-z_][A-Za-z0-9_]*)\Z")


# ---- saving ---------------------------------------------------------------------------------


def optimizer_entries(model: Model, notes: list) -> tuple[dict | None, dict]:
    """The optimizer entry of config.json's compile section (None when it cannot be saved,
    with a note saying why), and the optimizer's members."""
    opt, members = model.optimizer, {}
    if OPTIMIZERS.get(type(opt).__name__) is not type(opt):
        notes.append(f"optimizer {type(opt).__name__} is not an nnlab optimizer: not saved")
        return None, members
    state = opt.state_dict()
    names = {id(p): name for name, p in model.named_parameters()}
    params = [p for group in opt.param_groups for p in group["params"]]
    if any(id(p) not in names for p in params):
        notes.append("the optimizer holds parameters that are not the model's: not saved")
        return None, members
    entry = {"class_name": type(opt).__name__, "config": opt.get_config()}
    arrays, scalars = {}, {}
    for index, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, np.ndarray):
                arrays[f"state.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = plain(value)
    members[OPT_JSON] = json_bytes(
        {
            "param_names": [names[id(p)] for p in params],
            "param_groups": [{k: plain(v) for k, v in g.items()} for g in state["param_groups"]],
            "scalars": scalars,
            "skipped_steps": int(opt.skipped_steps),
        }
    )
    members[OPT_ARRAYS] = safetensors_bytes(arrays)
    return entry, members


# ---- loading --------------------------------------------------------------------------------


def optimizer_from_entry(entry):
    """A fresh optimizer from its config.json entry; ValueError for an unknown class."""
    cls = OPTIMIZERS.get(entry.get("class_name"))
    if cls is None:
        raise ValueError(
            f"unknown optimizer class {entry.get('class_name')!r}; known: {sorted(OPTIMIZERS)}"
        )
    return cls.from_config(dict(entry.get("config") or {}))


def restore_optimizer_state(model: Model, optimizer, members: dict, path: str) -> None:
    """Build ``optimizer`` (already compiled into ``model``) over the model's parameters and
    load its saved state from the optimizer members."""
    if OPT_JSON not in members or OPT_ARRAYS not in members:
        raise CorruptFileError(f"{path}: missing member {OPT_JSON} or {OPT_ARRAYS}")
    saved = parse_json(members, OPT_JSON, path)
    arrays = read_safetensors(members[OPT_ARRAYS], f"{path}: {OPT_ARRAYS}")
    try:
        _restore_optimizer(model, optimizer, saved, arrays)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise CorruptFileError(f"{path}: optimizer state does not fit the model: {e}") from e


def _restore_optimizer(model: Model, optimizer, saved: dict, arrays: dict) -> None:
    names, groups = saved.get("param_names"), saved.get("param_groups")
    if not isinstance(names, list) or not isinstance(groups, list):
        raise ValueError("param_names and param_groups must be lists")
    if not groups:
        return  # saved before the optimizer was built: fit() builds it
    params = dict(model.named_parameters())
    order = [i for group in groups for i in _group_indices(group)]
    if order != list(range(len(names))):
        raise ValueError(f"parameter groups number parameters {order}, expected 0..{len(names)}")
    unknown = [n for n in names if n not in params]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"unknown or repeated parameter names {unknown or names}")
    allowed = set(optimizer.defaults) | {"params", "initial_lr"}
    for group in groups:
        extra = set(group) - allowed
        if extra:
            raise ValueError(f"unknown parameter-group settings {sorted(extra)}")
    optimizer.build([{"params": [params[names[i]] for i in group["params"]]} for group in groups])
    state: dict[int, dict] = {}
    for key, array in arrays.items():
        match = _STATE_KEY.match(key)
        if match is None:
            raise ValueError(f"unexpected optimizer array {key!r}")
        state.setdefault(int(match[1]), {})[match[2]] = array
    scalars = saved.get("scalars") or {}
    for key, entries in scalars.items():
        if not (isinstance(entries, dict) and all(_is_number(v) for v in entries.values())):
            raise ValueError(f"scalar state of parameter {key} must map names to numbers")
        state.setdefault(int(key), {}).update(entries)
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    optimizer.skipped_steps = int(saved.get("skipped_steps", 0))


def _group_indices(group) -> list:
    indices = group.get("params") if isinstance(group, dict) else None
    if not (isinstance(indices, list) and all(is_count(i) for i in indices)):
        raise ValueError(f"parameter group {group!r} has no list of parameter indices")
    return indices


def _is_number(value) -> bool:
    return type(value) in (int, float, bool)
