"""Activations against PyTorch: forward and input gradient, float32 and float64, including
the values at +-1000 and the subgradients at exactly 0."""

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor
from nnlab import nn as nnl
from nnlab.nn import activation as act

from oracles import torch_module

# Elementwise rtol as asked for; the small atol covers entries that are (nearly) zero, where
# a relative error means nothing (one float32 ulp at 1.0 is 6e-8).
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
SPECIAL = [-1000.0, -100.0, -30.0, -20.5, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 20.0, 20.5,
           30.0, 100.0, 1000.0]  # fmt: skip


# name -> (nnlab fn, the same in torch as fn(torch, x))
CASES = {
    "sigmoid": (F.sigmoid, lambda torch, x: torch.sigmoid(x)),
    "tanh": (F.tanh, lambda torch, x: torch.tanh(x)),
    "relu": (F.relu, lambda torch, x: torch.relu(x)),
    "leaky_relu": (F.leaky_relu, lambda torch, x: torch.nn.functional.leaky_relu(x)),
    "leaky_relu_0.2": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda torch, x: torch.nn.functional.leaky_relu(x, 0.2),
    ),
    "elu": (F.elu, lambda torch, x: torch.nn.functional.elu(x)),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda torch, x: torch.nn.functional.elu(x, 0.5)),
    "selu": (F.selu, lambda torch, x: torch.selu(x)),
    "gelu": (F.gelu, lambda torch, x: torch.nn.functional.gelu(x)),
    "gelu_tanh": (
        lambda x: F.gelu(x, "tanh"),
        lambda torch, x: torch.nn.functional.gelu(x, approximate="tanh"),
    ),
    "softplus": (F.softplus, lambda torch, x: torch.nn.functional.softplus(x)),
    "softplus_2_5": (
        lambda x: F.softplus(x, 2.0, 5.0),
        lambda torch, x: torch.nn.functional.softplus(x, 2.0, 5.0),
    ),
    "silu": (F.silu, lambda torch, x: torch.nn.functional.silu(x)),
    "softmax": (F.softmax, lambda torch, x: torch.softmax(x, -1)),
    "softmax_0": (lambda x: F.softmax(x, 0), lambda torch, x: torch.softmax(x, 0)),
    "log_softmax": (F.log_softmax, lambda torch, x: torch.log_softmax(x, -1)),
    "log_softmax_0": (lambda x: F.log_softmax(x, 0), lambda torch, x: torch.log_softmax(x, 0)),
}


def _tolerance(name, dtype):
    tol = dict(TOL[dtype])
    if name == "gelu_tanh" and dtype == np.float32:
        # PyTorch's float32 kernel forms 1 + tanh(u), which cancels for x < -3: it is off
        # from the float64 truth by up to ~3e-6 there (nnlab computes x sigmoid(2u) instead).
        tol["atol"] = 1e-5
    return tol


def _run_both(torch, fn, tfn, x, grad):
    ours = Tensor(x, requires_grad=True)
    out = fn(ours)
    out.backward(grad)
    theirs = torch.tensor(x, requires_grad=True)
    tout = tfn(torch, theirs)
    tout.backward(torch.tensor(grad))
    return (out.data, ours.grad), (tout.detach().numpy(), theirs.grad.numpy())


def _assert_parity(ours, theirs, tol):
    for mine, ref in zip(ours, theirs, strict=True):
        assert mine.dtype == ref.dtype
        np.testing.assert_allclose(mine, ref, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("shape", [(7,), (4, 6), (3, 5, 8)])
def test_functional_matches_torch(name, dtype, shape):
    torch = torch_module()
    fn, tfn = CASES[name]
    rng = np.random.default_rng(len(shape))
    x = (rng.normal(size=shape) * 3).astype(dtype)
    grad = rng.normal(size=shape).astype(dtype)
    ours, theirs = _run_both(torch, fn, tfn, x, grad)
    _assert_parity(ours, theirs, _tolerance(name, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES)
def test_special_values_match_torch(name, dtype):
    """+-1000, the softplus threshold, and 0: outputs and gradients as PyTorch's, no warnings."""
    torch = torch_module()
    fn, tfn = CASES[name]
    x = np.array(SPECIAL, dtype=dtype)
    if name.endswith("_0"):  # along axis 0 of a 2-D array: columns of huge spread
        x = np.stack([x, x[::-1]], axis=1)
    grad = np.linspace(-1.0, 2.0, x.size).reshape(x.shape).astype(dtype)
    with np.errstate(all="raise"):
        ours, theirs = _run_both(torch, fn, tfn, x, grad)
    assert all(np.isfinite(a).all() for a in ours)
    _assert_parity(ours, theirs, _tolerance(name, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES)
def test_subgradient_at_exactly_zero_matches_torch(name, dtype):
    torch = torch_module()
    fn, tfn = CASES[name]
    x = np.zeros((3, 2), dtype)
    grad = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0]], dtype)
    ours, theirs = _run_both(torch, fn, tfn, x, grad)
    _assert_parity(ours, theirs, _tolerance(name, dtype))


def test_huge_softmax_rows_match_torch():
    torch = torch_module()
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1001.0], [1e4, 0.0, -1e4]])
    grad = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0], [2.0, -2.0, 1.0]])
    for name in ["softmax", "log_softmax"]:
        with np.errstate(all="raise"):
            ours, theirs = _run_both(torch, *CASES[name], x, grad)
        _assert_parity(ours, theirs, TOL[np.float64])


# ---- modules ----------------------------------------------------------------------------------


def _module_pairs(torch):
    tnn = torch.nn
    return [
        (act.Identity(), tnn.Identity()),
        (act.ReLU(), tnn.ReLU()),
        (act.Sigmoid(), tnn.Sigmoid()),
        (act.Tanh(), tnn.Tanh()),
        (act.LeakyReLU(), tnn.LeakyReLU()),
        (act.LeakyReLU(0.3), tnn.LeakyReLU(0.3)),
        (act.ELU(), tnn.ELU()),
        (act.ELU(alpha=0.4), tnn.ELU(alpha=0.4)),
        (act.SELU(), tnn.SELU()),
        (act.GELU(), tnn.GELU()),
        (act.GELU("tanh"), tnn.GELU("tanh")),
        (act.Softplus(), tnn.Softplus()),
        (act.Softplus(beta=0.5, threshold=3.0), tnn.Softplus(beta=0.5, threshold=3.0)),
        (act.SiLU(), tnn.SiLU()),
        (act.Softmax(), tnn.Softmax(dim=-1)),
        (act.Softmax(dim=1), tnn.Softmax(dim=1)),
        (act.LogSoftmax(), tnn.LogSoftmax(dim=-1)),
        (act.LogSoftmax(dim=0), tnn.LogSoftmax(dim=0)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_modules_match_torch(dtype):
    torch = torch_module()
    rng = np.random.default_rng(7)
    x = (rng.normal(size=(4, 5, 3)) * 3).astype(dtype)
    x[0, 0] = [-1000.0, 0.0, 1000.0]
    grad = rng.normal(size=x.shape).astype(dtype)
    for module, tmodule in _module_pairs(torch):
        assert isinstance(module, nnl.Module)
        name = "gelu_tanh" if getattr(module, "approximate", None) == "tanh" else ""
        ours, theirs = _run_both(torch, module, lambda _, t, m=tmodule: m(t), x, grad)
        _assert_parity(ours, theirs, _tolerance(name, dtype))


def test_module_reprs_follow_torch():
    torch = torch_module()
    for module, tmodule in _module_pairs(torch):
        assert repr(module) == repr(tmodule), type(module).__name__
