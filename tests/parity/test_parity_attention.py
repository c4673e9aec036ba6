"""MultiheadAttention and the Transformer layers against PyTorch with weights copied:
outputs, attention weights, input gradients and every parameter gradient, masks included
(float32 to 1e-5, float64 to 1e-10, relative to the largest magnitude compared)."""

import numpy as np
import pytest

from nnlab import Tensor, nn

from oracles import torch_module

TOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]
N, L, S, E, HEADS = 3, 5, 6, 8, 2


def _close(ours, theirs, dtype, what):
    theirs = np.asarray(theirs)
    tol = TOL[dtype]
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


def _copy_weights(ours, theirs, dtype):
    torch = torch_module()
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours.to_dtype(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())


def _masks(length, source, seed=0):
    """A key padding mask (row 0 padded at the end) and a random boolean attention mask
    that leaves every query at least one key."""
    rng = np.random.default_rng(seed)
    padding = np.zeros((N, source), bool)
    padding[0, source - 2 :] = True
    blocked = rng.random((length, source)) < 0.3
    blocked[:, 0] = False
    return padding, blocked


def _run_both(ours, theirs, arrays, ours_kwargs, theirs_kwargs, dtype, self_attention=False):
    """Forward and backward a random projection of every output through both modules
    (``self_attention``: the one array is passed as query, key and value)."""
    torch = torch_module()
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    n_in = [Tensor(a, requires_grad=True) for a in arrays]
    t_args, n_args = (t_in * 3, n_in * 3) if self_attention else (t_in, n_in)
    t_out = theirs(*t_args, **theirs_kwargs)
    n_out = ours(*n_args, **ours_kwargs)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    n_out = n_out if isinstance(n_out, tuple) else (n_out,)
    rng = np.random.default_rng(1)
    t_loss = n_loss = 0.0
    for i, (t, n) in enumerate(zip(t_out, n_out, strict=True)):
        _close(n.data, t.detach().numpy(), dtype, f"output {i}")
        probe = rng.normal(size=n.shape).astype(dtype)
        t_loss = t_loss + (t * torch.tensor(probe)).sum()
        n_loss = n_loss + (n * probe).sum()
    t_loss.backward()
    n_loss.backward()
    for i, (t, n) in enumerate(zip(t_in, n_in, strict=True)):
        _close(n.grad, t.grad.numpy(), dtype, f"gradient of input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        _close(param.grad, theirs_params[name].grad.numpy(), dtype, f"gradient of {name}")


MHA_CASES = {
    "self": ({}, True, {}),
    "cross": ({}, False, {"key_padding_mask": True, "attn_mask": True}),
    "kdim_vdim": ({"kdim": 5, "vdim": 7}, False, {"key_padding_mask": True, "attn_mask": True}),
    "self_masked_per_head": ({}, True, {"per_head_mask": True, "average_attn_weights": False}),
    "no_bias": ({"bias": False}, False, {"key_padding_mask": True}),
    "sequence_first": ({"batch_first": False}, False, {"attn_mask": True}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case, dtype):
    torch = torch_module()
    kwargs, same, call = MHA_CASES[case]
    torch.manual_seed(0)
    batch_first = kwargs.get("batch_first", True)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **{"batch_first": True, **kwargs})
    ours = nn.MultiheadAttention(E, HEADS, **kwargs)
    _copy_weights(ours, theirs, dtype)
    source = L if same else S
    rng = np.random.default_rng(2)
    shapes = [(N, L, E), (N, source, kwargs.get("kdim", E)), (N, source, kwargs.get("vdim", E))]
    arrays = [rng.normal(size=s).astype(dtype) for s in shapes]
    if not batch_first:
        arrays = [a.transpose(1, 0, 2).copy() for a in arrays]
    padding, blocked = _masks(L, source)
    ours_kw = {"average_attn_weights": call.get("average_attn_weights", True)}
    if call.get("key_padding_mask"):
        ours_kw["key_padding_mask"] = padding
    if call.get("attn_mask"):
        ours_kw["attn_mask"] = blocked
    if call.get("per_head_mask"):
        per_head = np.random.default_rng(3).normal(size=(N * HEADS, L, source)).astype(dtype)
        ours_kw["attn_mask"] = per_head
    theirs_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in ours_kw.items()}
    _run_both(ours, theirs, arrays[:1] if same else arrays, ours_kw, theirs_kw, dtype, same)


def test_multihead_attention_unbatched_input_matches_torch():
    torch = torch_module()
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, batch_first=True)
    ours = nn.MultiheadAttention(E, HEADS)
    _copy_weights(ours, theirs, np.float64)
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=(L, E)), rng.normal(size=(S, E)), rng.normal(size=(S, E))]
    _run_both(ours, theirs, arrays, {}, {}, np.float64)


LAYER_CASES = [
    ("relu", False),
    ("gelu", False),
    ("relu", True),
    ("gelu", True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation,norm_first", LAYER_CASES)
def test_encoder_layer_matches_torch(activation, norm_first, dtype):
    torch = torch_module()
    torch.manual_seed(0)
    args = dict(dim_feedforward=16, dropout=0.0, activation=activation, norm_first=norm_first)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, batch_first=True, **args)
    ours = nn.TransformerEncoderLayer(E, HEADS, **args)
    _copy_weights(ours, theirs, dtype)
    padding, _ = _masks(L, L)
    causal = nn.generate_square_subsequent_mask(L, dtype)
    x = np.random.default_rng(5).normal(size=(N, L, E)).astype(dtype)
    kw = {"src_mask": causal, "src_key_padding_mask": padding.astype(dtype) * -1e9}
    t_kw = {k: torch.tensor(v) for k, v in kw.items()}
    _run_both(ours, theirs, [x], kw, t_kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation,norm_first", LAYER_CASES)
def test_decoder_layer_matches_torch(activation, norm_first, dtype):
    torch = torch_module()
    torch.manual_seed(0)
    args = dict(dim_feedforward=16, dropout=0.0, activation=activation, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(E, HEADS, batch_first=True, **args)
    ours = nn.TransformerDecoderLayer(E, HEADS, **args)
    _copy_weights(ours, theirs, dtype)
    tgt_padding, _ = _masks(L, L)
    memory_padding, memory_blocked = _masks(L, S, seed=6)
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=(N, L, E)).astype(dtype), rng.normal(size=(N, S, E)).astype(dtype)]
    kw = {
        "tgt_mask": nn.generate_square_subsequent_mask(L, dtype),
        "memory_mask": np.where(memory_blocked, -np.inf, 0.0).astype(dtype),
        "tgt_key_padding_mask": np.where(tgt_padding, -np.inf, 0.0).astype(dtype),
        "memory_key_padding_mask": np.where(memory_padding, -np.inf, 0.0).astype(dtype),
    }
    t_kw = {k: torch.tensor(v) for k, v in kw.items()}
    _run_both(ours, theirs, arrays, kw, t_kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_full_transformer_matches_torch(dtype):
    torch = torch_module()
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(E, HEADS, 2, 2, 16, dropout=0.0, batch_first=True)
    ours = nn.Transformer(E, HEADS, 2, 2, 16, dropout=0.0)
    _copy_weights(ours, theirs, dtype)
    rng = np.random.default_rng(8)
    arrays = [rng.normal(size=(N, S, E)).astype(dtype), rng.normal(size=(N, L, E)).astype(dtype)]
    kw = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L, dtype)}
    _run_both(ours, theirs, arrays, kw, {"tgt_mask": torch.tensor(kw["tgt_mask"])}, dtype)
