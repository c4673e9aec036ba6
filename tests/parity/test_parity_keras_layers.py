"""Keras-style layers against PyTorch modules with the same weights."""

import numpy as np
import pytest

from nnlab import Tensor, layers

from oracles import torch_module


def _compare(ours, theirs, x, params, dtype, rtol):
    torch = torch_module()
    tx = torch.tensor(x, requires_grad=True)
    nx = Tensor(x, requires_grad=True)
    out_t, out_n = theirs(tx), ours(nx)
    np.testing.assert_allclose(out_n.data, out_t.detach().numpy(), rtol=rtol, atol=rtol)
    g = np.random.default_rng(1).normal(size=out_n.shape).astype(dtype)
    out_t.backward(torch.tensor(g))
    out_n.backward(g)
    np.testing.assert_allclose(nx.grad, tx.grad.numpy(), rtol=rtol, atol=rtol)
    for mine, name in params:
        their = dict(theirs.named_parameters())[name]
        np.testing.assert_allclose(mine.grad, their.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_dense_equals_linear(dtype, rtol):
    torch = torch_module()
    theirs = torch.nn.Linear(6, 4).to(getattr(torch, np.dtype(dtype).name))
    ours = layers.Dense(4, input_dim=6, dtype=dtype)
    ours.weight.data[...] = theirs.weight.detach().numpy()
    ours.bias.data[...] = theirs.bias.detach().numpy()
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(dtype)
    _compare(ours, theirs, x, [(ours.weight, "weight"), (ours.bias, "bias")], dtype, rtol)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_batch_normalization_momentum_is_keras_convention(dtype, rtol):
    torch = torch_module()
    theirs = torch.nn.BatchNorm1d(3, momentum=0.01, eps=1e-3).to(
        getattr(torch, np.dtype(dtype).name)
    )
    ours = layers.BatchNormalization(momentum=0.99, epsilon=1e-3, dtype=dtype).ensure_built((8, 3))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(8, 3)).astype(dtype)
        _compare(ours, theirs, x, [(ours.gamma, "weight"), (ours.beta, "bias")], dtype, rtol)
        ours.zero_grad()
        theirs.zero_grad()
    np.testing.assert_allclose(ours.moving_mean, theirs.running_mean.numpy(), rtol=rtol)
    np.testing.assert_allclose(ours.moving_variance, theirs.running_var.numpy(), rtol=rtol)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=(4, 3)).astype(dtype)
    _compare(ours, theirs, x, [(ours.gamma, "weight"), (ours.beta, "bias")], dtype, rtol)


def test_batch_normalization_on_last_axis_of_sequences():
    torch = torch_module()
    theirs = torch.nn.BatchNorm1d(3, momentum=0.01, eps=1e-3).double()
    ours = layers.BatchNormalization(axis=-1, dtype="float64")
    x = np.random.default_rng(0).normal(size=(4, 5, 3))
    expected = theirs(torch.tensor(x).transpose(1, 2)).transpose(1, 2).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_layer_normalization_equals_layernorm(dtype, rtol):
    torch = torch_module()
    theirs = torch.nn.LayerNorm(6, eps=1e-3).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours = layers.LayerNormalization(dtype=dtype)
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype(dtype)
    ours.ensure_built(x.shape)
    ours.gamma.data[...] = theirs.weight.detach().numpy()
    ours.beta.data[...] = theirs.bias.detach().numpy()
    _compare(ours, theirs, x, [(ours.gamma, "weight"), (ours.beta, "bias")], dtype, rtol)
