"""Embedding: a lookup table of learned vectors, as ``torch.nn.Embedding``."""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.nn import init
from nnlab.nn.module import Module, Parameter, register


@register
class Embedding(Module):
    """Map integer indices to rows of a learned (num_embeddings, embedding_dim) table.

    Args:
        num_embeddings: size of the vocabulary (rows of the table).
        embedding_dim: length of each vector.
        padding_idx: a row (negative counts from the end) that is initialised to zeros and
            never receives a gradient, e.g. for a padding token.
        rng: Generator or int seed for the initial table (default: the library's).
        dtype: table dtype (default: the library's default float dtype).

    Initialization: N(0, 1), as PyTorch, with the padding row zeroed.

    Shape:
        indices (*) integers in [0, num_embeddings) -> output (*, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, rng=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"padding_idx must be within [-{self.num_embeddings}, "
                    f"{self.num_embeddings - 1}] for num_embeddings={self.num_embeddings}, "
                    f"got {padding_idx}"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        self._rng = rng
        dtype = np.dtype(dtype or backend.default_dtype())
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype))
        self.reset_parameters()

    def reset_parameters(self, rng=None) -> None:
        """Table ~ N(0, 1); the padding row zeros."""
        gen = backend.get_generator(rng if rng is not None else self._rng)
        table = init.random_normal(self.weight.shape, gen, self.weight.dtype, 0.0, 1.0)
        if self.padding_idx is not None:
            table[self.padding_idx] = 0
        self.weight.data = table

    def forward(self, indices):
        try:
            return F.embedding(indices, self.weight, self.padding_idx)
        except IndexError as error:
            raise IndexError(f"{self._name()}: {error}") from None

    def _name(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def get_config(self) -> dict:
        return {
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "padding_idx": self.padding_idx,
            "dtype": self.weight.dtype.name,
        }

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
