"""Scaled dot-product attention as one fused op: scores, masked softmax, dropout and the
weighted sum of values forward, and the softmax backward in closed form."""

import numpy as np

from nnlab.autograd.function import Function, unbroadcast


def masked_softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, in place; a row that is entirely -inf gives zeros.

    PyTorch returns NaN for such a row (0/0). A query that may attend to nothing has no
    information to gather, so zero weights (and therefore a zero output) are the honest
    answer, and they keep NaN out of the gradients of everything upstream.
    """
    row_max = scores.max(axis=axis, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0.0  # fully masked rows: exp(-inf - 0) = 0 everywhere
    scores -= row_max
    np.exp(scores, out=scores)
    total = scores.sum(axis=axis, keepdims=True)
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

    Backward: with P the weights, D the dropout scaling mask and G = (dOut v^T + dWeights) D,
    dScores = P * (G - rowsum(G * P)), dq = scale dScores k, dk = scale dScores^T q,
    dv = (P D)^T dOut. Without a gradient for the weights, rowsum(G * P) = rowsum(dOut * Out),
    a cheaper (L, Ev) product instead of an (L, S) one.

    The scores are kept key-major, (..., S, L), and the softmax runs along axis -2: NumPy
    reduces along a short last axis several times slower than across rows.
    """

    zero_fill_grads = False  # backward gets None for the weights when they got no gradient

    def forward(self, q, k, v, mask=None, scale=1.0, dropout_p=0.0, rng=None):
        scores = k @ np.swapaxes(q, -1, -2)  # (..., S, L)
        scores *= scale
        if mask is not None:
            scores = scores + np.swapaxes(mask, -1, -2)  # may add leading axes
        with np.errstate(invalid="ignore", over="ignore"):
            weights = masked_softmax(scores, axis=-2)
        self.keep = None
        dropped = weights
        if dropout_p > 0.0:
            keep = rng.random(weights.shape, dtype=weights.dtype) >= dropout_p
            self.keep = keep.astype(weights.dtype) / (1.0 - dropout_p)
            dropped = weights * self.keep
        out = np.swapaxes(dropped, -1, -2) @ v
        self.q, self.k, self.v, self.scale = q, k, v, scale
        self.weights, self.dropped, self.out = weights, dropped, out
        return out, np.swapaxes(dropped, -1, -2)

    def backward(self, grads):
        grad_out, grad_weights = grads
        if grad_out is None:  # only the weights were used: the output's gradient is zero
            grad_out = np.zeros_like(self.out)
        q, k, v, weights = self.q, self.k, self.v, self.weights
        grad_v = None
        if self.needs_input_grad[2]:
            grad_v = unbroadcast(self.dropped @ grad_out, v.shape)
        grad_p = v @ np.swapaxes(grad_out, -1, -2)  # (..., S, L), like the scores
        if grad_weights is not None:
            grad_p += np.swapaxes(grad_weights, -1, -2)
        if self.keep is not None:
            grad_p *= self.keep
        if grad_weights is None:
            row_sums = np.sum(grad_out * self.out, axis=-1)[..., None, :]
        else:
            row_sums = np.sum(grad_p * weights, axis=-2, keepdims=True)
        grad_p -= row_sums
        grad_p *= weights
        grad_p *= self.scale
        grad_q = None
        if self.needs_input_grad[0]:
            grad_q = unbroadcast(np.swapaxes(grad_p, -1, -2) @ k, q.shape)
        grad_k = unbroadcast(grad_p @ q, k.shape) if self.needs_input_grad[1] else None
        return grad_q, grad_k, grad_v
