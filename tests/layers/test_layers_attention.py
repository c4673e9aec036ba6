"""Keras-style MultiHeadAttention against a NumPy computation written from Keras's
definition (EinsumDense projections, scaled scores, masked softmax, output projection)."""

import numpy as np
import pytest

from nnlab import Tensor, gradcheck, layers


def keras_reference(layer, query, value, key, keep=None):
    def project(x, name):
        kernel = getattr(layer, f"{name}_kernel").data
        bias = getattr(layer, f"{name}_bias")
        y = np.einsum("ntf,fhd->nhtd", x, kernel)
        return y if bias is None else y + bias.data[None, :, None, :]

    q = project(query, "query") / np.sqrt(layer.key_dim)
    k, v = project(key, "key"), project(value, "value")
    scores = np.einsum("nhtd,nhsd->nhts", q, k)
    if keep is not None:
        scores = np.where(keep[:, None], scores, -np.inf)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
    heads = np.einsum("nhts,nhsd->nhtd", scores, v)
    out = np.einsum("nhtd,hdo->nto", heads, layer.output_kernel.data)
    if layer.output_bias is not None:
        out = out + layer.output_bias.data
    return out, scores


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 7))


@pytest.mark.parametrize("use_bias", [True, False])
def test_matches_the_keras_definition_with_separate_key_and_value(use_bias):
    query, value, key = _inputs()
    layer = layers.MultiHeadAttention(3, key_dim=4, value_dim=2, use_bias=use_bias, dtype="float64")
    out, scores = layer(query, value, key, return_attention_scores=True)
    assert layer.query_kernel.shape == (6, 3, 4) and layer.value_kernel.shape == (3, 3, 2)
    assert layer.output_kernel.shape == (3, 2, 6)
    want_out, want_scores = keras_reference(layer, query, value, key)
    np.testing.assert_allclose(out.data, want_out, rtol=1e-10)
    np.testing.assert_allclose(scores.data, want_scores, rtol=1e-10)


def test_attention_mask_keeps_ones_and_causal_mask_adds_the_future():
    query, value, key = _inputs(1)
    keep = np.random.default_rng(2).random((2, 4, 5)) > 0.4
    keep[..., 0] = True
    layer = layers.MultiHeadAttention(2, key_dim=3, dtype="float64", output_shape=5)
    out, scores = layer(query, value, key, attention_mask=keep, return_attention_scores=True)
    assert out.shape == (2, 4, 5)
    want_out, _ = keras_reference(layer, query, value, key, keep)
    np.testing.assert_allclose(out.data, want_out, rtol=1e-10)
    assert np.all(scores.data[np.broadcast_to(~keep[:, None], scores.shape)] == 0)
    _, causal = layer(query, value, key, use_causal_mask=True, return_attention_scores=True)
    assert np.all(causal.data[..., np.triu(np.ones((4, 5), bool), 1)] == 0)


def test_gradients_match_finite_differences():
    query, value, key = (Tensor(a, requires_grad=True) for a in _inputs(3))
    layer = layers.MultiHeadAttention(2, key_dim=3, dtype="float64")
    layer(query, value, key)
    assert gradcheck(lambda q, v, k: layer(q, v, k), [query, value, key])
    out = layer(query, value, key)
    out.sum().backward()
    assert all(p.grad is not None and np.any(p.grad != 0) for p in layer.parameters())


def test_self_attention_dropout_and_config():
    x = _inputs()[0].astype(np.float32)
    layer = layers.MultiHeadAttention(2, key_dim=4, dropout=0.5, rng=0)
    np.testing.assert_array_equal(
        layer(x, x, training=False).data, layer(x, x, training=False).data
    )
    assert not np.allclose(layer(x, x, training=True).data, layer(x, x, training=False).data)
    rebuilt = layers.MultiHeadAttention.from_config(layer.get_config())
    assert rebuilt.get_config()["key_dim"] == 4 and rebuilt.get_config()["dropout"] == 0.5
