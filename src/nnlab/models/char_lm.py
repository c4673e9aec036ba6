"""Character-level language modelling: an LSTM language model, sampling from it with its
recurrent state, perplexity, and the bigram baseline it has to beat.

``CharLSTM`` is Embedding -> LSTM (1 or more layers) -> Linear over the vocabulary, a Keras-style
``Model``: ``compile(optimizer, SparseCategoricalCrossentropy(from_logits=True))`` and ``fit``
on ``nnlab.data.text.char_windows`` pairs train it (the loss is the mean over every position
of every window). Text generation (``sample``) runs the seed text through the LSTM once and
then feeds one character at a time with the carried (h, c) state, so each new character
costs one LSTM step, not a re-run of the whole prefix.

Perplexity is exp(mean negative log-likelihood per character, in nats): a model that always
predicts the uniform distribution over V characters scores exactly V.
"""

import numpy as np

from nnlab import nn
from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor
from nnlab.nn.module import register
from nnlab.training import Model


@register
class CharLSTM(Model):
    """Next-character model: Embedding -> LSTM -> Linear, logits over the vocabulary.

    Args:
        vocab_size: characters in the vocabulary (ids 0 .. vocab_size - 1).
        embedding_dim: length of each character's learned vector.
        hidden_size: LSTM units per layer.
        num_layers: stacked LSTM layers (1 or 2 in the experiments).
        dropout: dropout between stacked LSTM layers while training.
        seed: seed of the initial weights, the dropout masks and fit's shuffling.
        name: the model's name.

    Shape:
        ids (N, T) integers -> logits (N, T, vocab_size). ``forward_with_state`` also takes
        and returns the state (h, c), each (num_layers, N, hidden_size).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.0,
        seed=None,
        name=None,
    ):
        super().__init__(name=name, seed=seed)
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.dropout, self.seed = float(dropout), seed
        rng = np.random.default_rng(seed)
        self.embedding = nn.Embedding(self.vocab_size, self.embedding_dim, rng=rng)
        self.lstm = nn.LSTM(
            self.embedding_dim, self.hidden_size, self.num_layers, dropout=self.dropout, rng=rng
        )
        self.head = nn.Linear(self.hidden_size, self.vocab_size, rng=rng)
        self.built = True  # no lazily built layers

    def forward(self, ids):
        return self.forward_with_state(ids)[0]

    def forward_with_state(self, ids, state=None):
        """Logits and the final (h, c) of the LSTM, starting from ``state`` (zeros if None).

        Args:
            ids: (N, T) integer ids (array or Tensor).
            state: (h, c) as returned by a previous call, or None.

        Returns:
            (logits (N, T, vocab_size), (h_n, c_n)).
        """
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(
                f"{type(self).__name__} expects integer character ids of shape (N, T), got "
                f"{ids.dtype} {ids.shape}; encode text with CharVocabulary.encode and add a "
                "batch axis (ids[None])"
            )
        output, state = self.lstm(self.embedding(ids), state)
        return self.head(output), state

    def get_config(self) -> dict:
        return {
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "seed": self.seed if self.seed is None else int(self.seed),
            "name": self.name,
        }


# ---- generation ---------------------------------------------------------------------------


def next_id(logits, temperature: float = 1.0, top_k=None, rng=None) -> int:
    """Draw the next id from one step's logits (V,).

    ``temperature`` divides the logits before the softmax: below 1 sharpens the distribution,
    above 1 flattens it; 0 takes the argmax (greedy). ``top_k`` keeps only the k most likely
    ids (ties at the k-th logit all kept) before sampling; ``top_k=1`` is greedy.
    """
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and int(top_k) < 1:
        raise ValueError(f"top_k must be a positive integer or None, got {top_k}")
    if temperature == 0 or top_k == 1:
        return int(np.argmax(logits))
    if top_k is not None and top_k < len(logits):
        kth = np.partition(logits, len(logits) - int(top_k))[len(logits) - int(top_k)]
        logits = np.where(logits >= kth, logits, -np.inf)
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(np.random.default_rng(rng).choice(len(p), p=p))  # a Generator passes through


def sample(model, vocab, seed_text: str, length: int, temperature=1.0, top_k=None, rng=None):
    """Generate ``length`` characters after ``seed_text``.

    The seed runs through the model once; then each drawn character is fed alone with the
    carried recurrent state (one LSTM step per character). The model is switched to
    inference mode for the duration (dropout off) and back.

    Args:
        model: a model with ``forward_with_state(ids, state) -> (logits, state)``
            (``CharLSTM``).
        vocab: the ``CharVocabulary`` the model was trained with.
        seed_text: at least one character, encodable by ``vocab``.
        length: characters to generate.
        temperature, top_k: see ``next_id``; ``temperature=0`` or ``top_k=1`` is greedy.
        rng: Generator or seed for the draws.

    Returns:
        The generated continuation (without the seed).
    """
    if not seed_text:
        raise ValueError("sample needs a seed_text of at least one character")
    rng = np.random.default_rng(rng)
    ids = vocab.encode(seed_text)[None]
    generated = np.empty(int(length), np.int64)
    training = model.training
    model.eval()
    try:
        with no_grad():
            logits, state = model.forward_with_state(ids)
            for i in range(len(generated)):
                generated[i] = next_id(logits.data[0, -1], temperature, top_k, rng)
                if i + 1 < len(generated):
                    logits, state = model.forward_with_state(generated[i : i + 1][None], state)
    finally:
        model.train(training)
    return vocab.decode(generated)


# ---- evaluation ---------------------------------------------------------------------------


def perplexity(model, ids, seq_len: int = 200, streams: int = 32) -> float:
    """exp(mean negative log-likelihood) of predicting ``ids[1:]`` from the characters before.

    Every character after the first is predicted exactly once. The text is cut into
    ``streams`` consecutive pieces read side by side in chunks of ``seq_len`` steps, the LSTM
    state carried from chunk to chunk, so each prediction sees the whole of its piece before
    it (a leftover tail of fewer than ``streams`` characters is read as one more piece).

    Args:
        model: a model with ``forward_with_state(ids, state) -> (logits, state)``.
        ids: 1-D integer ids, at least 2.
        seq_len: steps per forward call (memory, not the result).
        streams: pieces read in parallel.

    Returns:
        The perplexity (a float >= 1).
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if len(ids) < 2:
        raise ValueError(f"perplexity needs at least 2 ids, got {len(ids)}")
    n_pred = len(ids) - 1
    streams = max(1, min(int(streams), n_pred))
    per = n_pred // streams
    pieces = [ids[: streams * per + 1]]
    if n_pred > streams * per:
        pieces.append(ids[streams * per :])  # the tail, read as one more sequence
    nll, count = 0.0, 0
    training = model.training
    model.eval()
    try:
        with no_grad():
            for k, piece in enumerate(pieces):
                rows = streams if k == 0 else 1
                n = (len(piece) - 1) // rows
                inputs = np.stack([piece[r * n : (r + 1) * n] for r in range(rows)])
                targets = np.stack([piece[r * n + 1 : (r + 1) * n + 1] for r in range(rows)])
                state = None
                for start in range(0, n, int(seq_len)):
                    stop = min(n, start + int(seq_len))
                    logits, state = model.forward_with_state(inputs[:, start:stop], state)
                    nll += _nll_sum(logits.data, targets[:, start:stop])
                count += targets.size
    finally:
        model.train(training)
    return float(np.exp(nll / count))


