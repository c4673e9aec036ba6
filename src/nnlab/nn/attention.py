"""MultiheadAttention: scaled dot-product attention over several learned projections, as
``torch.nn.MultiheadAttention`` (same arguments, masks and parameter names)."""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.autograd.tensor import Tensor, apply
from nnlab.nn import init
from nnlab.nn.linear import Linear
from nnlab.nn.module import Module, Parameter, register
from nnlab.ops import attention as at


@register
class MultiheadAttention(Module):
    """Attend from queries to keys/values with ``num_heads`` heads of size
    embed_dim / num_heads: head_i = softmax(Q_i K_i^T / sqrt(d) + mask) V_i, then
    out = concat(head_1..head_h) W_o^T + b_o.

    Args:
        embed_dim: model width E (query size and output size).
        num_heads: heads; must divide embed_dim.
        dropout: dropout on the attention weights during training.
        bias: learn the input-projection and output biases.
        kdim, vdim: key and value sizes (default embed_dim). When either differs from
            embed_dim the projections are separate parameters ``q_proj_weight``,
            ``k_proj_weight``, ``v_proj_weight``; otherwise one ``in_proj_weight`` (3E, E).
        batch_first: inputs are (N, L, E) (default True, unlike PyTorch's False).
        rng: Generator or seed for the initial weights and the dropout masks.
        dtype: parameter dtype (default: the library's).

    Initialization (PyTorch's): Xavier-uniform input projections, zero biases, the output
    projection as ``Linear``'s weight.

    Shape:
        query (N, L, E), key (N, S, kdim), value (N, S, vdim) (or unbatched (L, E), ...)
        -> output (N, L, E) and weights (N, L, S) averaged over heads, or
        (N, num_heads, L, S) with ``average_attn_weights=False``.

    Set ``record_weights = True`` to keep every call's per-head weights (N, heads, L, S) as
    the NumPy array ``last_weights``, even when the caller passes ``need_weights=False``, as
    the Transformer layers do: that is how attention heatmaps are drawn.
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        kdim=None,
        vdim=None,
        batch_first=True,
        *,
        rng=None,
        dtype=None,
    ):
        super().__init__()
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        if self.num_heads < 1 or self.embed_dim % self.num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim={embed_dim} must be divisible by "
                f"num_heads={num_heads}; choose num_heads among the divisors of {embed_dim}"
            )
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self._rng = rng
        self.rng = backend.layer_generator(rng)
        self.record_weights, self.last_weights = False, None
        self._make_parameters(bool(bias), np.dtype(dtype or backend.default_dtype()))
        self.reset_parameters()

    def _make_parameters(self, bias: bool, dtype) -> None:
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((E, E), dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, rng=self._rng)

    def reset_parameters(self, rng=None) -> None:
        """Xavier-uniform input projections, zero biases, ``Linear``'s init for out_proj."""
        gen = backend.get_generator(rng if rng is not None else self._rng)
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            weight = getattr(self, name)
            if weight is not None:
                weight.data = init.xavier_uniform(weight.shape, gen, weight.dtype)
        self.out_proj.reset_parameters(gen)
        for bias in (self.in_proj_bias, self.out_proj.bias):
            if bias is not None:
                bias.data = init.zeros(bias.shape, dtype=bias.dtype)

    # ---- forward ----------------------------------------------------------------------------
    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        unbatched = np.ndim(query) == 2
        q, k, v = (self._batch_first(t, unbatched) for t in (query, key, value))
        self._check_shapes(q, k, v)
        n, length, source = q.shape[0], q.shape[1], k.shape[1]
        q, k, v = self._project(q, k, v, same=query is key and key is value)
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, length, source, q.dtype)
        p = self.dropout if self.training else 0.0
        out, weights = apply(
            at.ScaledDotProductAttention, q, k, v,
            mask=mask, scale=1.0 / np.sqrt(self.head_dim), dropout_p=p, rng=self.rng,
        )  # fmt: skip
        if self.record_weights:
            self.last_weights = weights.data.copy()
        out = self.out_proj(out.transpose(0, 2, 1, 3).reshape(n, length, self.embed_dim))
        out = self._restore_layout(out, unbatched)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights[0] if unbatched else weights)

    def _batch_first(self, x, unbatched: bool) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, self.out_proj.weight.dtype))
        if unbatched:
            return x.reshape(1, *x.shape)
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _restore_layout(self, out: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return out.reshape(*out.shape[1:])
        return out if self.batch_first else out.transpose(1, 0, 2)

    def _check_shapes(self, q, k, v) -> None:
        expected = (("query", q, self.embed_dim), ("key", k, self.kdim), ("value", v, self.vdim))
        for name, x, size in expected:
            if x.ndim != 3 or x.shape[-1] != size:
                layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
                raise ValueError(
                    f"MultiheadAttention expects {name} of shape {layout} with last size "
                    f"{size}, got {tuple(x.shape)}"
                )
        if k.shape[:2] != v.shape[:2] or k.shape[0] != q.shape[0]:
            raise ValueError(
                f"MultiheadAttention: key {tuple(k.shape)} and value {tuple(v.shape)} need the "
                f"same batch and length, and the batch of query {tuple(q.shape)}"
            )

    def _project(self, q, k, v, same: bool):
        """The three input projections, split into heads (N, heads, T, head_dim)."""
        E, b = self.embed_dim, self.in_proj_bias
        biases = (None,) * 3 if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim and same:
            n, t = q.shape[:2]
            qkv = F.linear(q, self.in_proj_weight, b).reshape(
                n, t, 3, self.num_heads, self.head_dim
            )
            return F.unbind(qkv.transpose(2, 0, 3, 1, 4))
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:E], w[E : 2 * E], w[2 * E :])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        inputs = zip((q, k, v), weights, biases, strict=True)
        return tuple(self._heads(F.linear(x, w, bias)) for x, w, bias in inputs)

    def _heads(self, x: Tensor) -> Tensor:
        n, t = x.shape[:2]
        return x.reshape(n, t, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _mask(self, attn_mask, key_padding_mask, is_causal, n, length, source, dtype):
        """One additive mask broadcasting to the scores (N, heads, L, S), or None."""
        mask = at.additive_mask(_array(attn_mask), dtype, true_blocks=True)
        if mask is None and is_causal:
            mask = at.causal_mask(length, source, dtype)
        if mask is not None:
            mask = _attn_mask_4d(mask, n, self.num_heads, length, source)
        padding = at.additive_mask(_array(key_padding_mask), dtype, true_blocks=True)
        if padding is not None:
            if padding.shape != (n, source):
                raise ValueError(
                    f"key_padding_mask must have shape (N, S) = {(n, source)}, got {padding.shape}"
                )
            padding = padding[:, None, None, :]
            mask = padding if mask is None else mask + padding
        return mask

    def get_config(self) -> dict:
        return {
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "bias": self.in_proj_bias is not None,
            "kdim": self.kdim,
            "vdim": self.vdim,
            "batch_first": self.batch_first,
            "dtype": self.out_proj.weight.dtype.name,
        }

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


def _array(mask):
    return mask.data if isinstance(mask, Tensor) else mask


def _attn_mask_4d(mask: np.ndarray, n: int, heads: int, length: int, source: int) -> np.ndarray:
    """PyTorch's attn_mask layouts, (L, S) shared or (N * heads, L, S) per head, as a mask
    broadcasting to (N, heads, L, S)."""
    if mask.shape == (length, source):
        return mask
    if mask.shape == (n * heads, length, source):
        return mask.reshape(n, heads, length, source)
    raise ValueError(
        f"attn_mask must have shape (L, S) = {(length, source)} or (N * num_heads, L, S) = "
        f"{(n * heads, length, source)}, got {mask.shape}"
    )
