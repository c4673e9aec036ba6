"""Decoding a sequence-to-sequence model: greedy (all sequences of a batch at once) and
beam search, plus the token conventions they share.

Conventions (``nnlab.data.seq2seq_tasks``): PAD = 0, BOS = 1, EOS = 2; sources (N, S) are
right-padded; targets (N, T) are ``BOS y_1 .. y_k EOS PAD ..``.

Decoding needs only three methods of a model, so any object with them can be decoded (the
tests use a hand-built scoring table):

- ``decode_start(src) -> state``: a dict of arrays, batch on axis 0;
- ``decode_step(state, prefix) -> (log_probs (B, V), state)``: ``prefix`` (B, t) holds the
  tokens so far, BOS first;
- ``decode_select(state, index) -> state``: the rows ``index`` (repeats allowed).
"""

import numpy as np

from nnlab.autograd.tensor import Tensor
from nnlab.nn.module import evaluating

PAD, BOS, EOS = 0, 1, 2


def strip_tokens(row) -> list:
    """The symbol ids of one sequence: BOS and PAD dropped, cut at the first EOS."""
    out = []
    for token in np.asarray(row).tolist():
        if token == EOS:
            break
        if token not in (PAD, BOS):
            out.append(token)
    return out


def exact_match(predicted, target) -> float:
    """Fraction of rows whose symbols (``strip_tokens``) agree exactly."""
    pairs = zip(np.asarray(predicted), np.asarray(target), strict=True)
    return float(np.mean([strip_tokens(p) == strip_tokens(t) for p, t in pairs]))


def as_ids(x) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def token_ids(x, name: str) -> np.ndarray:
    """``x`` as an integer (N, T) id array, or a ValueError saying what is expected."""
    ids = as_ids(x)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must be integer token ids of shape (N, T) (PAD = 0, BOS = 1, EOS = 2), "
            f"got a {ids.dtype} array of shape {ids.shape}; encode text with "
            "nnlab.data.seq2seq_tasks.Vocabulary.encode_batch"
        )
    return ids


# ---- decoding --------------------------------------------------------------------------


def greedy_decode(model, src, max_len: int, batch_size: int = 512):
    """Pick the most probable token at every step, all sequences of a batch at once.

    Returns:
        tokens (N, max_len) int64 (PAD after each EOS), scores (N,) summed log-probabilities.
    """
    src = as_ids(src)
    tokens, scores = [], []
    with evaluating(model):
        for start in range(0, len(src), batch_size):
            t, s = _greedy_batch(model, src[start : start + batch_size], max_len)
            tokens.append(t)
            scores.append(s)
    return np.concatenate(tokens), np.concatenate(scores)


def _greedy_batch(model, src, max_len):
    n = len(src)
    state = model.decode_start(src)
    prefix = np.full((n, 1), BOS, np.int64)
    done, scores = np.zeros(n, bool), np.zeros(n)
    out = np.full((n, max_len), PAD, np.int64)
    for t in range(max_len):
        log_probs, state = model.decode_step(state, prefix)
        log_probs = _outputs_only(log_probs)
        token = log_probs.argmax(axis=1)
        scores += np.where(done, 0.0, log_probs[np.arange(n), token])
        token[done] = PAD
        out[:, t] = token
        prefix = np.concatenate([prefix, token[:, None]], axis=1)
        done |= token == EOS
        if done.all():
            break
    return out, scores


def beam_search(model, src, beam_width: int = 4, max_len: int = 32, length_penalty=1.0):
    """Keep the ``beam_width`` best partial sequences; one source at a time, its beams batched.

    Each step extends every live beam by every token and keeps the ``beam_width`` best
    extensions by summed log-probability; an extension by EOS ranked above them is a
    finished hypothesis, scored sum(log p) / length ** length_penalty (length counts EOS;
    0 ranks by raw log-probability, 1 by the mean per token). The search stops when
    ``beam_width`` hypotheses have finished and no live beam, were it to end now, would
    outscore the worst of them (exact for length_penalty 0, the usual heuristic otherwise),
    or after ``max_len`` steps, when the unfinished beams compete too. Width 1 is greedy
    decoding, whatever the length penalty.

    Returns:
        tokens (N, max_len) int64 (PAD after EOS), scores (N,) summed log-probabilities.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    src = as_ids(src)
    tokens = np.full((len(src), max_len), PAD, np.int64)
    scores = np.zeros(len(src))
    with evaluating(model):
        for i in range(len(src)):
            seq, scores[i] = _beam_one(model, src[i : i + 1], beam_width, max_len, length_penalty)
            tokens[i, : len(seq)] = seq
    return tokens, scores


def _beam_one(model, src, k, max_len, alpha):
    state = model.decode_start(src)
    prefix = np.full((1, 1), BOS, np.int64)
    alive = np.zeros(1)  # summed log-probabilities of the live beams
    finished = []  # (normalised score, summed log-probability, tokens), best first
    for t in range(max_len):
        log_probs, state = model.decode_step(state, prefix)
        total = (alive[:, None] + _outputs_only(log_probs)).ravel()
        ended, keep = _rank_extensions(total, log_probs.shape[1], k)
        for beam, flat in ended:
            seq = prefix[beam, 1:].tolist() + [EOS]
            finished.append((total[flat] / (t + 1) ** alpha, total[flat], seq))
        finished.sort(key=lambda item: -item[0])
        bound = max((total[flat] for _, _, flat in keep), default=-np.inf) / (t + 1) ** alpha
        if not keep or (len(finished) >= k and bound <= finished[k - 1][0]):
            break
        rows = np.array([beam for beam, _, _ in keep])
        state = model.decode_select(state, rows)
        prefix = np.concatenate([prefix[rows], [[token] for _, token, _ in keep]], axis=1)
        alive = np.array([total[flat] for _, _, flat in keep])
    else:
        for beam in range(len(prefix)):
            seq = prefix[beam, 1:].tolist()
            finished.append((alive[beam] / len(seq) ** alpha, alive[beam], seq))
    best = max(finished, key=lambda item: item[0])
    return best[2], best[1]


def _outputs_only(log_probs: np.ndarray) -> np.ndarray:
    """PAD and BOS are never outputs: their log-probabilities set to -inf."""
    log_probs = log_probs.copy()
    log_probs[:, [PAD, BOS]] = -np.inf
    return log_probs


def _rank_extensions(total, vocab_size: int, k: int):
    """From the flattened (beam, token) scores, best first: the EOS extensions ranked above
    the k-th best other one (``ended``: (beam, flat index)) and the k best others
    (``keep``: (beam, token, flat index)). Ties go to the lower index, as argmax."""
    ended, keep = [], []
    for flat in np.argsort(-total, kind="stable"):
        if len(keep) == k or not np.isfinite(total[flat]):
            break
        beam, token = divmod(int(flat), vocab_size)
        if token == EOS:
            ended.append((beam, flat))
        else:
            keep.append((beam, token, flat))
    return ended, keep
