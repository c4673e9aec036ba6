"""The fused whole-sequence ops (RNN, LSTM, GRU) three ways: forward against a plain-NumPy
reference, float64 gradient checks of every input, and the fused op against the same
computation composed step by step from primitive Tensor ops, forward and backward; plus
masks, reverse processing and truncated backpropagation through time."""

import types

import numpy as np
import pytest

from nnlab import Tensor, gradcheck
from nnlab import functional as F
from nnlab.nn.recurrent import gru_sequence, lstm_sequence, rnn_sequence

N, T, I, H = 3, 4, 3, 2
MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [1, 0, 0, 0]], bool)  # holes, leading gaps
OPTIONS = {
    "plain": {},
    "reverse": {"reverse": True},
    "lengths": {"lengths": [4, 2, 0]},
    "lengths_reverse": {"lengths": [4, 2, 0], "reverse": True},
    "mask": {"mask": MASK},
    "mask_reverse": {"mask": MASK, "reverse": True},
    "mask_carry_outputs": {"mask": MASK, "zero_masked": False},
    "mask_carry_outputs_reverse": {"mask": MASK, "zero_masked": False, "reverse": True},
}
KINDS = {
    "rnn_tanh": ("rnn", {}),
    "rnn_relu": ("rnn", {"nonlinearity": "relu"}),
    "lstm": ("lstm", {}),
    "gru": ("gru", {}),
    "gru_reset_before": ("gru", {"reset_after": False}),
}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# ---- one reference, run on NumPy arrays or composed from Tensor ops -------------------------


def _np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


NUMPY_OPS = types.SimpleNamespace(
    sigmoid=_np_sigmoid,
    tanh=np.tanh,
    relu=lambda z: np.maximum(z, 0),
    stack=lambda xs: np.stack(xs, axis=1),
    detach=lambda a: a,
)
TENSOR_OPS = types.SimpleNamespace(
    sigmoid=F.sigmoid,
    tanh=F.tanh,
    relu=F.relu,
    stack=lambda xs: F.stack(xs, axis=1),
    detach=lambda a: a.detach(),
)


def _affine(v, w, b):
    out = v @ w.T
    return out if b is None else out + b


