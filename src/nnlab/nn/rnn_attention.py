"""Attention for RNN encoder-decoders: a query (the decoder state) scores every key (the
encoder outputs) additively (Bahdanau et al., 2015) or multiplicatively (Luong et al.,
2015); the context is the softmax-weighted sum of the keys."""

import numpy as np

from nnlab import functional as F
from nnlab.nn.linear import Linear
from nnlab.nn.module import Module


class AdditiveAttention(Module):
    """Bahdanau's additive attention: e_j = v^T tanh(W_q q + W_k k_j + b), weights =
    softmax over the real source positions, context = sum_j weights_j k_j.

    Args:
        query_size, key_size: sizes of the query (decoder state) and of the keys.
        units: size of the hidden layer of the scoring network.
        rng: Generator or seed for the initial weights. dtype: parameter dtype.

    Shape:
        query (N, Q), keys (N, S, K), mask (N, S) bool (True = real position, or None)
        -> context (N, K), weights (N, S).
    """

    def __init__(self, query_size, key_size, units, *, rng=None, dtype=None):
        super().__init__()
        self.query_proj = Linear(query_size, units, bias=False, rng=rng, dtype=dtype)
        self.key_proj = Linear(key_size, units, rng=rng, dtype=dtype)
        self.v = Linear(units, 1, bias=False, rng=rng, dtype=dtype)

    def project_keys(self, keys):
        """W_k k_j + b for every key: computed once per source, reused at every step."""
        return self.key_proj(keys)

    def forward(self, query, keys, mask=None, projected=None):
        projected = self.project_keys(keys) if projected is None else projected
        hidden = F.tanh(projected + F.unsqueeze(self.query_proj(query), 1))
        scores = self.v(hidden)
        return _attend(scores.reshape(*scores.shape[:2]), keys, mask)


class MultiplicativeAttention(Module):
    """Luong's multiplicative attention: e_j = q^T W k_j ('general') or q^T k_j ('dot'),
    weights = softmax over the real source positions, context = sum_j weights_j k_j.

    Args:
        query_size, key_size: sizes of the query and of the keys (equal for 'dot').
        score: 'general' or 'dot'.
        rng: Generator or seed for the initial weights. dtype: parameter dtype.

    Shape: as ``AdditiveAttention``.
    """

    def __init__(self, query_size, key_size, score="general", *, rng=None, dtype=None):
        super().__init__()
        if score not in ("general", "dot"):
            raise ValueError(f"score must be 'general' or 'dot', got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"'dot' attention needs query_size == key_size, got {query_size} and "
                f"{key_size}; use score='general'"
            )
        self.score = score
        if score == "general":
            self.weight_proj = Linear(key_size, query_size, bias=False, rng=rng, dtype=dtype)

    def project_keys(self, keys):
        """W k_j for every key ('general'; the keys themselves for 'dot')."""
        return self.weight_proj(keys) if self.score == "general" else keys

    def forward(self, query, keys, mask=None, projected=None):
        projected = self.project_keys(keys) if projected is None else projected
        scores = F.matmul(projected, F.unsqueeze(query, 2))
        return _attend(scores.reshape(*scores.shape[:2]), keys, mask)


def _attend(scores, keys, mask):
    """Softmax of scores (N, S) over the unmasked positions; (context (N, K), weights)."""
    if mask is not None:
        scores = F.where(np.asarray(mask), scores, -1e9)  # exp(-1e9 - max) is exactly 0
    weights = F.softmax(scores, axis=-1)
    context = F.matmul(F.unsqueeze(weights, 1), keys)
    return context.reshape(context.shape[0], context.shape[2]), weights
