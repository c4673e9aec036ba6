"""The fused scaled dot-product attention op: NumPy reference, float64 gradient checks,
the same computation from primitives, masks, fully masked rows, dropout, and PyTorch's
``scaled_dot_product_attention``."""

import numpy as np
import pytest

from nnlab import Tensor, gradcheck
from nnlab import functional as F
from nnlab.ops.attention import additive_mask, causal_mask

from oracles import random_inputs, torch_module

SHAPES = [
    ((4, 3), (5, 3), (5, 2)),  # unbatched
    ((2, 4, 3), (2, 5, 3), (2, 5, 3)),
    ((2, 3, 4, 3), (2, 3, 6, 3), (2, 3, 6, 4)),  # batch and heads
    ((2, 1, 4, 3), (1, 3, 5, 3), (1, 3, 5, 2)),  # broadcast batch axes
    ((3, 1, 3), (3, 7, 3), (3, 7, 5)),  # one query
]


def reference(q, k, v, mask=None, scale=None):
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        scores = scores + mask
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return weights @ v, weights


@pytest.mark.parametrize("shapes", SHAPES)
def test_forward_matches_numpy_in_both_dtypes(shapes):
    q, k, v = random_inputs(shapes)
    want_out, want_w = reference(q, k, v)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        out, w = F.scaled_dot_product_attention(*(Tensor(a.astype(dtype)) for a in (q, k, v)))
        assert out.dtype == dtype and w.dtype == dtype
        np.testing.assert_allclose(out.data, want_out, rtol=tol, atol=tol)
        np.testing.assert_allclose(w.data, want_w, rtol=tol, atol=tol)


@pytest.mark.parametrize("shapes", SHAPES)
def test_gradients_of_output_and_weights_match_finite_differences(shapes):
    arrays = random_inputs(shapes, seed=1)
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    probe = np.random.default_rng(2)

    def both_outputs(q, k, v):
        out, w = F.scaled_dot_product_attention(q, k, v)
        # random weights make every element of both outputs count in the scalar
        return (out * probe_out).sum() + (w * probe_w).sum()

    out, w = F.scaled_dot_product_attention(*arrays)
    probe_out, probe_w = probe.normal(size=out.shape), probe.normal(size=w.shape)
    assert gradcheck(both_outputs, tensors)


@pytest.mark.parametrize("used", ["output", "weights"])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_gradients_when_only_one_output_is_used(used, dropout):
    arrays = random_inputs(((2, 3, 4), (2, 5, 4), (2, 5, 3)), seed=9)
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    probe = np.random.default_rng(10).normal(size=(2, 3, 5 if used == "weights" else 3))

    def one_output(q, k, v):
        # a fixed seed: finite differences see the same dropout mask as backward
        out, w = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, rng=11)
        return ((w if used == "weights" else out) * probe).sum()

    assert gradcheck(one_output, tensors)


def test_masked_gradients_match_finite_differences():
    q, k, v = random_inputs(((2, 4, 3), (2, 5, 3), (2, 5, 2)), seed=3)
    keep = np.random.default_rng(4).random((2, 4, 5)) > 0.4
    keep[..., 0] = True
    tensors = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    assert gradcheck(lambda *t: F.scaled_dot_product_attention(*t, attn_mask=keep)[0], tensors)


def test_fused_op_equals_composition_from_primitives():
    q, k, v = (Tensor(a, requires_grad=True) for a in random_inputs(((2, 4, 3),) * 3, seed=5))
    mask = causal_mask(4, dtype=np.float64)
    out, _ = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    (out * out).sum().backward()
    fused = [t.grad.copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    scores = F.matmul(q, k.transpose(0, 2, 1)) * (1 / np.sqrt(3)) + mask
    composed = F.matmul(F.softmax(scores, axis=-1), v)
    (composed * composed).sum().backward()
    np.testing.assert_allclose(out.data, composed.data, rtol=1e-12)
    for got, t in zip(fused, (q, k, v), strict=True):
        np.testing.assert_allclose(got, t.grad, rtol=1e-10, atol=1e-12)


def test_causal_mask_blocks_the_future_top_left_aligned():
    mask = causal_mask(3, 4)
    assert np.array_equal(np.isinf(mask), np.triu(np.ones((3, 4), bool), k=1))
    q, k, v = random_inputs(((1, 3, 2), (1, 4, 2), (1, 4, 2)))
    _, w = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert np.all(w.data[0][np.triu(np.ones((3, 4), bool), k=1)] == 0)
    np.testing.assert_allclose(w.data.sum(-1), 1.0)


def test_fully_masked_row_gives_zero_output_and_finite_gradients():
    q, k, v = (Tensor(a, requires_grad=True) for a in random_inputs(((1, 2, 3),) * 3, seed=6))
    keep = np.array([[[True, True], [False, False]]])
    out, w = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert np.all(w.data[0, 1] == 0) and np.all(out.data[0, 1] == 0)
    np.testing.assert_allclose(w.data[0, 0].sum(), 1.0)
    out.sum().backward()
    assert all(np.isfinite(t.grad).all() for t in (q, k, v))


def test_additive_mask_conventions_and_errors():
    keep = np.array([True, False])
    assert list(additive_mask(keep, np.float32, true_blocks=False)) == [0.0, -np.inf]
    assert list(additive_mask(keep, np.float32, true_blocks=True)) == [-np.inf, 0.0]
    assert additive_mask(np.array([0.5, -1.0]), np.float32, True).dtype == np.float32
    with pytest.raises(TypeError, match="boolean or float"):
        additive_mask(np.array([1, 0]), np.float32, true_blocks=True)


def test_dropout_is_seeded_scaled_and_used_consistently_in_backward():
    q, k, v = (Tensor(a, requires_grad=True) for a in random_inputs(((2, 5, 4),) * 3, seed=7))
    out_a, w_a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=0)
    out_b, w_b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=0)
    np.testing.assert_array_equal(w_a.data, w_b.data)
    _, plain = F.scaled_dot_product_attention(q, k, v)
    kept = w_a.data != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(w_a.data[kept], 2 * plain.data[kept])  # survivors scaled 1/(1-p)
    np.testing.assert_allclose(out_a.data, w_a.data @ v.data)
    out_a.sum().backward()
    np.testing.assert_allclose(v.grad, np.swapaxes(w_a.data, -1, -2) @ np.ones_like(out_a.data))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "causal"])
def test_matches_torch_scaled_dot_product_attention(dtype, mask_kind):
    torch = torch_module()
    q, k, v = (a.astype(dtype) for a in random_inputs(((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5))))
    rng = np.random.default_rng(8)
    mask = {
        "none": None,
        "bool": rng.random((4, 6)) > 0.3,
        "float": rng.normal(size=(2, 1, 4, 6)).astype(dtype),
        "causal": None,
    }[mask_kind]
    causal = mask_kind == "causal"
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    t_mask = None if mask is None else torch.tensor(mask)
    expected = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=t_mask, is_causal=causal, scale=0.3
    )
    ours = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    out, _ = F.scaled_dot_product_attention(*ours, attn_mask=mask, is_causal=causal, scale=0.3)
    grad = rng.normal(size=out.shape).astype(dtype)
    expected.backward(torch.tensor(grad))
    out.backward(grad)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=tol, atol=tol)
    for t, theirs in zip(ours, (tq, tk, tv), strict=True):
        np.testing.assert_allclose(t.grad, theirs.grad.numpy(), rtol=tol, atol=tol)
