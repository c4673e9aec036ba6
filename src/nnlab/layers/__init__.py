"""Keras-style layers: input sizes inferred on first call, Keras argument names, thin
wrappers over the same ops as ``nnlab.nn``."""

from nnlab.layers.activations import ELU, LeakyReLU, ReLU, Softmax
from nnlab.layers.attention import MultiHeadAttention
from nnlab.layers.base import Layer
from nnlab.layers.conv import Conv1D, Conv2D, DepthwiseConv2D
from nnlab.layers.conv_transpose import Conv2DTranspose
from nnlab.layers.core import Activation, Dense, Dropout, Flatten, RepeatVector, Reshape
from nnlab.layers.embedding import Embedding
from nnlab.layers.keras_weights import import_keras_weights, keras_to_torch, torch_to_keras
from nnlab.layers.masking import Masking
from nnlab.layers.noise import GaussianNoise
from nnlab.layers.normalization import BatchNormalization, LayerNormalization
from nnlab.layers.pooling import (
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    SpatialDropout2D,
    UpSampling2D,
    ZeroPadding2D,
)
from nnlab.layers.recurrent import GRU, LSTM, RecurrentLayer, SimpleRNN
from nnlab.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "Activation",
    "AveragePooling2D",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GRU",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "LSTM",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Masking",
    "MaxPooling1D",
    "MaxPooling2D",
    "MultiHeadAttention",
    "ReLU",
    "RecurrentLayer",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "Softmax",
    "SpatialDropout2D",
    "TimeDistributed",
    "UpSampling2D",
    "ZeroPadding2D",
    "import_keras_weights",
    "keras_to_torch",
    "torch_to_keras",
]
