"""The compile section of a model file: loss, metrics and optimizer, saved as configs and
rebuilt through nnlab's closed registries (never an import path).

A part that a config cannot describe (a custom loss function or metric, an optimizer class
nnlab does not know) is left out with a note; the file still loads.
"""

from nnlab import losses, metrics
from nnlab.io.archive import CONFIG
from nnlab.io.errors import CorruptFileError
from nnlab.io.optimizer_state import (
    optimizer_entries,
    optimizer_from_entry,
    restore_optimizer_state,
)
from nnlab.nn.module import Module, class_key, registered
from nnlab.training.model import Model

_METRICS = {
    cls.__name__: cls
    for cls in (getattr(metrics, name) for name in metrics.__all__)
    if isinstance(cls, type)
    and issubclass(cls, metrics.Metric)
    and cls not in (metrics.Metric, metrics.MeanMetricWrapper)
}


# ---- saving ---------------------------------------------------------------------------------


def compile_entries(model: Model, notes: list) -> tuple[dict, dict]:
    """The compile section of config.json, and the optimizer's members."""
    entry = {"optimizer": None, "loss": _loss_entry(model.loss, notes), "metrics": []}
    for metric in model.compiled_metrics:
        saved = {"class_name": type(metric).__name__, "config": metric.get_config()}
        if _metric_round_trips(metric, saved, model.loss):
            entry["metrics"].append(saved)
        else:
            notes.append(f"metric {metric.name!r} cannot be described by a config: not saved")
    if model.optimizer is None:
        return entry, {}
    entry["optimizer"], members = optimizer_entries(model, notes)
    return entry, members


def _loss_entry(loss, notes: list):
    if loss is None:
        return None
    module = getattr(loss, "module", None)  # a PyTorch-style loss module, adapted by compile
    if isinstance(module, Module):
        entry = {"kind": "module", "class_name": class_key(type(module))}
        try:
            entry["config"] = module.get_config()
            ok = type(_loss_from_entry(entry)) is type(module)
        except (ValueError, TypeError, NotImplementedError):
            ok = False
    elif isinstance(loss, losses.Loss):
        entry = {"kind": "loss", **losses.serialize(loss)}
        try:
            rebuilt = _loss_from_entry(entry)
            ok = type(rebuilt) is type(loss) and getattr(rebuilt, "fn", None) is getattr(
                loss, "fn", None
            )
        except (ValueError, TypeError):
            ok = False
    else:
        ok = False
    if not ok:
        notes.append(
            f"loss {getattr(loss, 'name', loss)!r} cannot be described by a config: not saved; "
            "after loading, call model.compile(optimizer=model.optimizer, loss=...) again"
        )
        return None
    return entry


def _metric_round_trips(metric, saved: dict, loss) -> bool:
    try:
        rebuilt = _metric_from_entry(saved, loss)
    except (ValueError, TypeError, KeyError):
        return False
    return (
        type(rebuilt) is type(metric)
        and getattr(rebuilt, "fn", None) is getattr(metric, "fn", None)
        and rebuilt.get_config() == saved["config"]
    )


# ---- loading --------------------------------------------------------------------------------


def restore_compile(model: Model, entry, members: dict, path: str) -> None:
    """Compile ``model`` as saved in the compile section ``entry``, and restore its
    optimizer's state."""
    where = f"{path}: {CONFIG} compile"
    if not isinstance(entry, dict):
        raise CorruptFileError(f"{where} must be an object")
    try:
        loss = None if entry.get("loss") is None else _loss_from_entry(entry["loss"])
        metric_list = [_metric_from_entry(m, loss) for m in entry.get("metrics") or []]
        opt_entry = entry.get("optimizer")
        optimizer = None if opt_entry is None else optimizer_from_entry(opt_entry)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise CorruptFileError(f"{where}: {e}") from e
    model.compile(optimizer=optimizer or "rmsprop", loss=loss, metrics=metric_list)
    if optimizer is None:  # none was saved: leave it unset rather than silently pick one
        model.optimizer = None
        return
    restore_optimizer_state(model, optimizer, members, path)


def _loss_from_entry(entry):
    if not isinstance(entry, dict):
        raise ValueError(f"loss entry must be an object, got {entry!r}")
    if entry.get("kind") == "module":
        cls = registered(entry.get("class_name"))
        if cls.__module__ != "nnlab.nn.loss":
            raise ValueError(f"{entry.get('class_name')!r} is not a loss module")
        return cls.from_config(dict(entry.get("config") or {}))
    if entry.get("kind") == "loss":
        return losses.deserialize({k: v for k, v in entry.items() if k != "kind"})
    raise ValueError(f"unknown loss kind {entry.get('kind')!r}")


def _metric_from_entry(entry, loss):
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"metric entry must be {{'class_name', 'config'}}, got {entry!r}")
    name, config = entry.get("class_name"), entry["config"]
    if name == "MeanMetricWrapper":  # 'accuracy' whose kind is decided per batch
        return metrics.get(config.get("name"), loss=getattr(loss, "name", None))
    cls = _METRICS.get(name)
    if cls is None:
        raise ValueError(f"unknown metric class {name!r}; known: {sorted(_METRICS)}")
    return cls.from_config(dict(config))
