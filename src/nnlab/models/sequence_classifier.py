"""Sequence classifiers over integer token ids: a Transformer encoder and a recurrent network
(SimpleRNN, LSTM or GRU), both Keras-style ``Model`` s that map (N, T) ids to (N, classes)
logits. Compile them with ``SparseCategoricalCrossentropy(from_logits=True)`` and ``fit``
on (ids, labels).

Padding: sequences are right-padded with ``padding_idx`` (default 0). Padding never changes a
prediction: its embedding row is zero and frozen, the Transformer masks it out of every
attention (``src_key_padding_mask``) and out of the mean pool, and the recurrent network's
state skips padded steps (its read-out is the state after the last real token).
"""

import numpy as np

from nnlab import backend, nn
from nnlab.autograd.tensor import Tensor
from nnlab.nn import init
from nnlab.nn.module import register
from nnlab.training import Model

POOLINGS = ("mean", "cls", "last")
POSITIONALS = ("sinusoidal", "learned")
CELLS = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def _check_ids(model, ids, max_len=None) -> np.ndarray:
    """``ids`` as an (N, T) integer array, or a clear error naming ``model``."""
    ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    name = type(model).__name__
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(
            f"{name} expects integer token ids of shape (N, T), got {ids.dtype} array of "
            f"shape {ids.shape}; pass ids such as np.array([[5, 2, 9, 0, 0]]) (add a batch "
            "axis with ids[None] for one sequence)"
        )
    if max_len is not None and ids.shape[1] > max_len:
        raise ValueError(
            f"{name}(max_len={max_len}) got sequences of length {ids.shape[1]}; build the "
            f"model with max_len >= {ids.shape[1]} or truncate the sequences"
        )
    return ids


def padding_mask(ids, padding_idx) -> np.ndarray | None:
    """(N, T) bool, True at padding tokens (PyTorch's key_padding_mask convention), or None
    when ``padding_idx`` is None."""
    return None if padding_idx is None else np.asarray(ids) == padding_idx


def last_positions(padding) -> np.ndarray:
    """(N,) index of each sequence's last real token, from the (N, T) padding mask (True at
    padding); 0 for a sequence of padding only."""
    real = ~np.asarray(padding, dtype=bool)
    last = real.shape[1] - 1 - np.argmax(real[:, ::-1], axis=1)
    return np.where(real.any(axis=1), last, 0)


def masked_mean(x, padding) -> Tensor:
    """Mean of x (N, T, D) over the positions where ``padding`` (N, T) is False.

    A sequence made only of padding gives a zero vector (nothing to average), not NaN.
    """
    if padding is None:
        return x.mean(axis=1)
    keep = (~padding).astype(x.dtype)
    counts = np.maximum(keep.sum(axis=1, keepdims=True), 1.0)
    return (x * (keep / counts)[:, :, None]).sum(axis=1)


@register
class TransformerClassifier(Model):
    """Token embedding + positions -> Transformer encoder -> pool -> Linear (logits).

    The pool is the mean of the encoder's outputs over the real (non-padding) tokens, or
    (``pooling='cls'``) the output at a learned classification token prepended to every
    sequence (BERT), or (``pooling='last'``) the output at the last real token, the read-out
    of a recurrent network: the information must then reach that position through attention.
    Embeddings are N(0, 1) (``nn.Embedding``), on the scale of the positional encodings, so
    they are added without the sqrt(d_model) factor of Vaswani et al.

    Args:
        vocab_size: token ids lie in [0, vocab_size).
        num_classes: outputs (logits).
        d_model, nhead, num_layers, dim_feedforward, dropout, activation, norm_first: the
            encoder (``nn.TransformerEncoderLayer``); pre-norm stacks end with a LayerNorm.
        max_len: the longest sequence (the positional table's length).
        positional: 'sinusoidal' (fixed) or 'learned' (a trained table).
        pooling: 'mean', 'cls' or 'last'.
        padding_idx: the padding token (masked everywhere), or None for no padding.
        seed: int seed of the initial weights, the dropout masks and fit's shuffling (None:
            the library Generator, see nnlab.manual_seed).
        name: the model's name.

    Shape:
        ids (N, T) integers, T <= max_len -> logits (N, num_classes).
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        d_model: int = 64,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
        max_len: int = 512,
        positional: str = "sinusoidal",
        pooling: str = "mean",
        padding_idx=0,
        activation: str = "relu",
        norm_first: bool = False,
        seed=None,
        name=None,
    ):
        super().__init__(name=name, seed=seed)
        _check_choice("positional", positional, POSITIONALS)
        _check_choice("pooling", pooling, POOLINGS)
        self._config = dict(
            vocab_size=int(vocab_size), num_classes=int(num_classes), d_model=int(d_model),
            nhead=int(nhead), num_layers=int(num_layers), dim_feedforward=int(dim_feedforward),
            dropout=float(dropout), max_len=int(max_len), positional=positional,
            pooling=pooling, padding_idx=None if padding_idx is None else int(padding_idx),
            activation=activation, norm_first=bool(norm_first),
            seed=None if seed is None else int(seed), name=self.name,
        )  # fmt: skip
        self.max_len, self.pooling, self.padding_idx = int(max_len), pooling, padding_idx
        rng = backend.get_generator(seed)  # None: the library Generator (nnlab.manual_seed)
        # The CLS token is one extra row after the vocabulary; it occupies one position.
        rows = int(vocab_size) + (pooling == "cls")
        self.cls_id = int(vocab_size) if pooling == "cls" else None
        positions = self.max_len + (pooling == "cls")
        self.embedding = nn.Embedding(rows, d_model, padding_idx=padding_idx, rng=rng)
        if positional == "sinusoidal":
            self.positions = nn.SinusoidalPositionalEncoding(d_model, positions, dropout, rng=rng)
        else:
            self.positions = nn.Sequential(
                nn.LearnedPositionalEmbedding(positions, d_model, rng=rng),
                nn.Dropout(dropout, rng=rng),
            )
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward, dropout, activation, norm_first=norm_first, rng=rng
        )
        final_norm = nn.LayerNorm(d_model) if norm_first else None  # pre-norm leaves x unnormed
        self.encoder = nn.TransformerEncoder(layer, num_layers, final_norm)
        for copy in self.encoder.layers:  # the stack deep-copies one layer: make them differ
            for module in (copy.self_attn, copy.linear1, copy.linear2):
                module.reset_parameters(rng)
        self.head = nn.Linear(d_model, num_classes, rng=rng)
        self.built = True  # no lazily built layers

    def forward(self, ids):
        ids = _check_ids(self, ids, self.max_len)
        if self.cls_id is not None:
            ids = np.concatenate([np.full((len(ids), 1), self.cls_id, ids.dtype), ids], axis=1)
        padding = padding_mask(ids, self.padding_idx)
        if padding is not None and not padding.any():
            padding = None  # nothing to mask: skip building the additive mask
        x = self.encode(ids, padding)
        return self.head(self._pool(x, padding))

    def _pool(self, x, padding) -> Tensor:
        if self.pooling == "cls":
            return x[:, 0]
        if self.pooling == "mean":
            return masked_mean(x, padding)
        if padding is None:
            return x[:, -1]
        return x[np.arange(x.shape[0]), last_positions(padding)]

    def encode(self, ids, padding=None) -> Tensor:
        """The encoder's outputs (N, T, d_model) for (N, T) ids (a CLS id already in place)."""
        return self.encoder(self.positions(self.embedding(ids)), src_key_padding_mask=padding)

    def attention_layers(self) -> list:
        """The encoder's ``MultiheadAttention`` modules, first layer first (set their
        ``record_weights`` to read per-head attention maps)."""
        return [layer.self_attn for layer in self.encoder.layers]

    def get_config(self) -> dict:
        return dict(self._config)


