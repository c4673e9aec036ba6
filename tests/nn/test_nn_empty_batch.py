"""A batch of no samples goes through every layer, forward and backward, as in PyTorch: a
data split or a filtered batch can come out empty, and a training loop should not crash on
it. Outputs have PyTorch's shapes; parameters get zero gradients; buffers (running
statistics) end as PyTorch's; nothing warns."""

import warnings

import numpy as np
import pytest

from nnlab import Tensor, nn

from oracles import torch_module

CASES = {
    "Linear": (lambda m: m.Linear(4, 3), (0, 4)),
    "Conv1d": (lambda m: m.Conv1d(3, 4, 3), (0, 3, 8)),
    "Conv2d": (lambda m: m.Conv2d(3, 4, 3), (0, 3, 8, 8)),
    "Conv2d stride 2": (lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1), (0, 3, 8, 8)),
    "Conv2d depthwise": (lambda m: m.Conv2d(4, 4, 3, groups=4), (0, 4, 8, 8)),
    "ConvTranspose2d": (lambda m: m.ConvTranspose2d(3, 4, 3, stride=2), (0, 3, 8, 8)),
    "MaxPool2d": (lambda m: m.MaxPool2d(2), (0, 3, 8, 8)),
    "AvgPool2d": (lambda m: m.AvgPool2d(2), (0, 3, 8, 8)),
    "AdaptiveAvgPool2d": (lambda m: m.AdaptiveAvgPool2d(1), (0, 3, 8, 8)),
    "BatchNorm2d train": (lambda m: m.BatchNorm2d(3), (0, 3, 4, 4)),
    "BatchNorm2d eval": (lambda m: m.BatchNorm2d(3).eval(), (0, 3, 4, 4)),
    "BatchNorm1d eval": (lambda m: m.BatchNorm1d(3).eval(), (0, 3)),
    "LayerNorm": (lambda m: m.LayerNorm(5), (0, 5)),
    "Dropout": (lambda m: m.Dropout(0.5), (0, 5)),
    "Dropout2d": (lambda m: m.Dropout2d(0.5), (0, 3, 4, 4)),
    "Flatten": (lambda m: m.Flatten(), (0, 3, 4, 4)),
    "Softmax": (lambda m: m.Softmax(dim=-1), (0, 5)),
    "RNN": (lambda m: m.RNN(4, 5, batch_first=True), (0, 6, 4)),
    "GRU": (lambda m: m.GRU(4, 5, batch_first=True), (0, 6, 4)),
    "LSTM 2 layers bidirectional": (
        lambda m: m.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True),
        (0, 6, 4),
    ),
    "TransformerEncoderLayer": (
        lambda m: m.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True),
        (0, 5, 8),
    ),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", list(CASES))
def test_empty_batch_forward_and_backward(name):
    torch = torch_module()
    make, shape = CASES[name]
    theirs = make(torch.nn)
    expected = tuple(_first(theirs(torch.zeros(shape))).shape)
    module = make(nn)
    x = Tensor(np.zeros(shape, np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _first(module(x))
        out.sum().backward()
    assert out.shape == expected
    assert x.grad.shape == shape
    for p in module.parameters():
        np.testing.assert_array_equal(p.grad, np.zeros_like(p.data))
    parameters = dict(module.named_parameters())
    for key, value in theirs.state_dict().items():
        if key not in parameters:  # running mean and variance unchanged, the count as PyTorch's
            np.testing.assert_array_equal(module.state_dict()[key], value.numpy())


def test_empty_batch_through_multihead_attention_and_embedding():
    attention = nn.MultiheadAttention(8, 2, batch_first=True)
    q = Tensor(np.zeros((0, 5, 8), np.float32))
    assert attention(q, q, q)[0].shape == (0, 5, 8)
    assert nn.Embedding(10, 4)(np.zeros((0, 3), np.int64)).shape == (0, 3, 4)
