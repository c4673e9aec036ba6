"""Pooling, upsampling and padding modules against torch.nn on random configurations: the
forward output and the input gradient (float32 to 1e-5, float64 to 1e-10, relative to the
largest magnitude of each compared array)."""

import numpy as np
import pytest

from nnlab import Tensor
from nnlab.nn.pool import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
    ZeroPad2d,
)

from oracles import torch_module

TOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]
N_CONFIGS = 24


def _close(ours, theirs, dtype, what):
    theirs = np.asarray(theirs)
    tol = TOL[dtype]
    scale = max(1.0, float(np.abs(theirs).max())) if theirs.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


def _compare(ours, theirs, shape, dtype, seed):
    """Forward and input gradient of ``ours`` and the torch module on the same input."""
    torch = torch_module()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)  # continuous values: no tied maxima
    x_theirs = torch.tensor(x, requires_grad=True)
    x_ours = Tensor(x, requires_grad=True)
    y_theirs, y_ours = theirs(x_theirs), ours(x_ours)
    assert y_ours.dtype == dtype
    assert y_ours.shape == tuple(y_theirs.shape)
    _close(y_ours.data, y_theirs.detach().numpy(), dtype, "forward")
    g = rng.normal(size=y_ours.shape).astype(dtype)
    y_theirs.backward(torch.tensor(g))
    y_ours.backward(g)
    _close(x_ours.grad, x_theirs.grad.numpy(), dtype, "input gradient")


# ---- random configurations (fixed seeds, so every run tests the same ones) ---------------


def _max_pool2d_configs():
    rng = np.random.default_rng(2024)
    configs = []
    for _ in range(N_CONFIGS):
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        ceil_mode = bool(rng.integers(0, 2))
        size = tuple(
            dd * (kk - 1) + 1 + int(rng.integers(0, 7)) for kk, dd in zip(k, d, strict=True)
        )
        configs.append(((2, 3) + size, k, s, p, d, ceil_mode))
    return configs


def _avg_pool2d_configs():
    rng = np.random.default_rng(2025)
    configs = []
    for i in range(N_CONFIGS):
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        ceil_mode = i % 2 == 0
        count_include_pad = i % 4 < 2
        size = tuple(kk + int(rng.integers(0, 7)) for kk in k)
        configs.append(((2, 3) + size, k, s, p, ceil_mode, count_include_pad))
    return configs


def _max_pool1d_configs():
    rng = np.random.default_rng(2026)
    configs = []
    for _ in range(N_CONFIGS):
        k, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
        p = int(rng.integers(0, k // 2 + 1))
        length = d * (k - 1) + 1 + int(rng.integers(0, 9))
        configs.append(((3, 4, length), k, s, p, d, bool(rng.integers(0, 2))))
    return configs


ADAPTIVE_FIXED = [
    ((2, 3, 5, 5), 3),
    ((2, 3, 7, 7), 2),
    ((2, 3, 8, 8), 4),
    ((2, 3, 6, 7), (None, 3)),
]


def _adaptive_configs():
    rng = np.random.default_rng(2027)
    configs = list(ADAPTIVE_FIXED)
    for _ in range(N_CONFIGS - len(ADAPTIVE_FIXED)):
        size = tuple(int(v) for v in rng.integers(1, 12, 2))
        out = tuple(int(v) for v in rng.integers(1, 9, 2))
        configs.append(((2, 3) + size, out))
    return configs


def _upsample_configs():
    rng = np.random.default_rng(2028)
    configs = []
    for i in range(N_CONFIGS):
        size = tuple(int(v) for v in rng.integers(1, 7, 2))
        scale = int(rng.integers(1, 5)) if i % 3 else tuple(int(v) for v in rng.integers(1, 5, 2))
        configs.append(((2, 3) + size, scale, "nearest" if i % 2 else "bilinear"))
    return configs


def _zero_pad_configs():
    rng = np.random.default_rng(2029)
    configs = [((2, 3, 4, 5), 2)]
    for _ in range(N_CONFIGS - 1):
        configs.append(((2, 3, 4, 5), tuple(int(v) for v in rng.integers(0, 4, 4))))
    return configs


# ---- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,config", list(enumerate(_max_pool2d_configs())))
def test_max_pool2d(dtype, index, config):
    torch = torch_module()
    shape, k, s, p, d, ceil_mode = config
    ours = MaxPool2d(k, s, p, d, ceil_mode)
    theirs = torch.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil_mode)
    _compare(ours, theirs, shape, dtype, seed=index)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,config", list(enumerate(_max_pool1d_configs())))
def test_max_pool1d(dtype, index, config):
    torch = torch_module()
    shape, k, s, p, d, ceil_mode = config
    ours = MaxPool1d(k, s, p, d, ceil_mode)
    theirs = torch.nn.MaxPool1d(k, s, p, d, ceil_mode=ceil_mode)
    _compare(ours, theirs, shape, dtype, seed=index)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,config", list(enumerate(_avg_pool2d_configs())))
def test_avg_pool2d(dtype, index, config):
    torch = torch_module()
    shape, k, s, p, ceil_mode, count_include_pad = config
    ours = AvgPool2d(k, s, p, ceil_mode, count_include_pad)
    theirs = torch.nn.AvgPool2d(k, s, p, ceil_mode, count_include_pad)
    _compare(ours, theirs, shape, dtype, seed=index)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,config", list(enumerate(_adaptive_configs())))
def test_adaptive_avg_pool2d(dtype, index, config):
    torch = torch_module()
    shape, out = config
    _compare(AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out), shape, dtype, seed=index)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,config", list(enumerate(_upsample_configs())))
def test_upsample(dtype, index, config):
    torch = torch_module()
    shape, scale, mode = config
    align = False if mode == "bilinear" else None
    ours = Upsample(scale_factor=scale, mode=mode)
    theirs = torch.nn.Upsample(scale_factor=scale, mode=mode, align_corners=align)
    _compare(ours, theirs, shape, dtype, seed=index)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsample_by_size(dtype, mode):
    torch = torch_module()
    align = False if mode == "bilinear" else None
    ours = Upsample(size=(6, 12), mode=mode)
    theirs = torch.nn.Upsample(size=(6, 12), mode=mode, align_corners=align)
    _compare(ours, theirs, (2, 3, 3, 4), dtype, seed=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,config", list(enumerate(_zero_pad_configs())))
def test_zero_pad2d(dtype, index, config):
    torch = torch_module()
    shape, padding = config
    _compare(ZeroPad2d(padding), torch.nn.ZeroPad2d(padding), shape, dtype, seed=index)


@pytest.mark.parametrize("k,s", [(2, 2), (3, 1), (2, 1)])
def test_max_pool2d_ties_and_nans_route_gradient_like_torch(k, s):
    torch = torch_module()
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=(2, 3, 6, 6)).astype(np.float64)  # many ties
    x[0, 0, 1, 1] = x[1, 2, 3, 4] = x[1, 2, 4, 4] = np.nan
    x_theirs, x_ours = torch.tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    y_theirs = torch.nn.functional.max_pool2d(x_theirs, k, s)
    y_ours = MaxPool2d(k, s)(x_ours)
    np.testing.assert_array_equal(y_ours.data, y_theirs.detach().numpy())
    g = rng.normal(size=y_ours.shape)
    y_theirs.backward(torch.tensor(g))
    y_ours.backward(g)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