def _nll_sum(logits, targets) -> float:
    """Summed -log softmax(logits)[target] in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=-1))
    picked = np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
    return float((log_norm - picked).sum())


def bigram_perplexity(train_ids, val_ids, vocab_size=None, alpha: float = 1.0) -> float:
    """Perplexity on ``val_ids`` of the add-``alpha`` smoothed bigram model of ``train_ids``.

    Formula: P(b | a) = (C(a, b) + alpha) / (C(a) + alpha V), with C(a, b) the count of ``a``
    followed by ``b`` in the training ids, C(a) = sum_b C(a, b) and V the vocabulary size;
    the perplexity is exp(-mean over t of log P(val[t + 1] | val[t])) (alpha = 1 is Laplace
    smoothing; alpha must be > 0 when a validation pair never occurs in training).

    Args:
        train_ids, val_ids: 1-D integer ids (at least 2 each).
        vocab_size: V (default: 1 + the largest id in either).
        alpha: the pseudo-count added to every pair.
    """
    train_ids = np.asarray(train_ids, dtype=np.int64).reshape(-1)
    val_ids = np.asarray(val_ids, dtype=np.int64).reshape(-1)
    if len(train_ids) < 2 or len(val_ids) < 2:
        raise ValueError("bigram_perplexity needs at least 2 training and 2 validation ids")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    v = int(max(train_ids.max(), val_ids.max()) + 1 if vocab_size is None else vocab_size)
    counts = np.bincount(train_ids[:-1] * v + train_ids[1:], minlength=v * v).reshape(v, v)
    probs = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * v)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(probs[val_ids[:-1], val_ids[1:]])
    return float(np.exp(-log_p.mean()))
