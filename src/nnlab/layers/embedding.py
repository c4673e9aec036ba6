"""Keras-style Embedding: integer ids -> learned vectors."""

import numpy as np

from nnlab import functional as F
from nnlab.autograd.tensor import Tensor
from nnlab.layers.base import Layer
from nnlab.layers.masks import set_mask
from nnlab.layers.serialize import to_config
from nnlab.nn.module import Parameter, register


@register
class Embedding(Layer):
    """Look up rows of an (input_dim, output_dim) table (Keras default init: U(-0.05, 0.05)).

    Args:
        input_dim: vocabulary size; ids must lie in [0, input_dim).
        output_dim: vector size.
        padding_idx: optional id whose vector gets no gradient (PyTorch's option).
        mask_zero: id 0 is padding (Keras): the output carries the mask ``ids != 0`` (see
            ``nnlab.layers.masks``), so the recurrent layers after it skip the padded steps.
            Needs (N, T) ids; real ids then start at 1, so ``input_dim`` = vocabulary + 1.

    Shape:
        (N, *) integer ids -> (N, *, output_dim)
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        padding_idx=None,
        mask_zero=False,
        **base,
    ):
        super().__init__(**base)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer, self.padding_idx = embeddings_initializer, padding_idx
        self.mask_zero = bool(mask_zero)
        table = self.make_weight((self.input_dim, self.output_dim), embeddings_initializer)
        self.embeddings = Parameter(table)
        self.built = True

    def forward(self, ids):
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if ids.dtype.kind not in "iu":
            if not np.all(np.mod(ids, 1) == 0):
                raise TypeError(f"Embedding '{self.name}' needs integer ids, got dtype {ids.dtype}")
            ids = ids.astype(np.int64)
        if self.mask_zero and ids.ndim != 2:
            raise ValueError(
                f"Embedding '{self.name}' with mask_zero=True needs (batch, timesteps) ids, got "
                f"shape {ids.shape}"
            )
        out = F.embedding(ids, self.embeddings, padding_idx=self.padding_idx)
        return set_mask(out, ids != 0) if self.mask_zero else out

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": to_config(self.embeddings_initializer),
            "padding_idx": self.padding_idx,
            "mask_zero": self.mask_zero,
        }
