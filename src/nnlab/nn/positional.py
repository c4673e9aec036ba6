"""Positional encodings: attention is blind to order, so each position gets a vector added
to its embedding — a fixed sinusoid (Vaswani et al., 2017) or a learned table."""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.nn import init
from nnlab.nn.module import Module, Parameter, register


def sinusoidal_table(max_len: int, d_model: int, dtype=np.float32) -> np.ndarray:
    """(max_len, d_model) table: PE[pos, 2i] = sin(pos / 10000^(2i / d_model)),
    PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)).

    Each pair of columns is a rotation at its own frequency, so PE[pos + k] is a linear
    function of PE[pos]: relative offsets are easy for attention to read.
    """
    positions = np.arange(max_len, dtype=np.float64)[:, None]
    rates = np.exp(-np.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    angles = positions * rates
    table = np.empty((max_len, d_model))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table.astype(dtype)


class _PositionalEncoding(Module):
    def _check(self, x) -> tuple:
        shape = np.shape(x)
        if len(shape) != 3 or shape[-1] != self.d_model or shape[1] > self.max_len:
            raise ValueError(
                f"{type(self).__name__}(d_model={self.d_model}, max_len={self.max_len}) "
                f"expects (N, T, {self.d_model}) with T <= {self.max_len}, got {shape}"
            )
        return shape


@register
class SinusoidalPositionalEncoding(_PositionalEncoding):
    """x + PE[:T] (see ``sinusoidal_table``), then dropout. Nothing is learned or saved.

    Args:
        d_model: embedding size. max_len: the longest sequence (default 5000).
        dropout: dropout on the sum during training (default 0).
        rng: Generator or seed for the dropout masks.

    Shape: (N, T, d_model) -> (N, T, d_model).
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, *, rng=None):
        super().__init__()
        self.d_model, self.max_len, self.p = int(d_model), int(max_len), float(dropout)
        self.rng = backend.layer_generator(rng)
        self.table = sinusoidal_table(self.max_len, self.d_model)  # derived: not a buffer

    def forward(self, x):
        length = self._check(x)[1]
        table = self.table[:length].astype(np.asarray(getattr(x, "data", x)).dtype, copy=False)
        return F.dropout(F.add(x, table), self.p, training=self.training, rng=self.rng)

    def get_config(self) -> dict:
        return {"d_model": self.d_model, "max_len": self.max_len, "dropout": self.p}


@register
class LearnedPositionalEmbedding(_PositionalEncoding):
    """x + weight[:T] with a trained (max_len, d_model) table (BERT, GPT).

    Args:
        max_len: the longest sequence. d_model: embedding size.
        rng: Generator or seed for the initial table. dtype: its dtype.

    Initialization: N(0, 0.02^2), small next to unit-scale token embeddings.

    Shape: (N, T, d_model) -> (N, T, d_model).
    """

    def __init__(self, max_len, d_model, *, rng=None, dtype=None):
        super().__init__()
        self.max_len, self.d_model = int(max_len), int(d_model)
        self._rng = rng
        dtype = np.dtype(dtype or backend.default_dtype())
        self.weight = Parameter(np.empty((self.max_len, self.d_model), dtype))
        self.reset_parameters()

    def reset_parameters(self, rng=None) -> None:
        gen = backend.get_generator(rng if rng is not None else self._rng)
        self.weight.data = init.random_normal(self.weight.shape, gen, self.weight.dtype, 0.0, 0.02)

    def forward(self, x):
        length = self._check(x)[1]
        return F.add(x, self.weight[:length])

    def get_config(self) -> dict:
        return {"max_len": self.max_len, "d_model": self.d_model, "dtype": self.weight.dtype.name}
