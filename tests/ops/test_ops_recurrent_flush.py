"""Subnormal flushing of the gradients carried back through time."""

import numpy as np

from nnlab import Tensor
from nnlab.nn import RNN
from nnlab.ops import recurrent
from nnlab.ops.recurrent import flush_subnormals


def test_flush_zeroes_only_subnormal_values():
    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).tiny
        a = np.array([tiny / 4, -tiny / 2, tiny, -2 * tiny, 1.0, 0.0, np.nan], dtype)
        flush_subnormals(a)
        np.testing.assert_array_equal(a[:6], np.array([0, 0, tiny, -2 * tiny, 1, 0], dtype))
        assert np.isnan(a[6])


def _subnormal_steps(monkeypatch, flush_every):
    """Time steps whose input gradient holds subnormal values, for an RNN whose carried
    gradient halves every step (W_hh = I / 2, inputs small enough for tanh' = 1)."""
    monkeypatch.setattr(recurrent, "FLUSH_EVERY", flush_every)
    monkeypatch.setattr(recurrent, "LONG_SEQUENCE", 10**9)  # the period alone decides
    rnn = RNN(1, 1, batch_first=True, bias=False, rng=0)
    rnn.weight_hh_l0.data[:] = 0.5
    rnn.weight_ih_l0.data[:] = 1.0
    x = Tensor(np.full((1, 200, 1), 1e-6, np.float32), requires_grad=True)
    out, _ = rnn(x)
    out[:, -1].sum().backward()
    grad = np.abs(x.grad[0, :, 0])
    return int(np.sum((grad > 0) & (grad < np.finfo(np.float32).tiny))), grad


def test_carried_gradient_leaves_the_subnormal_range_within_a_flush_period(monkeypatch):
    unflushed, plain = _subnormal_steps(monkeypatch, 10**9)
    flushed, grad = _subnormal_steps(monkeypatch, 8)
    assert unflushed >= 20  # 2^-126 down to 2^-149: every step of it subnormal
    assert flushed <= 8
    normal = plain >= np.finfo(np.float32).tiny
    np.testing.assert_array_equal(grad[normal], plain[normal])  # normal values untouched


def test_long_sequences_flush_every_step(monkeypatch):
    monkeypatch.setattr(recurrent, "LONG_SEQUENCE", 64)  # T = 200 counts as long
    monkeypatch.setattr(recurrent, "FLUSH_EVERY", 10**9)
    rnn = RNN(1, 1, batch_first=True, bias=False, rng=0)
    rnn.weight_hh_l0.data[:] = 0.5
    rnn.weight_ih_l0.data[:] = 1.0
    x = Tensor(np.full((1, 200, 1), 1e-6, np.float32), requires_grad=True)
    out, _ = rnn(x)
    out[:, -1].sum().backward()
    grad = np.abs(x.grad[0, :, 0])
    assert np.sum((grad > 0) & (grad < np.finfo(np.float32).tiny)) <= 1
