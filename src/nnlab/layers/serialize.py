"""Turn a layer's settings (activation, initializer, regularizer) into JSON-safe config values
and back, through closed tables of known classes: nothing named in a config is imported or
executed beyond those."""

from nnlab import regularizers
from nnlab.nn import activation
from nnlab.nn.module import class_key, registered

_REGULARIZERS = {"L1": regularizers.L1, "L2": regularizers.L2, "L1L2": regularizers.L1L2}


def to_config(spec):
    """A JSON-safe form of ``spec``: names and numbers as they are, objects as
    ``{"class_name": ..., "config": ...}``."""
    if spec is None or isinstance(spec, str | int | float | bool):
        return spec
    if hasattr(spec, "get_config"):
        name = (
            type(spec).__name__ if type(spec).__name__ in _REGULARIZERS else class_key(type(spec))
        )
        return {"class_name": name, "config": spec.get_config()}
    raise TypeError(
        f"{spec!r} cannot be saved in a config: pass a name (e.g. 'relu', 'l2') or an nnlab "
        "object with get_config()"
    )


def regularizer_from_config(spec):
    if isinstance(spec, dict):
        cls = _REGULARIZERS.get(spec.get("class_name"))
        if cls is None:
            raise ValueError(
                f"unknown regularizer {spec.get('class_name')!r}; known: {sorted(_REGULARIZERS)}"
            )
        return cls(**spec.get("config", {}))
    return regularizers.get(spec)


def activation_from_config(spec):
    if isinstance(spec, dict):
        return registered(spec["class_name"]).from_config(spec.get("config", {}))
    return activation.get(spec)
