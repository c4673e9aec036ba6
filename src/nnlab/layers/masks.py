"""The mask a tensor carries, Keras-style: which time steps of a padded batch are real.

A mask is a bool array (N, T), True at real time steps. Keras attaches it to the tensor a
layer returns; here ``set_mask`` records it for that Tensor (weakly: it goes with the tensor)
and ``get_mask`` finds it. ``Masking`` and ``Embedding(mask_zero=True)`` make masks; layers
that keep the time axis as it is (``Layer.passes_mask``: Dense, Dropout, Activation, the
normalizations) hand their input's mask on to their output; the recurrent layers look it up
when no ``mask=`` is passed, skip the masked steps and pass it on with their output sequence.
"""

import weakref

import numpy as np

from nnlab.autograd.tensor import Tensor

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
