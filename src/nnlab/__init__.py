"""nnlab: neural networks from first principles on NumPy.

Two front doors over one engine: ``nnlab.nn`` (PyTorch-style modules) and ``nnlab.layers``
(Keras-style layers), trained with ``nnlab.optim`` by hand or with the Keras-style
``Sequential``/``Model`` (compile, fit, evaluate, predict).

``import nnlab`` loads the engine (autograd, functional, nn); the Keras-style API, the
optimizers, losses and metrics load on first use of their names (``nnlab.layers``,
``nnlab.Sequential``, ...), which keeps the import at ~0.15 s instead of ~0.23 s.
"""

import importlib
from typing import TYPE_CHECKING

from nnlab import functional, nn
from nnlab.autograd import Tensor, gradcheck, no_grad
from nnlab.backend import default_dtype, get_generator, manual_seed, set_default_dtype

if TYPE_CHECKING:  # the names loaded on first use, for editors and type checkers
    from nnlab import layers, losses, metrics, optim, regularizers
    from nnlab.training import Model, Sequential, callbacks

__version__ = "0.1.0"

# name -> (module, attribute of it or None for the module itself)
_ON_FIRST_USE = {
    "layers": ("nnlab.layers", None),
    "losses": ("nnlab.losses", None),
    "metrics": ("nnlab.metrics", None),
    "optim": ("nnlab.optim", None),
    "regularizers": ("nnlab.regularizers", None),
    "callbacks": ("nnlab.training.callbacks", None),
    "Model": ("nnlab.training", "Model"),
    "Sequential": ("nnlab.training", "Sequential"),
}


def __getattr__(name: str):
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module 'nnlab' has no attribute {name!r}")
    module_name, attribute = _ON_FIRST_USE[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_ON_FIRST_USE))


def load(path, compile=True):  # noqa: A002 - Keras's argument name
    """Load a model saved by ``Model.save`` (see ``nnlab.io.load_model``). Loading never
    executes code from the file: only nnlab's registered classes can be named in it."""
    from nnlab.io import load_model  # nnlab.io needs the whole package: imported on use

    return load_model(path, compile=compile)


__all__ = [
    "Model",
    "Sequential",
    "Tensor",
    "callbacks",
    "default_dtype",
    "functional",
    "get_generator",
    "gradcheck",
    "layers",
    "load",
    "losses",
    "manual_seed",
    "metrics",
    "nn",
    "no_grad",
    "optim",
    "regularizers",
    "set_default_dtype",
]
