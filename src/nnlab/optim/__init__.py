"""Optimizers (PyTorch names and defaults), learning-rate schedules and gradient clipping."""

from nnlab.optim import lr_scheduler
from nnlab.optim.adagrad import Adagrad
from nnlab.optim.adam import Adam, AdamW
from nnlab.optim.clip import (
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    clip_grad_norm_,
    clip_grad_norm_per_param_,
    clip_grad_value_,
    global_norm,
)
from nnlab.optim.nadam import NAdam, Nadam
from nnlab.optim.optimizer import Optimizer
from nnlab.optim.rmsprop import RMSprop
from nnlab.optim.sgd import SGD

# name -> (class, preset arguments); 'momentum' is SGD with momentum 0.9.
_NAMES = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "nadam": (NAdam, {}),
}


def get(spec, params=None, **kwargs) -> Optimizer:
    """Resolve ``spec`` to an Optimizer.

    Args:
        spec: a name (``'sgd'``, ``'momentum'``, ``'rmsprop'``, ``'adagrad'``, ``'adam'``,
            ``'adamw'``, ``'nadam'``; any case), an Optimizer class, or an Optimizer instance
            (returned as it is, bound to ``params`` if it has none yet).
        params: the parameters to optimize; None leaves a new optimizer unbound (see
            ``Optimizer.build``).
        **kwargs: hyperparameters for a new optimizer (``learning_rate`` is accepted for ``lr``).
    """
    if "learning_rate" in kwargs:
        kwargs["lr"] = kwargs.pop("learning_rate")
    if isinstance(spec, Optimizer):
        if kwargs:
            raise TypeError(
                f"got an Optimizer instance and hyperparameters {sorted(kwargs)}; set them when "
                "making the optimizer instead"
            )
        if params is not None and not spec.param_groups:
            spec.build(params)
        return spec
    if isinstance(spec, type) and issubclass(spec, Optimizer):
        return spec(params, **kwargs)
    if isinstance(spec, str):
        key = spec.lower()
        if key not in _NAMES:
            raise ValueError(f"unknown optimizer {spec!r}; known names: {sorted(_NAMES)}")
        cls, preset = _NAMES[key]
        return cls(params, **{**preset, **kwargs})
    raise TypeError(
        f"expected an optimizer name, class or instance, got {type(spec).__name__}; "
        f"known names: {sorted(_NAMES)}"
    )


__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "NAdam",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "clip_grad_norm_",
    "clip_grad_norm_per_param_",
    "clip_grad_value_",
    "get",
    "global_norm",
    "lr_scheduler",
]
