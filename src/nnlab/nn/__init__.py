"""PyTorch-style layers: Module, Parameter and the layer classes (same argument and parameter
names as ``torch.nn``, so state dicts load across)."""

from nnlab.nn import init
from nnlab.nn.activation import (
    ELU,
    GELU,
    SELU,
    Identity,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from nnlab.nn.container import ModuleList, Sequential
from nnlab.nn.dropout import Dropout
from nnlab.nn.embedding import Embedding
from nnlab.nn.flatten import Flatten
from nnlab.nn.linear import Linear
from nnlab.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
)
from nnlab.nn.module import Module, Parameter
from nnlab.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "SELU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "init",
]
