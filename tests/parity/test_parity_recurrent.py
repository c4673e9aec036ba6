"""nnlab.nn.RNN / LSTM / GRU against torch.nn.RNN / LSTM / GRU(batch_first=True).

Weights are copied with load_state_dict; the output, the final states, the gradients of the
input and the initial states and every parameter gradient must agree to 1e-5 in float32 and
1e-10 in float64 (relative to the largest magnitude of each compared array)."""

import numpy as np
import pytest

from nnlab import Tensor
from nnlab.nn import recurrent as rnn_modules

from oracles import torch_module

TOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]
KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
KIND_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
N, T, I, H = 4, 7, 5, 6


def _close(ours, theirs, dtype, what):
    theirs = np.asarray(theirs)
    tol = TOL[dtype]
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


def _pair(kind, dtype, **kwargs):
    torch = torch_module()
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(I, H, batch_first=True, **kwargs)
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(rnn_modules, kind)(I, H, dtype=dtype, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _states(kind, layers, directions, dtype, seed=2):
    rng = np.random.default_rng(seed)
    shape = (layers * directions, N, H)
    count = 2 if kind == "LSTM" else 1
    return [rng.normal(size=shape).astype(dtype) for _ in range(count)]


def _flatten_result(kind, result):
    output, states = result
    return [output, *states] if kind == "LSTM" else [output, states]


def _compare(kind, ours, theirs, x, states, dtype, **forward_kwargs):
    """One forward and backward through both: compare outputs, final states, the input and
    initial-state gradients and every parameter gradient."""
    torch = torch_module()
    x_t = torch.tensor(x, requires_grad=True)
    x_o = Tensor(x, requires_grad=True)
    s_t = [torch.tensor(s, requires_grad=True) for s in states]
    s_o = [Tensor(s, requires_grad=True) for s in states]
    hx_t = None if not states else (tuple(s_t) if kind == "LSTM" else s_t[0])
    hx_o = None if not states else (tuple(s_o) if kind == "LSTM" else s_o[0])
    theirs_out = _flatten_result(kind, theirs(x_t, hx_t))
    ours_out = _flatten_result(kind, ours(x_o, hx_o, **forward_kwargs))
    rng = np.random.default_rng(5)
    loss_t, loss_o = 0.0, 0.0
    for k, (a, b) in enumerate(zip(ours_out, theirs_out, strict=True)):
        assert a.dtype == dtype
        _close(a.data, b.detach().numpy(), dtype, f"forward output {k}")
        g = rng.normal(size=a.shape).astype(dtype)
        loss_t = loss_t + (b * torch.tensor(g)).sum()
        loss_o = loss_o + (a * g).sum()
    loss_t.backward()
    loss_o.backward()
    _close(x_o.grad, x_t.grad.numpy(), dtype, "input gradient")
    for k, (a, b) in enumerate(zip(s_o, s_t, strict=True)):
        _close(a.grad, b.grad.numpy(), dtype, f"initial state {k} gradient")
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, p in theirs_params.items():
        _close(ours_params[name].grad, p.grad.numpy(), dtype, f"gradient of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_states", [False, True], ids=["zero_state", "initial_state"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (1, True), (3, False), (3, True)])
@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_matches_torch(kind, kwargs, layers, bidirectional, with_states, dtype):
    ours, theirs = _pair(kind, dtype, num_layers=layers, bidirectional=bidirectional, **kwargs)
    x = np.random.default_rng(1).normal(size=(N, T, I)).astype(dtype)
    directions = 2 if bidirectional else 1
    states = _states(kind, layers, directions, dtype) if with_states else []
    _compare(kind, ours, theirs, x, states, dtype)


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_without_bias(kind, kwargs):
    ours, theirs = _pair(kind, np.float64, num_layers=2, bias=False, **kwargs)
    x = np.random.default_rng(1).normal(size=(N, T, I))
    _compare(kind, ours, theirs, x, _states(kind, 2, 1, np.float64), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_padded_lengths_match_packed_sequences(kind, kwargs, dtype):
    """lengths= gives what torch gives for a packed batch: zeros past each sequence's end,
    final states from its last real step, in both directions and every layer."""
    torch = torch_module()
    pack = torch.nn.utils.rnn
    ours, theirs = _pair(kind, dtype, num_layers=2, bidirectional=True, **kwargs)
    lengths = np.array([7, 3, 5, 1])
    x = np.random.default_rng(1).normal(size=(N, T, I)).astype(dtype)
    states = _states(kind, 2, 2, dtype)
    x_t = torch.tensor(x, requires_grad=True)
    s_t = [torch.tensor(s, requires_grad=True) for s in states]
    packed = pack.pack_padded_sequence(x_t, torch.tensor(lengths), True, enforce_sorted=False)
    out_packed, hx = theirs(packed, tuple(s_t) if kind == "LSTM" else s_t[0])
    out_t, _ = pack.pad_packed_sequence(out_packed, batch_first=True, total_length=T)
    theirs_out = [out_t, *(hx if kind == "LSTM" else (hx,))]
    x_o = Tensor(x, requires_grad=True)
    s_o = [Tensor(s, requires_grad=True) for s in states]
    ours_out = _flatten_result(
        kind, ours(x_o, tuple(s_o) if kind == "LSTM" else s_o[0], lengths=lengths)
    )
    rng = np.random.default_rng(5)
    loss_t, loss_o = 0.0, 0.0
    for a, b in zip(ours_out, theirs_out, strict=True):
        _close(a.data, b.detach().numpy(), dtype, "forward")
        g = rng.normal(size=a.shape).astype(dtype)
        loss_t, loss_o = loss_t + (b * torch.tensor(g)).sum(), loss_o + (a * g).sum()
    loss_t.backward()
    loss_o.backward()
    _close(x_o.grad, x_t.grad.numpy(), dtype, "input gradient")
    for a, b in zip(s_o, s_t, strict=True):
        _close(a.grad, b.grad.numpy(), dtype, "initial state gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, theirs_params[name].grad.numpy(), dtype, f"gradient of {name}")


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_time_major_layout(kind, kwargs):
    torch = torch_module()
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(I, H, num_layers=2, bidirectional=True, **kwargs).double()
    ours = getattr(rnn_modules, kind)(
        I, H, 2, batch_first=False, bidirectional=True, dtype=np.float64, **kwargs
    )
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(T, N, I))  # (T, N, F)
    expected = _flatten_result(kind, theirs(torch.tensor(x)))
    got = _flatten_result(kind, ours(x))
    for a, b in zip(got, expected, strict=True):
        _close(a.data, b.detach().numpy(), np.float64, "time-major forward")


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_unbatched_sequence(kind, kwargs):
    ours, theirs = _pair(kind, np.float64, num_layers=2, **kwargs)
    torch = torch_module()
    x = np.random.default_rng(1).normal(size=(T, I))
    expected = _flatten_result(kind, theirs(torch.tensor(x)))
    got = _flatten_result(kind, ours(x))
    for a, b in zip(got, expected, strict=True):
        assert a.shape == tuple(b.shape)
        _close(a.data, b.detach().numpy(), np.float64, "unbatched forward")


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_dropout_is_inactive_in_eval_mode(kind, kwargs):
    ours, theirs = _pair(kind, np.float64, num_layers=3, dropout=0.5, **kwargs)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(1).normal(size=(N, T, I))
    _compare(kind, ours, theirs, x, _states(kind, 3, 1, np.float64), np.float64)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_default_initialisation_has_torch_bounds(kind):
    module = getattr(rnn_modules, kind)(30, 400, rng=0)
    bound = 1 / np.sqrt(400)
    for name, p in module.named_parameters():
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.98 * bound, name
        assert abs(p.data.std() / (bound / np.sqrt(3)) - 1) < 0.05, name
