"""nnlab: neural networks from first principles on NumPy."""

from nnlab.autograd import Tensor, gradcheck, no_grad
from nnlab.backend import default_dtype, get_generator, manual_seed, set_default_dtype

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "default_dtype",
    "get_generator",
    "gradcheck",
    "manual_seed",
    "no_grad",
    "set_default_dtype",
]
