"""Keras-style masks for padded sequences: the Masking layer and the mask a tensor carries.

A mask is a bool array (N, T), True at real time steps. Keras attaches it to the tensor a
layer returns; here ``set_mask`` records it for that Tensor (weakly: it goes with the tensor)
and ``get_mask`` finds it, so ``Masking`` -> ``LSTM`` works as in Keras: the recurrent layers
look up their input's mask when no ``mask=`` is passed, skip the masked steps and pass the
mask on with their output sequence.
"""

import weakref

import numpy as np

from nnlab.autograd.tensor import Tensor
from nnlab.layers.base import Layer
from nnlab.nn.module import register

_MASKS: "weakref.WeakKeyDictionary[Tensor, np.ndarray]" = weakref.WeakKeyDictionary()


def set_mask(tensor: Tensor, mask) -> Tensor:
    """Record ``mask`` (N, T) bool, or None to clear it, as the mask of ``tensor``."""
    if mask is None:
        _MASKS.pop(tensor, None)
    else:
        _MASKS[tensor] = np.asarray(mask, dtype=bool)
    return tensor


def get_mask(tensor):
    """The mask recorded for ``tensor``, or None."""
    return _MASKS.get(tensor) if isinstance(tensor, Tensor) else None


def resolve_mask(x, mask, name: str):
    """The (N, T) bool mask a layer should use: ``mask`` if given, else ``x``'s own."""
    if mask is None:
        return get_mask(x)
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.shape != tuple(np.shape(x)[:2]):
        raise ValueError(
            f"{name}: mask must have shape (batch, timesteps) = {tuple(np.shape(x)[:2])}, "
            f"got {mask.shape}"
        )
    return mask.astype(bool)


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
