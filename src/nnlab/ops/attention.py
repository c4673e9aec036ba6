"""Scaled dot-product attention as one fused op: scores, masked softmax, dropout and the
weighted sum of values forward, and the softmax backward in closed form."""

import numpy as np

from nnlab.autograd.function import Function, unbroadcast


def masked_softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place; a row that is entirely -inf gives zeros.

    PyTorch returns NaN for such a row (0/0). A query that may attend to nothing has no
    information to gather, so zero weights (and therefore a zero output) are the honest
    answer, and they keep NaN out of the gradients of everything upstream.
    """
    row_max = scores.max(axis=-1, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0.0  # fully masked rows: exp(-inf - 0) = 0 everywhere
    scores -= row_max
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    np.divide(scores, total, out=scores, where=total > 0)
    return scores


def additive_mask(mask, dtype, true_blocks: bool) -> np.ndarray | None:
    """``mask`` as an array to add to attention scores: 0 where attending, -inf where not.

    Boolean masks mean "may attend" (``true_blocks=False``, PyTorch's
    ``scaled_dot_product_attention``) or "blocked" (``true_blocks=True``, PyTorch's
    ``MultiheadAttention`` masks); float masks are added as they are.
    """
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype == np.bool_:
        blocked = mask if true_blocks else ~mask
        return np.where(blocked, -np.inf, 0.0).astype(dtype)
    if not np.issubdtype(mask.dtype, np.floating):
        raise TypeError(
            f"attention masks must be boolean or float, got dtype {mask.dtype}; use a boolean "
            "array (or mask.astype(bool)) for a keep/block mask"
        )
    return mask.astype(dtype, copy=False)


def causal_mask(length: int, source_length: int | None = None, dtype=np.float32) -> np.ndarray:
    """(L, S) additive mask with -inf above the diagonal: position i sees positions <= i."""
    source_length = length if source_length is None else source_length
    future = np.triu(np.ones((length, source_length), dtype=bool), k=1)
    return np.where(future, -np.inf, 0.0).astype(dtype)


class ScaledDotProductAttention(Function):
    """out = dropout(softmax(q k^T * scale + mask)) v; also returns the attention weights.

    Inputs q (..., L, E), k (..., S, E), v (..., S, Ev); leading axes broadcast.
    ``mask`` (a constant, not differentiated) is added to the scores: 0 to keep, -inf to
    block; it broadcasts to (..., L, S). The returned weights are the ones multiplied with
    v, i.e. after dropout, as ``torch.nn.MultiheadAttention`` returns them.

    Backward: with P the weights, D the dropout scaling mask and G = dOut v^T + dWeights,
    dScores = P * (G D - sum(G D * P, axis=-1)), dq = scale dScores k,
    dk = scale dScores^T q, dv = (P D)^T dOut.
    """

    def forward(self, q, k, v, mask=None, scale=1.0, dropout_p=0.0, rng=None):
        scores = q @ np.swapaxes(k, -1, -2)
        scores *= scale
        if mask is not None:
            scores = scores + mask  # may broadcast to more axes than q k^T has
        with np.errstate(invalid="ignore", over="ignore"):
            weights = masked_softmax(scores)
        self.keep = None
        dropped = weights
        if dropout_p > 0.0:
            keep = rng.random(weights.shape, dtype=weights.dtype) >= dropout_p
            self.keep = keep.astype(weights.dtype) / (1.0 - dropout_p)
            dropped = weights * self.keep
        self.q, self.k, self.v, self.scale = q, k, v, scale
        self.weights, self.dropped = weights, dropped
        return dropped @ v, dropped

    def backward(self, grads):
        grad_out, grad_weights = grads
        q, k, v, weights = self.q, self.k, self.v, self.weights
        grad_v = None
        if self.needs_input_grad[2]:
            grad_v = unbroadcast(np.swapaxes(self.dropped, -1, -2) @ grad_out, v.shape)
        grad_p = grad_out @ np.swapaxes(v, -1, -2)
        grad_p += grad_weights
        if self.keep is not None:
            grad_p *= self.keep
        grad_p -= np.sum(grad_p * weights, axis=-1, keepdims=True)
        grad_p *= weights
        grad_p *= self.scale
        grad_q = unbroadcast(grad_p @ k, q.shape) if self.needs_input_grad[0] else None
        grad_k = None
        if self.needs_input_grad[1]:
            grad_k = unbroadcast(np.swapaxes(grad_p, -1, -2) @ q, k.shape)
        return grad_q, grad_k, grad_v
