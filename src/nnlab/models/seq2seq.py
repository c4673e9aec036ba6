"""Sequence-to-sequence models: a Transformer encoder-decoder and an RNN encoder-decoder
with additive (Bahdanau) or multiplicative (Luong) attention, trained with teacher forcing,
decoded greedily or by beam search.

Conventions (``nnlab.data.seq2seq_tasks``): PAD = 0, BOS = 1, EOS = 2; sources (N, S) are
right-padded; targets (N, T) are ``BOS y_1 .. y_k EOS PAD ..``. ``model.fit(src, tgt)``
trains on the pairs: the decoder reads ``tgt[:, :-1]`` and is scored on ``tgt[:, 1:]`` by a
cross-entropy that ignores PAD. ``model.predict(src)`` decodes greedily; greedy and beam
search decoding are in ``seq2seq_decoding``, the RNN decoder's attention in
``nnlab.nn.rnn_attention``.
"""

import numpy as np

from nnlab import functional as F
from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor
from nnlab.losses import Loss
from nnlab.models.seq2seq_decoding import (
    BOS,
    PAD,
    as_ids,
    beam_search,
    greedy_decode,
    token_ids,
)
from nnlab.nn.embedding import Embedding
from nnlab.nn.linear import Linear
from nnlab.nn.module import evaluating
from nnlab.nn.norm import LayerNorm
from nnlab.nn.positional import SinusoidalPositionalEncoding
from nnlab.nn.recurrent import GRU, LSTM
from nnlab.nn.rnn_attention import AdditiveAttention, MultiplicativeAttention
from nnlab.nn.transformer import (
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)
from nnlab.training import Model


class SequenceCrossentropy(Loss):
    """Softmax cross-entropy of logits (N, T, V) against ids (N, T), averaged over the
    tokens that are not PAD (``sample_weight`` (N,) weights whole sequences)."""

    def __init__(self, pad_id: int = PAD, name="sequence_crossentropy"):
        super().__init__(name=name)
        self.pad_id = pad_id

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = as_ids(y_true)
        logits = y_pred.reshape(-1, y_pred.shape[-1])
        if sample_weight is None:
            return F.cross_entropy(logits, y_true.reshape(-1), ignore_index=self.pad_id)
        losses = F.cross_entropy(logits, y_true.reshape(-1), reduction="none", ignore_index=None)
        weights = (y_true != self.pad_id) * np.asarray(sample_weight, np.float64)[:, None]
        weights = (weights / weights.sum()).reshape(-1).astype(logits.dtype)
        return (losses * weights).sum()


# ---- shared model base -----------------------------------------------------------------


