"""Core layers against PyTorch: weights copied from torch with load_state_dict, then the
forward output, the input gradient and every parameter gradient compared (float32 to 1e-5,
float64 to 1e-10, relative to the largest magnitude of each compared array)."""

import numpy as np
import pytest

from nnlab import Tensor
from nnlab.nn.container import Sequential
from nnlab.nn.dropout import Dropout
from nnlab.nn.embedding import Embedding
from nnlab.nn.flatten import Flatten
from nnlab.nn.linear import Linear
from nnlab.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm

from oracles import torch_module

TOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]


def _close(ours, theirs, dtype, what):
    theirs = np.asarray(theirs)
    tol = TOL[dtype]
    scale = max(1.0, float(np.abs(theirs).max())) if theirs.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


def _pair(ours, theirs_cls, *args, dtype, **kwargs):
    """A torch module of ``dtype`` and ``ours`` (built with ``dtype``) holding a copy of its
    weights and buffers."""
    torch = torch_module()
    torch.manual_seed(0)
    theirs = theirs_cls(*args, **kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _compare_step(ours, theirs, x, dtype, seed=0, input_grad=True):
    """One forward + backward in both; compare output, input grad and every parameter grad."""
    torch = torch_module()
    for module in (ours, theirs):
        for p in module.parameters():
            p.grad = None
    x_theirs = torch.tensor(x, requires_grad=input_grad)
    x_ours = Tensor(x, requires_grad=True) if input_grad else x
    y_theirs, y_ours = theirs(x_theirs), ours(x_ours)
    assert y_ours.dtype == dtype
    _close(y_ours.data, y_theirs.detach().numpy(), dtype, "forward")
    g = np.random.default_rng(seed).normal(size=y_ours.shape).astype(dtype)
    y_theirs.backward(torch.tensor(g))
    y_ours.backward(g)
    if input_grad:
        _close(x_ours.grad, x_theirs.grad.numpy(), dtype, "input gradient")
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert sorted(ours_params) == sorted(theirs_params)
    for name, p in theirs_params.items():
        _close(ours_params[name].grad, p.grad.numpy(), dtype, f"gradient of {name}")


def _compare_state(ours, theirs, dtype):
    theirs_state = theirs.state_dict()
    ours_state = ours.state_dict()
    assert sorted(ours_state) == sorted(theirs_state)
    for key, value in theirs_state.items():
        if value.dtype.is_floating_point:
            _close(ours_state[key], value.numpy(), dtype, key)
        else:
            np.testing.assert_array_equal(ours_state[key], value.numpy(), err_msg=key)


def _data(shape, dtype, seed=1, loc=0.5, scale=2.0):
    return np.random.default_rng(seed).normal(loc, scale, size=shape).astype(dtype)


# ---- Linear -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(7, 5), (3, 4, 5)])
def test_linear(dtype, bias, x_shape):
    torch = torch_module()
    ours, theirs = _pair(
        Linear(5, 6, bias=bias, dtype=dtype), torch.nn.Linear, 5, 6, bias=bias, dtype=dtype
    )
    _compare_step(ours, theirs, _data(x_shape, dtype), dtype)


def test_linear_default_init_has_torch_bounds():
    layer = Linear(400, 300, rng=0)
    bound = 1 / np.sqrt(400)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.98 * bound
    assert abs(layer.weight.data.std() / (bound / np.sqrt(3)) - 1) < 0.02


# ---- BatchNorm ----------------------------------------------------------------------------


def _bn_pair(cls_name, num_features, dtype, **kwargs):
    torch = torch_module()
    ours_cls = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[cls_name]
    ours, theirs = _pair(
        ours_cls(num_features, dtype=dtype, **kwargs),
        getattr(torch.nn, cls_name),
        num_features,
        dtype=dtype,
        **kwargs,
    )
    # Non-trivial affine parameters so their gradients are tested in general position.
    if ours.affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(0.5, 1.5, num_features))
            theirs.bias.copy_(torch.linspace(-1, 1, num_features))
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