def _step(kind, extra, ops, x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    """One cell step, written from the PyTorch / Keras equations."""
    if kind == "rnn":
        pre = _affine(x_t, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        return (ops.relu if extra.get("nonlinearity") == "relu" else ops.tanh)(pre), None
    if kind == "lstm":
        g = _affine(x_t, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        i, f = ops.sigmoid(g[:, :H]), ops.sigmoid(g[:, H : 2 * H])
        cand, o = ops.tanh(g[:, 2 * H : 3 * H]), ops.sigmoid(g[:, 3 * H :])
        c = f * c + i * cand
        return o * ops.tanh(c), c
    gi = _affine(x_t, w_ih, b_ih)
    b_rz, b_n = (None, None) if b_hh is None else (b_hh[: 2 * H], b_hh[2 * H :])
    gh = _affine(h, w_hh[: 2 * H], b_rz)
    r = ops.sigmoid(gi[:, :H] + gh[:, :H])
    z = ops.sigmoid(gi[:, H : 2 * H] + gh[:, H:])
    if extra.get("reset_after", True):
        n = ops.tanh(gi[:, 2 * H :] + r * _affine(h, w_hh[2 * H :], b_n))
    else:
        n = ops.tanh(gi[:, 2 * H :] + _affine(r * h, w_hh[2 * H :], b_n))
    return (1 - z) * n + z * h, None


def reference(kind, extra, ops, x, h, c, w_ih, w_hh, b_ih, b_hh, options, bptt_steps=None):
    """Outputs (sequence, h_n[, c_n]) step by step; masked steps carry the state; with
    bptt_steps the state is detached between chunks of that many steps."""
    steps = x.shape[1]
    mask = options.get("mask")
    if options.get("lengths") is not None:
        mask = np.arange(steps) < np.asarray(options["lengths"])[:, None]
    if mask is None:
        mask = np.ones((x.shape[0], steps), bool)
    order = range(steps - 1, -1, -1) if options.get("reverse") else range(steps)
    outputs, seen = [None] * steps, np.zeros(x.shape[0], bool)
    for s, t in enumerate(order):
        if bptt_steps and s and s % bptt_steps == 0:
            h, c = ops.detach(h), None if c is None else ops.detach(c)
        m = mask[:, t : t + 1].astype(x.dtype)
        h_new, c_new = _step(kind, extra, ops, x[:, t], h, c, w_ih, w_hh, b_ih, b_hh)
        h = h_new * m + h * (1 - m)
        c = None if c is None else c_new * m + c * (1 - m)
        seen |= mask[:, t]
        if options.get("zero_masked", True):
            outputs[t] = h_new * m
        else:  # Keras: the latest output, 0 before the first real step
            outputs[t] = h * seen[:, None].astype(x.dtype)
    result = [ops.stack(outputs), h]
    return result + ([c] if kind == "lstm" else [])


def fused(kind, extra, x, h, c, w_ih, w_hh, b_ih, b_hh, options, bptt_steps=None):
    kw = {**extra, **options, "bptt_steps": bptt_steps}
    if kind == "lstm":
        return list(lstm_sequence(x, h, c, w_ih, w_hh, b_ih, b_hh, **kw))
    op = rnn_sequence if kind == "rnn" else gru_sequence
    return list(op(x, h, w_ih, w_hh, b_ih, b_hh, **kw))


def _arrays(kind, seed=0, dtype=np.float64, bias=True):
    """x, h0, c0 (None unless LSTM), w_ih, w_hh, b_ih, b_hh."""
    rng = np.random.default_rng(seed)
    g = GATES[kind] * H

    def draw(*shape, scale=1.0):
        return (scale * rng.normal(size=shape)).astype(dtype)

    c0 = draw(N, H) if kind == "lstm" else None
    biases = [draw(g), draw(g)] if bias else [None, None]
    return [draw(N, T, I), draw(N, H), c0, draw(g, I, scale=0.8), draw(g, H, scale=0.8), *biases]


def _tensors(arrays):
    return [None if a is None else Tensor(a, requires_grad=True) for a in arrays]


def _close(a, b, tol):
    b = np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()))


# ---- forward against NumPy ------------------------------------------------------------------


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("name", KINDS)
def test_forward_matches_numpy_reference(name, option):
    kind, extra = KINDS[name]
    arrays = _arrays(kind)
    expected = reference(kind, extra, NUMPY_OPS, *arrays, OPTIONS[option])
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        cast = [None if a is None else a.astype(dtype) for a in arrays]
        got = fused(kind, extra, *[None if a is None else Tensor(a) for a in cast], OPTIONS[option])
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == dtype
            _close(a.data, b, tol)


@pytest.mark.parametrize("name", KINDS)
def test_padded_steps_do_not_change_the_final_state(name):
    kind, extra = KINDS[name]
    x, h0, c0, *weights = _arrays(kind)
    lengths = np.array([4, 2, 1])
    padded = fused(kind, extra, *map(Tensor, [x, h0]), c0, *weights, {"lengths": lengths})
    for n, length in enumerate(lengths):
        alone = fused(
            kind, extra, Tensor(x[n : n + 1, :length]), h0[n : n + 1],
            None if c0 is None else c0[n : n + 1], *weights, {},
        )  # fmt: skip
        for final_padded, final_alone in zip(padded[1:], alone[1:], strict=True):
            _close(final_padded.data[n : n + 1], final_alone.data, 1e-12)
        _close(padded[0].data[n : n + 1, :length], alone[0].data, 1e-12)
        np.testing.assert_array_equal(padded[0].data[n, length:], 0.0)


# ---- gradients --------------------------------------------------------------------------------


def _flat(outputs):
    return F.concat([o.reshape(-1) for o in outputs], axis=0)


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("name", KINDS)
def test_gradcheck_every_input(name, option):
    kind, extra = KINDS[name]
    tensors = _tensors(_arrays(kind, seed=1))
    if extra.get("nonlinearity") == "relu":
        tensors[0].data *= 0.5  # keep pre-activations off relu's kink
    checked = [t for t in tensors if t is not None]

    def fn(*ts):
        it = iter(ts)
        args = [None if t is None else next(it) for t in tensors]
        return _flat(fused(kind, extra, *args, OPTIONS[option]))

    assert gradcheck(fn, checked, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("name", KINDS)
def test_fused_equals_composition_of_primitive_ops(name, option, bias):
    kind, extra = KINDS[name]
    arrays = _arrays(kind, seed=2, bias=bias)
    composed_inputs, fused_inputs = _tensors(arrays), _tensors(arrays)
    composed = reference(kind, extra, TENSOR_OPS, *composed_inputs, OPTIONS[option])
    got = fused(kind, extra, *fused_inputs, OPTIONS[option])
    weights = np.random.default_rng(3)
    loss_composed = loss_fused = 0.0
    for a, b in zip(got, composed, strict=True):
        _close(a.data, b.data, 1e-12)
        g = weights.normal(size=a.shape)
        loss_fused, loss_composed = loss_fused + (a * g).sum(), loss_composed + (b * g).sum()
    loss_fused.backward()
    loss_composed.backward()
    for k, (a, b) in enumerate(zip(fused_inputs, composed_inputs, strict=True)):
        if a is not None:
            _close(a.grad, b.grad, 1e-11)
            assert a.grad.shape == a.shape and a.grad.dtype == a.dtype, f"input {k}"


@pytest.mark.parametrize("name", KINDS)
def test_only_the_needed_gradients_are_computed(name):
    kind, extra = KINDS[name]
    x, h0, c0, *weights = _arrays(kind)
    params = [Tensor(w, requires_grad=True) for w in weights]
    out = fused(kind, extra, x, None, None, *params, {})
    out[1].sum().backward()  # only the final state: the sequence gradient is all zeros
    composed = _tensors([x, None, None, *weights])
    ref = reference(kind, extra, TENSOR_OPS, *composed[:1], np.zeros((N, H)), _c0(kind),
                    *composed[3:], {})  # fmt: skip
    ref[1].sum().backward()
    for p, q in zip(params, composed[3:], strict=True):
        _close(p.grad, q.grad, 1e-11)


def _c0(kind):
    return np.zeros((N, H)) if kind == "lstm" else None


@pytest.mark.parametrize("option", ["plain", "mask_reverse", "mask_carry_outputs"])
@pytest.mark.parametrize("name", KINDS)
def test_gradient_from_a_few_output_steps(name, option):
    """A loss on some outputs only (e.g. the last one) takes the sparse path for dy."""
    kind, extra = KINDS[name]
    arrays = _arrays(kind, seed=6)
    fused_inputs, composed_inputs = _tensors(arrays), _tensors(arrays)
    got = fused(kind, extra, *fused_inputs, OPTIONS[option])[0]
    ref = reference(kind, extra, TENSOR_OPS, *composed_inputs, OPTIONS[option])[0]
    (got[:, -1].sum() * 2.0).backward()
    (ref[:, -1].sum() * 2.0).backward()
    for a, b in zip(fused_inputs, composed_inputs, strict=True):
        if a is not None:
            _close(a.grad, b.grad, 1e-11)


# ---- truncated backpropagation through time -------------------------------------------------


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("name", KINDS)
def test_truncated_bptt_detaches_the_state_every_k_steps(name, reverse):
    kind, extra = KINDS[name]
    options = {"reverse": reverse, "lengths": [4, 3, 2]}
    arrays = _arrays(kind, seed=4)
    grads = {}
    for k in (1, 2, 3, 4, None):
        fused_inputs, composed_inputs = _tensors(arrays), _tensors(arrays)
        got = fused(kind, extra, *fused_inputs, options, bptt_steps=k)
        ref = reference(kind, extra, TENSOR_OPS, *composed_inputs, options, bptt_steps=k)
        weights = np.random.default_rng(5)
        loss_fused = loss_ref = 0.0
        for a, b in zip(got, ref, strict=True):
            _close(a.data, b.data, 1e-12)  # the forward never changes
            g = weights.normal(size=a.shape)
            loss_fused, loss_ref = loss_fused + (a * g).sum(), loss_ref + (b * g).sum()
        loss_fused.backward()
        loss_ref.backward()
        for a, b in zip(fused_inputs, composed_inputs, strict=True):
            if a is not None:
                _close(a.grad, b.grad, 1e-11)
        grads[k] = fused_inputs[3].grad
    _close(grads[4], grads[None], 1e-14)  # chunks as long as the sequence: full BPTT
    assert not np.allclose(grads[1], grads[None])


# ---- errors ---------------------------------------------------------------------------------


def test_bad_inputs_get_clear_errors():
    x, h0, _, w_ih, w_hh, b_ih, b_hh = _arrays("gru")
    with pytest.raises(ValueError, match=r"batch-first input \(N, T, features\)"):
        gru_sequence(x[0], h0, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"needs w_ih \(6, 3\)"):
        gru_sequence(x, h0, w_ih[:, :2], w_hh)
    with pytest.raises(ValueError, match=r"initial states must have shape \(N, H\) = \(3, 2\)"):
        gru_sequence(x, h0[:2], w_ih, w_hh)
    with pytest.raises(ValueError, match=r"lengths must hold 3 integers in \[0, 4\]"):
        gru_sequence(x, h0, w_ih, w_hh, lengths=[5, 1, 1])
    with pytest.raises(ValueError, match=r"mask must have shape \(N, T\) = \(3, 4\)"):
        gru_sequence(x, h0, w_ih, w_hh, mask=np.ones((4, 3), bool))
    with pytest.raises(ValueError, match="either mask or lengths"):
        gru_sequence(x, h0, w_ih, w_hh, mask=MASK, lengths=[1, 1, 1])
    with pytest.raises(ValueError, match="bptt_steps must be a positive integer"):
        gru_sequence(x, h0, w_ih, w_hh, bptt_steps=0)
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        rnn_sequence(x, h0, w_ih[:2], w_hh[:2], nonlinearity="gelu")
    with pytest.raises(ValueError, match="empty sequence"):
        gru_sequence(x[:, :0], h0, w_ih, w_hh)


def test_float32_stays_float32_and_outputs_are_batch_first():
    x, h0, c0, *weights = [None if a is None else a.astype(np.float32) for a in _arrays("lstm")]
    out, h_n, c_n = lstm_sequence(Tensor(x), Tensor(h0), Tensor(c0), *map(Tensor, weights))
    assert out.shape == (N, T, H) and h_n.shape == (N, H) and c_n.shape == (N, H)
    assert {out.dtype, h_n.dtype, c_n.dtype} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(out.data[:, -1], h_n.data)
