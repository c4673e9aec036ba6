"""Layer: the Keras-style base class. A layer builds its parameters on its first call, when
the input's shape is known, and keeps Keras's names (``dense``, ``dense_1``, ...)."""

import itertools
import re
from collections import defaultdict

import numpy as np

from nnlab import backend
from nnlab.autograd.tensor import Tensor
from nnlab.layers.masks import get_mask, set_mask
from nnlab.nn import init
from nnlab.nn.module import Module

_name_counters: dict = defaultdict(itertools.count)


def _snake_case(name: str) -> str:
    """Keras's rule: ``MaxPooling2D`` -> ``max_pooling2d``, ``Dense`` -> ``dense``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(cls_name: str) -> str:
    """Keras-style automatic layer name: ``dense``, then ``dense_1``, ``dense_2``, ..."""
    base = _snake_case(cls_name)
    n = next(_name_counters[base])
    return base if n == 0 else f"{base}_{n}"


class Layer(Module):
    """Base of the Keras-style layers.

    Subclasses implement ``build(input_shape)`` (create parameters) and ``call(x)``.
    Calling the layer converts arrays to Tensors, casts floats to the layer's dtype and
    builds it on first use.

    Args:
        name: the layer's name (default: the snake-case class name, numbered).
        dtype: parameter dtype (default: the library default, float32).
        rng: Generator or seed for initialisation and dropout (default: the library's).

    ``passes_mask``: True for layers that keep every time step where it is (Keras's
    ``supports_masking``): the mask of their input (see ``nnlab.layers.masks``) goes on with
    their output, so ``Embedding(mask_zero=True) -> Dropout -> LSTM`` skips the padding.
    """

    passes_mask = False

    def __init__(self, name=None, dtype=None, rng=None):
        super().__init__()
        self.name = name or unique_name(type(self).__name__)
        self.dtype = np.dtype(dtype) if dtype is not None else backend.default_dtype()
        self.rng = backend.get_generator(rng)
        self.built = False
        self._activity_losses = []

    def build(self, input_shape: tuple) -> None:
        """Create the parameters for inputs of ``input_shape`` (batch axis included)."""

    def call(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define call()")

    def forward(self, x):
        mask = get_mask(x)
        x = self._as_input(x)
        if mask is not None:
            set_mask(x, mask)  # a cast input keeps its mask, for ``call`` to read
        self.ensure_built(tuple(x.shape))
        out = self.call(x)
        if self.passes_mask and mask is not None and isinstance(out, Tensor):
            if out.shape[:2] == mask.shape:
                set_mask(out, mask)
        return out

    def ensure_built(self, input_shape: tuple) -> "Layer":
        """Build the layer for ``input_shape`` unless it is built already."""
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True
        return self

    def _as_input(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x))
        if x.dtype.kind == "f" and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def make_weight(self, shape, initializer) -> np.ndarray:
        """An initialised array of ``shape`` in the layer's dtype, drawn from its Generator."""
        return init.get(initializer)(tuple(shape), rng=self.rng, dtype=self.dtype)

    def own_losses(self) -> list:
        return list(self._activity_losses)

    def base_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