@register
class RecurrentClassifier(Model):
    """Token embedding -> recurrent layers -> Linear on the last state (logits).

    The read-out is the top layer's final hidden state, taken after the last real token (the
    state skips padding). The recurrent weights start as Keras does, each cell's strongest
    standard start: Glorot-uniform input weights, orthogonal recurrent weights, zero biases and,
    for the LSTM, a forget-gate bias of 1 (Jozefowicz et al., 2015), so that comparisons with
    other models are not decided by PyTorch's uniform initialisation.

    Args:
        vocab_size: token ids lie in [0, vocab_size).
        num_classes: outputs (logits).
        cell: 'SimpleRNN', 'LSTM' or 'GRU' (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``).
        embedding_dim: length of each token's vector.
        hidden_size, num_layers, dropout: the recurrent stack (dropout between layers).
        padding_idx: the padding token (skipped), or None.
        seed: int seed of the initial weights, the dropout masks and fit's shuffling (None:
            the library Generator, see nnlab.manual_seed).
        name: the model's name.

    Shape:
        ids (N, T) integers -> logits (N, num_classes).
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        cell: str = "LSTM",
        embedding_dim: int = 32,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        padding_idx=0,
        seed=None,
        name=None,
    ):
        super().__init__(name=name, seed=seed)
        _check_choice("cell", cell, tuple(CELLS))
        self._config = dict(
            vocab_size=int(vocab_size), num_classes=int(num_classes), cell=cell,
            embedding_dim=int(embedding_dim), hidden_size=int(hidden_size),
            num_layers=int(num_layers), dropout=float(dropout),
            padding_idx=None if padding_idx is None else int(padding_idx),
            seed=None if seed is None else int(seed), name=self.name,
        )  # fmt: skip
        self.cell, self.padding_idx = cell, padding_idx
        rng = backend.get_generator(seed)  # None: the library Generator (nnlab.manual_seed)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx, rng=rng)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers, dropout=dropout, rng=rng)
        keras_recurrent_init(self.rnn, rng)
        self.head = nn.Linear(hidden_size, num_classes, rng=rng)
        self.built = True  # no lazily built layers

    def forward(self, ids):
        ids = _check_ids(self, ids)
        padding = padding_mask(ids, self.padding_idx)
        real = None if padding is None or not padding.any() else ~padding
        _, h_n = self.rnn(self.embedding(ids), mask=real)
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # LSTM: (h_n, c_n)
        return self.head(h_n[-1])

    def get_config(self) -> dict:
        return dict(self._config)


def keras_recurrent_init(rnn, rng) -> None:
    """Re-draw an ``nn.RNN``/``LSTM``/``GRU``'s weights as Keras initialises its recurrent
    layers: Glorot-uniform ``weight_ih``, orthogonal ``weight_hh``, zero biases, and for the
    LSTM the forget gate's input bias set to 1 (gates i, f, g, o: the second block)."""
    hidden = rnn.hidden_size
    for name, param in rnn.named_parameters():
        if name.startswith("weight_ih"):
            param.data = init.glorot_uniform(param.shape, rng, param.dtype)
        elif name.startswith("weight_hh"):
            param.data = init.orthogonal(param.shape, rng, param.dtype)
        else:
            param.data = init.zeros(param.shape, dtype=param.dtype)
            if isinstance(rnn, nn.LSTM) and name.startswith("bias_ih"):
                param.data[hidden : 2 * hidden] = 1.0


def _check_choice(what: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"{what} must be one of {list(options)}, got {value!r}")