class Seq2SeqModel(Model):
    """Teacher-forced training and decoding shared by the encoder-decoder models.

    Subclasses define ``forward(src, tgt_in) -> logits (N, T, V)``, ``decode_start``,
    ``decode_step`` and ``cross_attention``.
    """

    def __init__(self, name=None, seed=0):
        super().__init__(name=name, seed=seed)
        self.built = True  # every parameter exists from __init__: nothing to infer

    def compile(self, optimizer="adam", loss=None, metrics=None):
        """As ``Model.compile``; the default loss is ``SequenceCrossentropy`` (PAD ignored)."""
        return super().compile(optimizer, loss or SequenceCrossentropy(PAD), metrics)

    def _batch_loss(self, batch):
        src, tgt, sample_weight = batch
        src, tgt = token_ids(src, "src (x)"), token_ids(tgt, "tgt (y)")
        logits = self(src, tgt[:, :-1])
        return self.compute_loss(tgt[:, 1:], logits, sample_weight), logits, tgt[:, 1:]

    def train_step(self, batch) -> dict:
        loss, logits, target = self._batch_loss(batch)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return self._step_logs(loss, logits, target)

    def test_step(self, batch) -> dict:
        with no_grad():
            loss, logits, target = self._batch_loss(batch)
        return self._step_logs(loss, logits, target)

    def _step_logs(self, loss, logits, target) -> dict:
        self._update_metrics(target, logits, None)
        real = target != PAD
        hits = (logits.data.argmax(axis=-1) == target) & real
        return {"loss": loss.item(), "token_accuracy": float(hits.sum() / real.sum())}

    def decode_select(self, state: dict, index) -> dict:
        return {key: value[index] for key, value in state.items()}

    def predict(self, x, batch_size=None, verbose=0, max_len=None) -> np.ndarray:
        """Greedy decoding of the sources ``x`` (N, S): tokens (N, max_len), PAD after EOS
        (``max_len`` default: 2 S + 2)."""
        src = token_ids(x, "src (x)")
        max_len = max_len or 2 * src.shape[1] + 2
        return greedy_decode(self, src, max_len, batch_size or 512)[0]

    def translate(self, src, max_len, beam_width=1, length_penalty=1.0) -> dict:
        """Decode ``src`` (greedy when ``beam_width`` is 1) and read the cross-attention of
        the decoded tokens.

        Returns:
            {'tokens' (N, max_len), 'scores' (N,), 'attention' (N, heads, max_len, S)}.
        """
        src = token_ids(src, "src")
        if beam_width == 1:
            tokens, scores = greedy_decode(self, src, max_len)
        else:
            tokens, scores = beam_search(self, src, beam_width, max_len, length_penalty)
        decoder_input = np.concatenate([np.full((len(tokens), 1), BOS), tokens[:, :-1]], axis=1)
        attention = self.cross_attention(src, decoder_input)
        return {"tokens": tokens, "scores": scores, "attention": attention}


# ---- Transformer ------------------------------------------------------------------------


class TransformerSeq2Seq(Seq2SeqModel):
    """Transformer encoder-decoder (Vaswani et al., 2017) for token sequences.

    Token embeddings plus sinusoidal positions feed ``nnlab.nn`` encoder and decoder stacks
    (causal mask and PAD masks on the target, PAD mask on the source); a Linear layer maps
    the decoder's output to target-token logits.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (PAD = 0, BOS = 1, EOS = 2).
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
            norm_first: as ``nnlab.nn.Transformer`` (pre-norm stacks end with a LayerNorm).
        max_len: the longest source or target.
        seed: seed of the initial weights, dropout masks and fit's shuffling.

    Shape:
        forward(src (N, S), tgt_in (N, T)) -> logits (N, T, tgt_vocab_size).
    """

    def __init__(
        self,
        src_vocab_size,
        tgt_vocab_size,
        d_model=64,
        nhead=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=128,
        dropout=0.0,
        norm_first=False,
        max_len=512,
        seed=0,
        name=None,
    ):
        super().__init__(name=name, seed=seed)
        rng = np.random.default_rng(seed)
        self.src_embed = Embedding(src_vocab_size, d_model, padding_idx=PAD, rng=rng)
        self.tgt_embed = Embedding(tgt_vocab_size, d_model, padding_idx=PAD, rng=rng)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len, dropout, rng=rng)
        args = (d_model, nhead, dim_feedforward, dropout)
        kwargs = dict(norm_first=norm_first, rng=rng)
        self.encoder = TransformerEncoder(
            TransformerEncoderLayer(*args, **kwargs),
            num_encoder_layers,
            LayerNorm(d_model) if norm_first else None,
        )
        self.decoder = TransformerDecoder(
            TransformerDecoderLayer(*args, **kwargs),
            num_decoder_layers,
            LayerNorm(d_model) if norm_first else None,
        )
        self.generator = Linear(d_model, tgt_vocab_size, rng=rng)

    def encode(self, src):
        """Encoder output (N, S, d_model) and the source padding mask (N, S), True = PAD."""
        src = as_ids(src)
        padding = src == PAD
        memory = self.encoder(self.positions(self.src_embed(src)), src_key_padding_mask=padding)
        return memory, padding

    def decode(self, tgt_in, memory, src_padding):
        """Logits (N, T, V) of the next token after each prefix of ``tgt_in``."""
        tgt_in = as_ids(tgt_in)
        x = self.positions(self.tgt_embed(tgt_in))
        out = self.decoder(
            x,
            memory,
            tgt_mask=generate_square_subsequent_mask(tgt_in.shape[1], x.dtype),
            tgt_key_padding_mask=tgt_in == PAD,
            memory_key_padding_mask=src_padding,
        )
        return self.generator(out)

    def forward(self, src, tgt_in):
        memory, padding = self.encode(src)
        return self.decode(tgt_in, memory, padding)

    def decode_start(self, src) -> dict:
        memory, padding = self.encode(src)
        return {"memory": memory.data, "padding": padding}

    def decode_step(self, state, prefix):
        # No key/value cache: the prefix is re-decoded each step (targets here are short).
        logits = self.decode(prefix, Tensor(state["memory"]), state["padding"])[:, -1]
        return F.log_softmax(logits).data.astype(np.float64), state

    def attention_maps(self, src, tgt_in) -> dict:
        """Per-head attention weights of a teacher-forced pass, in inference mode.

        Returns:
            {'encoder': [(N, H, S, S) per layer], 'decoder': [(N, H, T, T)],
            'cross': [(N, H, T, S)]}.
        """
        groups = {
            "encoder": [layer.self_attn for layer in self.encoder.layers],
            "decoder": [layer.self_attn for layer in self.decoder.layers],
            "cross": [layer.multihead_attn for layer in self.decoder.layers],
        }
        attentions = [m for group in groups.values() for m in group]
        for module in attentions:
            module.record_weights = True
        try:
            with evaluating(self):
                self(src, tgt_in)
        finally:
            for module in attentions:
                module.record_weights = False
        return {name: [m.last_weights for m in group] for name, group in groups.items()}

    def cross_attention(self, src, tgt_in, layer=-1) -> np.ndarray:
        """Cross-attention (N, heads, T, S) of decoder layer ``layer`` (default: the last)."""
        return self.attention_maps(src, tgt_in)["cross"][layer]


