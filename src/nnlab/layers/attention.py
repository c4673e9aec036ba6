"""Keras-style MultiHeadAttention over the same fused attention op as ``nn``."""

import numpy as np

from nnlab import functional as F
from nnlab.autograd.tensor import apply
from nnlab.layers.base import Layer
from nnlab.nn.module import Parameter, register
from nnlab.ops import attention as at


@register
class MultiHeadAttention(Layer):
    """Keras's MultiHeadAttention: ``num_heads`` heads, each projecting the query and key
    to ``key_dim`` and the value to ``value_dim`` features, then an output projection.

    Called as ``layer(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)``; ``key``
    defaults to ``value``. Weights as Keras's (EinsumDense layouts):
    ``query_kernel`` (query_features, num_heads, key_dim), ``query_bias`` (num_heads,
    key_dim), likewise key and value, ``output_kernel`` (num_heads, value_dim, output_dim),
    ``output_bias`` (output_dim,). Defaults as Keras: Glorot-uniform kernels (fans of the
    2-D matrix each kernel acts as), zero biases.

    Args:
        num_heads: attention heads. key_dim: query/key size per head.
        value_dim: value size per head (default key_dim).
        dropout: dropout on the attention scores during training.
        use_bias: biases in the projections.
        output_shape: output features (default: the query's).
        kernel_initializer, bias_initializer: initializer names.

    Shape:
        query (N, T, dq), value (N, S, dv), key (N, S, dk); attention_mask (N, T, S)
        with 1/True where a query may attend -> output (N, T, output_shape) and, if asked,
        scores (N, num_heads, T, S).
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **base,
    ):
        super().__init__(**base)
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout, self.use_bias = float(dropout), bool(use_bias)
        self.output_dim = None if output_shape is None else int(np.prod(output_shape))
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, shapes) -> None:
        query_shape, value_shape, key_shape = shapes
        heads = self.num_heads
        out = self.output_dim or query_shape[-1]
        sizes = {
            "query": (query_shape[-1], self.key_dim),
            "key": (key_shape[-1], self.key_dim),
            "value": (value_shape[-1], self.value_dim),
        }
        for name, (features, per_head) in sizes.items():
            self._add(f"{name}_kernel", (features, heads, per_head), self.kernel_initializer)
            self._add(f"{name}_bias", (heads, per_head), self.bias_initializer, bias=True)
        self._add("output_kernel", (heads, self.value_dim, out), self.kernel_initializer)
        self._add("output_bias", (out,), self.bias_initializer, bias=True)

    def _add(self, name, shape, initializer, bias=False) -> None:
        if bias and not self.use_bias:
            self.register_parameter(name, None)
            return
        # Kernels initialise as the 2-D (inputs, outputs) matrix they act as, so Glorot sees
        # features in and heads * per_head out (output kernel: heads * value_dim in).
        split = len(shape) - 1 if name == "output_kernel" else 1
        flat = shape if bias else (int(np.prod(shape[:split])), int(np.prod(shape[split:])))
        weight = self.make_weight(flat, initializer)
        self.register_parameter(name, Parameter(weight.reshape(shape)))

    def forward(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        query, value = self._as_input(query), self._as_input(value)
        key = value if key is None else self._as_input(key)
        self.ensure_built((tuple(query.shape), tuple(value.shape), tuple(key.shape)))
        q = self._project(query, "query")
        k = self._project(key, "key")
        v = self._project(value, "value")
        mask = self._mask(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
        training = self.training if training is None else training
        out, scores = apply(
            at.ScaledDotProductAttention, q, k, v,
            mask=mask, scale=1.0 / np.sqrt(self.key_dim),
            dropout_p=self.dropout if training else 0.0, rng=self.rng,
        )  # fmt: skip
        n, length = out.shape[0], out.shape[2]
        out = out.transpose(0, 2, 1, 3).reshape(n, length, self.num_heads * self.value_dim)
        kernel = self.output_kernel.reshape(self.num_heads * self.value_dim, -1)
        out = F.matmul(out, kernel)
        if self.output_bias is not None:
            out = out + self.output_bias
        return (out, scores) if return_attention_scores else out

    def _project(self, x, name: str):
        """x (N, T, features) -> (N, heads, T, per_head)."""
        kernel = getattr(self, f"{name}_kernel")
        n, t = x.shape[:2]
        heads, per_head = kernel.shape[1:]
        y = F.matmul(x, kernel.reshape(kernel.shape[0], heads * per_head))
        bias = getattr(self, f"{name}_bias")
        if bias is not None:
            y = y + bias.reshape(heads * per_head)
        return y.reshape(n, t, heads, per_head).transpose(0, 2, 1, 3)

    def _mask(self, attention_mask, causal: bool, length: int, source: int):
        mask = None
        if attention_mask is not None:
            keep = np.asarray(getattr(attention_mask, "data", attention_mask)).astype(bool)
            if keep.ndim == 3:
                keep = keep[:, None]  # one mask for every head
            mask = at.additive_mask(keep, self.dtype, true_blocks=False)
        if causal:
            future = at.causal_mask(length, source, self.dtype)
            mask = future if mask is None else mask + future
        return mask

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_dim,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
        }
