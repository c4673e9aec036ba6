"""nnlab: neural networks from first principles on NumPy.

Two front doors over one engine: ``nnlab.nn`` (PyTorch-style modules) and ``nnlab.layers``
(Keras-style layers), trained with ``nnlab.optim`` by hand or with the Keras-style
``Sequential``/``Model`` (compile, fit, evaluate, predict).
"""

from nnlab import functional, layers, losses, metrics, nn, optim, regularizers
from nnlab.autograd import Tensor, gradcheck, no_grad
from nnlab.backend import default_dtype, get_generator, manual_seed, set_default_dtype
from nnlab.training import Model, Sequential, callbacks

__version__ = "0.1.0"


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