# ---- RNN with attention -----------------------------------------------------------------


class RNNSeq2Seq(Seq2SeqModel):
    """RNN encoder-decoder with attention (Bahdanau et al., 2015; Luong et al., 2015).

    A bidirectional GRU/LSTM reads the source; the decoder state starts from
    tanh(W mean(encoder outputs)). Per target step, with the previous token's embedding e:

    - 'bahdanau' (additive scores v^T tanh(W_q s_{t-1} + W_k h_j)): the context c_t is read
      with the previous state, s_t = cell([e; c_t], s_{t-1}), logits = W_o [s_t; c_t];
    - 'general' (s_t^T W h_j) or 'dot' (s_t^T h_j), Luong's: s_t = cell([e; h~_{t-1}],
      s_{t-1}) (input feeding), c_t from s_t, h~_t = tanh(W_c [c_t; s_t]), logits = W_o h~_t.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (PAD = 0, BOS = 1, EOS = 2).
        embed_dim: token embedding size. hidden_size: decoder state size (each encoder
            direction gets hidden_size // 2, so 'dot' scores match sizes).
        cell: 'gru' or 'lstm'. attention: 'bahdanau', 'general' or 'dot'.
        seed: seed of the initial weights and fit's shuffling.

    Shape:
        forward(src (N, S), tgt_in (N, T)) -> logits (N, T, tgt_vocab_size).
    """

    def __init__(
        self,
        src_vocab_size,
        tgt_vocab_size,
        embed_dim=32,
        hidden_size=64,
        cell="gru",
        attention="bahdanau",
        seed=0,
        name=None,
    ):
        super().__init__(name=name, seed=seed)
        if cell not in ("gru", "lstm") or attention not in ("bahdanau", "general", "dot"):
            raise ValueError(
                "RNNSeq2Seq: cell must be 'gru' or 'lstm' and attention 'bahdanau', 'general' "
                f"or 'dot', got cell={cell!r}, attention={attention!r}"
            )
        if hidden_size % 2:
            raise ValueError(f"RNNSeq2Seq: hidden_size must be even, got {hidden_size}")
        rng = np.random.default_rng(seed)
        self.cell, self.kind, h = cell, attention, hidden_size
        rnn = GRU if cell == "gru" else LSTM
        self.src_embed = Embedding(src_vocab_size, embed_dim, padding_idx=PAD, rng=rng)
        self.tgt_embed = Embedding(tgt_vocab_size, embed_dim, padding_idx=PAD, rng=rng)
        self.encoder = rnn(embed_dim, h // 2, bidirectional=True, rng=rng)
        self.bridge = Linear(h, h, rng=rng)
        self.decoder_cell = rnn(embed_dim + h, h, rng=rng)
        if attention == "bahdanau":
            self.attention = AdditiveAttention(h, h, h, rng=rng)
            self.out = Linear(2 * h, tgt_vocab_size, rng=rng)
        else:
            self.attention = MultiplicativeAttention(h, h, score=attention, rng=rng)
            self.combine = Linear(2 * h, h, rng=rng)
            self.out = Linear(h, tgt_vocab_size, rng=rng)

    def encode(self, src) -> dict:
        """The decoder's starting state: encoder outputs ('keys'), their attention
        projection ('proj'), the source mask (True = real token) and the initial state."""
        src = as_ids(src)
        mask = src != PAD
        lengths = mask.sum(axis=1)
        keys = self.encoder(self.src_embed(src), lengths=lengths)[0]  # 0 at padded steps
        mean = F.sum(keys, axis=1) / lengths[:, None].astype(keys.dtype)
        h0 = F.tanh(self.bridge(mean))
        state = {"keys": keys, "proj": self.attention.project_keys(keys), "mask": mask, "h": h0}
        zeros = Tensor(np.zeros(h0.shape, h0.dtype))
        if self.cell == "lstm":
            state["c"] = zeros
        if self.kind != "bahdanau":
            state["feed"] = zeros
        return state

    def step(self, tokens, state: dict):
        """One decoder step from the previous tokens (B,): (logits (B, V), attention
        weights (B, S), the new state)."""
        emb = self.tgt_embed(tokens)
        attend = (state["keys"], state["mask"], state["proj"])
        if self.kind == "bahdanau":
            context, weights = self.attention(state["h"], *attend)
            state = self._cell(F.concat([emb, context], axis=-1), state)
            return self.out(F.concat([state["h"], context], axis=-1)), weights, state
        state = self._cell(F.concat([emb, state["feed"]], axis=-1), state)
        context, weights = self.attention(state["h"], *attend)
        feed = F.tanh(self.combine(F.concat([context, state["h"]], axis=-1)))
        return self.out(feed), weights, {**state, "feed": feed}

    def _cell(self, x, state) -> dict:
        x, h0 = F.unsqueeze(x, 1), F.unsqueeze(state["h"], 0)
        if self.cell == "lstm":
            _, (h, c) = self.decoder_cell(x, (h0, F.unsqueeze(state["c"], 0)))
            return {**state, "h": h[0], "c": c[0]}
        _, h = self.decoder_cell(x, h0)
        return {**state, "h": h[0]}

    def _teacher_forced(self, src, tgt_in):
        state, tgt_in = self.encode(src), as_ids(tgt_in)
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, step_weights, state = self.step(tgt_in[:, t], state)
            logits.append(step_logits)
            weights.append(step_weights)
        return F.stack(logits, axis=1), F.stack(weights, axis=1)

    def forward(self, src, tgt_in):
        return self._teacher_forced(src, tgt_in)[0]

    def decode_start(self, src) -> dict:
        return {k: as_ids(v) for k, v in self.encode(src).items()}

    def decode_step(self, state, prefix):
        tensors = {k: v if v.dtype == bool else Tensor(v) for k, v in state.items()}
        logits, _, new = self.step(prefix[:, -1], tensors)
        new = {k: as_ids(v) for k, v in new.items()}
        return F.log_softmax(logits).data.astype(np.float64), new

    def cross_attention(self, src, tgt_in) -> np.ndarray:
        """Attention weights (N, 1, T, S) of a teacher-forced pass (one 'head')."""
        with evaluating(self):
            weights = self._teacher_forced(src, tgt_in)[1]
        return weights.data[:, None]
