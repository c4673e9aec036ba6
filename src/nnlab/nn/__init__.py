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
from nnlab.nn.attention import MultiheadAttention
from nnlab.nn.container import ModuleDict, ModuleList, Sequential
from nnlab.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from nnlab.nn.dropout import Dropout, Dropout2d
from nnlab.nn.embedding import Embedding
from nnlab.nn.flatten import Flatten, Unflatten
from nnlab.nn.linear import Linear
from nnlab.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from nnlab.nn.module import Module, Parameter
from nnlab.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from nnlab.nn.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool1d, MaxPool2d, Upsample, ZeroPad2d
from nnlab.nn.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from nnlab.nn.recurrent import GRU, LSTM, RNN, RNNBase, SimpleRNN
from nnlab.nn.rnn_attention import AdditiveAttention, MultiplicativeAttention
from nnlab.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)

__all__ = [
    "AdaptiveAvgPool2d",
    "AdditiveAttention",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "GRU",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LSTM",
    "LayerNorm",
    "LeakyReLU",
    "LearnedPositionalEmbedding",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "NLLLoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "MultiplicativeAttention",
    "Parameter",
    "RNN",
    "RNNBase",
    "ReLU",
    "SELU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SimpleRNN",
    "SinusoidalPositionalEncoding",
    "Softmax",
    "Softplus",
    "Tanh",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Unflatten",
    "Upsample",
    "ZeroPad2d",
    "generate_square_subsequent_mask",
    "init",
]
