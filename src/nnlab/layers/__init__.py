"""Keras-style layers: input sizes inferred on first call, Keras argument names, thin
wrappers over the same ops as ``nnlab.nn``."""

from nnlab.layers.base import Layer
from nnlab.layers.core import Activation, Dense, Dropout, Flatten, Reshape
from nnlab.layers.embedding import Embedding
from nnlab.layers.normalization import BatchNormalization, LayerNormalization

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Layer",
    "LayerNormalization",
    "Reshape",
]
