"""Transformer encoder and decoder layers, their stacks and the full encoder-decoder, as
``torch.nn.Transformer*`` (same arguments, sub-module and parameter names; batch first)."""

import copy

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.nn import init
from nnlab.nn.attention import MultiheadAttention
from nnlab.nn.container import ModuleList
from nnlab.nn.dropout import Dropout
from nnlab.nn.linear import Linear
from nnlab.nn.module import Module, module_config, module_from_config, register
from nnlab.nn.norm import LayerNorm
from nnlab.ops.attention import causal_mask

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def generate_square_subsequent_mask(size: int, dtype=np.float32) -> np.ndarray:
    """(size, size) float mask, -inf above the diagonal and 0 elsewhere: a causal mask."""
    return causal_mask(size, size, dtype)


class _Block(Module):
    """What the encoder and decoder layers share: their arguments and sub-modules (the
    decoder adds the cross-attention ``multihead_attn`` and a third norm/dropout pair), the
    feed-forward sub-block, the residual wiring of pre- and post-norm layers, the config."""

    _sublayers = 2  # residual sub-blocks: attention(s) and the feed-forward network
    _cross_attention = False

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=True,
        norm_first=False,
        bias=True,
        *,
        rng=None,
    ):
        super().__init__()
        self._check_arguments(batch_first, activation)
        rng = backend.layer_generator(rng)  # one stream for every sub-layer
        self._config = {
            "d_model": int(d_model),
            "nhead": int(nhead),
            "dim_feedforward": int(dim_feedforward),
            "dropout": float(dropout),
            "activation": activation,
            "layer_norm_eps": float(layer_norm_eps),
            "batch_first": True,
            "norm_first": bool(norm_first),
            "bias": bool(bias),
        }
        self.activation = _ACTIVATIONS[activation]
        # Created in PyTorch's order, so state dicts list the same keys in the same order.
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, rng=rng)
        if self._cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout, bias, rng=rng)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=rng)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=rng)
        self.norm_first = bool(norm_first)
        for i in range(1, self._sublayers + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, layer_norm_eps, bias=bias))
        for i in range(1, self._sublayers + 1):
            setattr(self, f"dropout{i}", Dropout(dropout, rng=rng))

    def _check_arguments(self, batch_first: bool, activation) -> None:
        if not batch_first:
            raise ValueError(
                f"{type(self).__name__} supports batch_first=True only: pass sequences as "
                "(N, T, d_model), e.g. x.transpose(1, 0, 2) for (T, N, d_model) data"
            )
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"{type(self).__name__}: activation must be one of {sorted(_ACTIVATIONS)}, "
                f"got {activation!r}"
            )

    def _ff_block(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _sublayer(self, x, norm, block, dropout):
        """x + dropout(block(norm(x))) pre-norm, norm(x + dropout(block(x))) post-norm."""
        if self.norm_first:
            return x + dropout(block(norm(x)))
        return norm(x + dropout(block(x)))

    def get_config(self) -> dict:
        return {**self._config, "norm_first": self.norm_first}


@register
class TransformerEncoderLayer(_Block):
    """Self-attention then a position-wise feed-forward network, each wrapped in a residual
    connection with layer normalisation (after the residual, or before the sub-block when
    ``norm_first``), as Vaswani et al. (2017).

    Args:
        d_model: model width. nhead: attention heads (must divide d_model).
        dim_feedforward: hidden width of the feed-forward network (default 2048).
        dropout: on the attention weights and after each sub-block (default 0.1).
        activation: 'relu' or 'gelu'. layer_norm_eps: LayerNorm's eps.
        batch_first: must be True (sequences (N, T, d_model)).
        norm_first: pre-norm (True) or post-norm (False, the original and PyTorch's default).
        bias: biases in the linear layers and layer norms.
        rng: Generator or seed for the initial weights and the dropout masks.

    Shape:
        src (N, S, d_model) -> (N, S, d_model). src_mask (S, S) or (N * nhead, S, S),
        src_key_padding_mask (N, S): as ``MultiheadAttention`` (True = blocked).
    """

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        def attend(x):
            return self.self_attn(
                x, x, x, src_key_padding_mask, False, src_mask, is_causal=is_causal
            )[0]

        x = self._sublayer(src, self.norm1, attend, self.dropout1)
        return self._sublayer(x, self.norm2, self._ff_block, self.dropout2)


@register
class TransformerDecoderLayer(_Block):
    """Masked self-attention, cross-attention to the encoder's output (``memory``), then the
    feed-forward network, each with a residual connection and layer normalisation.

    Args: as ``TransformerEncoderLayer``.

    Shape:
        tgt (N, T, d_model), memory (N, S, d_model) -> (N, T, d_model). tgt_mask (T, T),
        memory_mask (T, S), tgt_key_padding_mask (N, T), memory_key_padding_mask (N, S).
        ``multihead_attn`` is the cross-attention (set its ``record_weights`` for heatmaps).
    """

    _sublayers = 3
    _cross_attention = True

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        def attend_self(x):
            return self.self_attn(
                x, x, x, tgt_key_padding_mask, False, tgt_mask, is_causal=tgt_is_causal
            )[0]

        def attend_memory(x):
            return self.multihead_attn(
                x,
                memory,
                memory,
                memory_key_padding_mask,
                False,
                memory_mask,
                is_causal=memory_is_causal,
            )[0]

        x = self._sublayer(tgt, self.norm1, attend_self, self.dropout1)
        x = self._sublayer(x, self.norm2, attend_memory, self.dropout2)
        return self._sublayer(x, self.norm3, self._ff_block, self.dropout3)


class _Stack(Module):
    """``num_layers`` deep copies of one layer (as PyTorch: they start with equal weights),
    with an optional final normalisation."""

    def __init__(self, layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([_independent_copy(layer) for _ in range(int(num_layers))])
        self.num_layers = int(num_layers)
        self.norm = norm

    def _finish(self, x):
        return x if self.norm is None else self.norm(x)

    def get_config(self) -> dict:
        return {
            "layer": module_config(self.layers[0]),
            "num_layers": self.num_layers,
            "norm": None if self.norm is None else module_config(self.norm),
        }

    @classmethod
    def from_config(cls, config: dict):
        norm = config["norm"]
        return cls(
            module_from_config(config["layer"]),
            config["num_layers"],
            None if norm is None else module_from_config(norm),
        )


@register
class TransformerEncoder(_Stack):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (then ``norm`` if given).

    Shape: src (N, S, d_model) -> (N, S, d_model); masks as ``TransformerEncoderLayer``.
    """

    def __init__(self, encoder_layer, num_layers, norm=None):
        super().__init__(encoder_layer, num_layers, norm)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=False):
        for layer in self.layers:
            src = layer(src, mask, src_key_padding_mask, is_causal)
        return self._finish(src)


@register
class TransformerDecoder(_Stack):
    """A stack of ``num_layers`` copies of ``decoder_layer`` (then ``norm`` if given), each
    attending to the same ``memory``.

    Shape: tgt (N, T, d_model), memory (N, S, d_model) -> (N, T, d_model).
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__(decoder_layer, num_layers, norm)

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        masks = (tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)
        for layer in self.layers:
            tgt = layer(tgt, memory, *masks, tgt_is_causal, memory_is_causal)
        return self._finish(tgt)


@register
class Transformer(Module):
    """The encoder-decoder Transformer: ``encoder`` (with a final LayerNorm) over the
    source, ``decoder`` (with a final LayerNorm) over the target attending to it. Every
    weight matrix is re-drawn Xavier-uniform, as PyTorch does.

    Shape: src (N, S, d_model), tgt (N, T, d_model) -> (N, T, d_model).
    """

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def __init__(
        self,
        d_model=512,
        nhead=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=True,
        norm_first=False,
        bias=True,
        *,
        rng=None,
    ):
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps)
        layer_args += (batch_first, norm_first, bias)
        rng = backend.layer_generator(rng)  # one stream for every sub-layer
        self.encoder = TransformerEncoder(
            TransformerEncoderLayer(*layer_args, rng=rng),
            num_encoder_layers,
            LayerNorm(d_model, layer_norm_eps, bias=bias),
        )
        self.decoder = TransformerDecoder(
            TransformerDecoderLayer(*layer_args, rng=rng),
            num_decoder_layers,
            LayerNorm(d_model, layer_norm_eps, bias=bias),
        )
        self.d_model, self.nhead = int(d_model), int(nhead)
        self._config = {
            "d_model": self.d_model,
            "nhead": self.nhead,
            "num_encoder_layers": int(num_encoder_layers),
            "num_decoder_layers": int(num_decoder_layers),
            **self.encoder.layers[0].get_config(),
        }
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        """Xavier-uniform for every parameter with two or more dimensions."""
        rng = backend.get_generator(rng)
        for param in self.parameters():
            if param.ndim > 1:
                param.data = init.xavier_uniform(param.shape, rng, param.dtype)

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=False,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        memory = self.encoder(src, src_mask, src_key_padding_mask, src_is_causal)
        return self.decoder(
            tgt,
            memory,
            tgt_mask,
            memory_mask,
            tgt_key_padding_mask,
            memory_key_padding_mask,
            tgt_is_causal,
            memory_is_causal,
        )

    def get_config(self) -> dict:
        return dict(self._config)


def _independent_copy(module: Module) -> Module:
    """A deep copy whose dropout Generators are fresh children, so copied layers do not
    draw identical masks."""
    clone = copy.deepcopy(module)
    for original, sub in zip(module.modules(), clone.modules(), strict=True):
        if isinstance(getattr(sub, "rng", None), np.random.Generator):
            sub.rng = original.rng.spawn(1)[0]  # the original's counter makes each distinct
    return clone