BN_CASES = [("BatchNorm1d", (16, 4)), ("BatchNorm1d", (8, 4, 5)), ("BatchNorm2d", (4, 3, 5, 6))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls_name,shape", BN_CASES)
@pytest.mark.parametrize(
    "kwargs", [{}, {"affine": False}, {"momentum": None}, {"track_running_stats": False}]
)
def test_batch_norm_train_then_eval(dtype, cls_name, shape, kwargs):
    ours, theirs = _bn_pair(cls_name, shape[1], dtype, **kwargs)
    ours.train()
    theirs.train()
    for step in range(3):  # running statistics and num_batches_tracked after several steps
        x = _data(shape, dtype, seed=step, loc=step - 1.0, scale=1.0 + step)
        _compare_step(ours, theirs, x, dtype, seed=step)
        _compare_state(ours, theirs, dtype)
    ours.eval()
    theirs.eval()
    _compare_step(ours, theirs, _data(shape, dtype, seed=10), dtype, seed=10)
    _compare_state(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_eval_with_loaded_running_stats(dtype):
    torch = torch_module()
    theirs = torch.nn.BatchNorm1d(3).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        theirs.running_var.copy_(torch.tensor([0.25, 4.0, 1.5]))
        theirs.num_batches_tracked.fill_(17)
    ours = BatchNorm1d(3, dtype=dtype)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    _compare_step(ours, theirs, _data((6, 3, 2), dtype), dtype)
    assert int(ours.num_batches_tracked) == 17


# ---- LayerNorm ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "normalized,x_shape",
    [((6,), (5, 6)), ((6,), (2, 3, 6)), ((4, 6), (3, 4, 6)), ((4, 6), (2, 2, 4, 6))],
)
@pytest.mark.parametrize("kwargs", [{}, {"bias": False}, {"elementwise_affine": False}])
def test_layer_norm(dtype, normalized, x_shape, kwargs):
    torch = torch_module()
    ours, theirs = _pair(
        LayerNorm(normalized, dtype=dtype, **kwargs),
        torch.nn.LayerNorm,
        normalized,
        dtype=dtype,
        **kwargs,
    )
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(0.5, 1.5, theirs.weight.numel()).reshape(normalized))
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    _compare_step(ours, theirs, _data(x_shape, dtype), dtype)


# ---- Embedding ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, -2])
def test_embedding(dtype, padding_idx):
    torch = torch_module()
    ours, theirs = _pair(
        Embedding(12, 5, padding_idx=padding_idx, dtype=dtype),
        torch.nn.Embedding,
        12,
        5,
        padding_idx=padding_idx,
        dtype=dtype,
    )
    assert ours.padding_idx == theirs.padding_idx
    indices = np.random.default_rng(3).integers(0, 12, size=(4, 9))
    indices[0, :3] = 10  # the -2 padding row, used repeatedly
    indices[1, :2] = 0
    torch_indices = torch.tensor(indices)
    y_theirs = theirs(torch_indices)
    y_ours = ours(indices)
    _close(y_ours.data, y_theirs.detach().numpy(), dtype, "forward")
    g = np.random.default_rng(4).normal(size=y_ours.shape).astype(dtype)
    y_theirs.backward(torch.tensor(g))
    y_ours.backward(g)
    _close(ours.weight.grad, theirs.weight.grad.numpy(), dtype, "weight gradient")


def test_embedding_init_zeroes_padding_row_like_torch():
    layer = Embedding(2000, 50, padding_idx=3, rng=0)
    np.testing.assert_array_equal(layer.weight.data[3], 0.0)
    others = np.delete(layer.weight.data, 3, axis=0)
    assert abs(others.std() - 1.0) < 0.02 and abs(others.mean()) < 0.01


# ---- Sequential ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_sequential(dtype, training):
    torch = torch_module()
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(6, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.LayerNorm(8),
        torch.nn.Dropout(0.0),
        torch.nn.Linear(8, 3),
    ).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = Sequential(
        Flatten(),
        Linear(6, 8, dtype=dtype),
        BatchNorm1d(8, dtype=dtype),
        LayerNorm(8, dtype=dtype),
        Dropout(0.0),
        Linear(8, 3, dtype=dtype),
    )
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.train(training)
    theirs.train(training)
    for step in range(2):
        _compare_step(ours, theirs, _data((10, 2, 3), dtype, seed=step), dtype, seed=step)
        _compare_state(ours, theirs, dtype)
