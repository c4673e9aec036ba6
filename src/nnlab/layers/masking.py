"""The Masking layer: mark the padded time steps of a batch of sequences (see
``nnlab.layers.masks`` for how a mask travels with a tensor)."""

import numpy as np

from nnlab.layers.base import Layer
from nnlab.layers.masks import set_mask
from nnlab.nn.module import register


@register
class Masking(Layer):
    """Mark time steps whose features all equal ``mask_value`` as padding.

    The output is the input times the mask (as Keras), and carries the mask (N, T) for the
    recurrent layers that follow.

    Shape: (N, T, *features) -> same.
    """

    def __init__(self, mask_value=0.0, **base):
        super().__init__(**base)
        self.mask_value = float(mask_value)

    def call(self, x):
        if x.ndim < 3:
            raise ValueError(
                f"Masking '{self.name}' expects (batch, timesteps, features), got shape {x.shape}"
            )
        keep = np.any(x.data != self.mask_value, axis=tuple(range(2, x.ndim)))
        out = x * keep.reshape(keep.shape + (1,) * (x.ndim - 2)).astype(x.dtype)
        return set_mask(out, keep)

    def get_config(self) -> dict:
        return {**self.base_config(), "mask_value": self.mask_value}
