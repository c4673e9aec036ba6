"""Sequence-to-sequence models: Bahdanau and Luong attention against NumPy and finite
differences, the PAD-ignoring loss, incremental decoding against teacher forcing, greedy
and beam search (width 1 is greedy; a wider beam beats greedy on a hand-built table), and
short training runs that learn reversal."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nnlab import functional as F
from nnlab import optim
from nnlab.autograd.gradcheck import gradcheck
from nnlab.autograd.tensor import Tensor
from nnlab.data.seq2seq_tasks import reversal_task
from nnlab.models.seq2seq import RNNSeq2Seq, SequenceCrossentropy, TransformerSeq2Seq
from nnlab.models.seq2seq_decoding import beam_search, exact_match, greedy_decode, strip_tokens
from nnlab.nn.rnn_attention import AdditiveAttention, MultiplicativeAttention


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _inputs(rng, n=3, s=5, q=4, k=6):
    query, keys = rng.standard_normal((n, q)), rng.standard_normal((n, s, k))
    mask = np.ones((n, s), bool)
    mask[0, 3:] = False  # a padded source
    return query, keys, mask


# ---- attention ---------------------------------------------------------------------------


def test_additive_attention_matches_numpy():
    rng = np.random.default_rng(0)
    query, keys, mask = _inputs(rng)
    attn = AdditiveAttention(4, 6, 7, rng=1, dtype=np.float64)
    wq, wk = attn.query_proj.weight.data, attn.key_proj.weight.data
    bk, v = attn.key_proj.bias.data, attn.v.weight.data[0]
    scores = np.tanh((query @ wq.T)[:, None, :] + keys @ wk.T + bk) @ v  # (N, S)
    weights = _softmax(np.where(mask, scores, -np.inf))
    context, got = attn(Tensor(query), Tensor(keys), mask)
    np.testing.assert_allclose(got.data, weights, atol=1e-12)
    np.testing.assert_allclose(context.data, np.einsum("ns,nsk->nk", weights, keys), atol=1e-12)
    assert (got.data[0, 3:] == 0).all()
    np.testing.assert_allclose(got.data.sum(axis=1), 1.0)


@pytest.mark.parametrize("score", ["general", "dot"])
def test_multiplicative_attention_matches_numpy(score):
    rng = np.random.default_rng(1)
    query, keys, mask = _inputs(rng, q=6)
    attn = MultiplicativeAttention(6, 6, score=score, rng=2, dtype=np.float64)
    if score == "general":
        w = attn.weight_proj.weight.data  # (query_size, key_size)
        scores = np.einsum("nq,qk,nsk->ns", query, w, keys)
    else:
        scores = np.einsum("nk,nsk->ns", query, keys)
    weights = _softmax(np.where(mask, scores, -np.inf))
    context, got = attn(Tensor(query), Tensor(keys), mask)
    np.testing.assert_allclose(got.data, weights, atol=1e-12)
    np.testing.assert_allclose(context.data, np.einsum("ns,nsk->nk", weights, keys), atol=1e-12)


@pytest.mark.parametrize("kind", ["additive", "general", "dot"])
def test_attention_gradients_float64(kind):
    rng = np.random.default_rng(2)
    query, keys, mask = _inputs(rng, n=2, s=4, q=3, k=3)
    if kind == "additive":
        attn = AdditiveAttention(3, 3, 5, rng=3, dtype=np.float64)
    else:
        attn = MultiplicativeAttention(3, 3, score=kind, rng=3, dtype=np.float64)
    q, k = Tensor(query, requires_grad=True), Tensor(keys, requires_grad=True)
    params = list(attn.parameters())

    def fn(q, k, *_):  # the parameters are perturbed in place, inside attn
        context, weights = attn(q, k, mask)
        return F.concat([context, weights], axis=1)

    assert gradcheck(fn, [q, k, *params])


def test_dot_attention_needs_equal_sizes():
    with pytest.raises(ValueError, match="needs query_size == key_size, got 4 and 6"):
        MultiplicativeAttention(4, 6, score="dot")
    with pytest.raises(ValueError, match="score must be 'general' or 'dot', got 'concat'"):
        MultiplicativeAttention(4, 4, score="concat")


# ---- loss and scores -----------------------------------------------------------------------


def test_sequence_crossentropy_ignores_padding_and_weights_sequences():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((2, 4, 5))
    target = np.array([[3, 4, 2, 0], [4, 2, 0, 0]])
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, target[..., None], -1)[..., 0]
    real = target != 0
    loss = SequenceCrossentropy()(target, Tensor(logits))
    assert loss.item() == pytest.approx(-picked[real].mean(), rel=1e-12)
    weighted = SequenceCrossentropy()(target, Tensor(logits), sample_weight=np.array([1.0, 3.0]))
    w = real * np.array([[1.0], [3.0]])
    assert weighted.item() == pytest.approx(-(picked * w).sum() / w.sum(), rel=1e-12)


def test_strip_tokens_and_exact_match():
    assert strip_tokens([1, 5, 6, 2, 7, 0]) == [5, 6]
    assert strip_tokens([5, 0, 6]) == [5, 6]
    predicted = np.array([[5, 6, 2, 0], [5, 2, 9, 9], [6, 6, 2, 0]])
    target = np.array([[1, 5, 6, 2, 0], [1, 5, 6, 2, 0], [1, 6, 6, 2, 0]])
    assert exact_match(predicted, target) == pytest.approx(2 / 3)


# ---- decoding ------------------------------------------------------------------------------


class TableModel:
    """A hand-built scorer: the next-token log-probabilities depend on the prefix only.

    Tokens: PAD 0, BOS 1, EOS 2, 'a' 3, 'b' 4. After BOS: a 0.5, b 0.4, EOS 0.1; after 'a':
    EOS 0.4, a 0.3, b 0.3; after 'b': EOS 0.9. Greedy takes 'a' then EOS, p = 0.2; the best
    sequence is 'b' EOS, p = 0.36. Unlisted prefixes: EOS 0.3, a 0.35, b 0.35.
    """

    table = {
        (1,): [0, 0, 0.1, 0.5, 0.4],
        (1, 3): [0, 0, 0.4, 0.3, 0.3],
        (1, 4): [0, 0, 0.9, 0.05, 0.05],
    }

    def decode_start(self, src):
        return {"rows": np.arange(len(src))}

    def decode_step(self, state, prefix):
        rows = []
        for p in prefix.tolist():
            probs = self.table.get(tuple(p), [0, 0, 0.3, 0.35, 0.35])
            rows.append(np.log(np.maximum(probs, 1e-30)))
        return np.array(rows), state

    def decode_select(self, state, index):
        return {k: v[index] for k, v in state.items()}


def test_beam_search_beats_greedy_on_a_hand_built_table():
    src = np.zeros((1, 1), np.int64)
    greedy, greedy_score = greedy_decode(TableModel(), src, max_len=3)
    assert greedy[0].tolist() == [3, 2, 0]  # PAD after EOS
    assert greedy_score[0] == pytest.approx(np.log(0.5 * 0.4))
    beam, beam_score = beam_search(TableModel(), src, beam_width=2, max_len=3, length_penalty=0)
    assert beam[0].tolist() == [4, 2, 0]
    assert beam_score[0] == pytest.approx(np.log(0.4 * 0.9)) and beam_score[0] > greedy_score[0]
    one, one_score = beam_search(TableModel(), src, beam_width=1, max_len=3)
    np.testing.assert_array_equal(one, greedy)
    assert one_score[0] == pytest.approx(greedy_score[0])


def test_length_penalty_changes_the_winner():
    class Short(TableModel):  # 'a' EOS: p = 0.5 x 0.3 = 0.15 over 2 tokens
        table = {(1,): [0, 0, 0.2, 0.5, 0.3], (1, 3): [0, 0, 0.3, 0.6, 0.1]}

    src = np.zeros((1, 1), np.int64)
    # raw log-probability prefers the 1-token "EOS" (0.2) to "a EOS" (0.15)...
    raw, _ = beam_search(Short(), src, beam_width=3, max_len=4, length_penalty=0.0)
    assert strip_tokens(raw[0]) == [] and raw[0, 0] == 2
    # ... the per-token mean prefers "a a EOS": (0.5 x 0.6 x 0.3)^(1/3) = 0.448 > 0.387 of
    # "a EOS" > 0.2 of "EOS"
    mean, score = beam_search(Short(), src, beam_width=3, max_len=4, length_penalty=1.0)
    assert mean[0].tolist() == [3, 3, 2, 0]
    assert score[0] == pytest.approx(np.log(0.5 * 0.6 * 0.3))


def _tiny_data():
    return reversal_task(64, 8, length=5, num_tokens=4, rng=0, min_length=3)


def _models(vocab):
    return [
        TransformerSeq2Seq(
            vocab,
            vocab,
            d_model=16,
            nhead=2,
            num_encoder_layers=1,
            num_decoder_layers=2,
            dim_feedforward=32,
            seed=0,
        ),
        RNNSeq2Seq(vocab, vocab, embed_dim=8, hidden_size=12, attention="bahdanau", seed=0),
        RNNSeq2Seq(vocab, vocab, 8, 12, cell="lstm", attention="general", seed=1),
        RNNSeq2Seq(vocab, vocab, 8, 12, attention="dot", seed=2),
    ]


@pytest.mark.parametrize("index", range(4))
def test_incremental_decoding_equals_teacher_forcing(index):
    """decode_step on each prefix gives the teacher-forced logits at that position: the
    causal mask (Transformer) and the step recurrence (RNN) see only the past."""
    train, _ = _tiny_data()
    model = _models(len(train.src_vocab))[index]
    model.eval()
    src, tgt_in = train.src[:6], train.tgt_in[:6]
    full = model(src, tgt_in).data
    full = full - np.log(np.exp(full).sum(axis=-1, keepdims=True))
    state = model.decode_start(src)
    for t in range(tgt_in.shape[1]):
        log_probs, state = model.decode_step(state, tgt_in[:, : t + 1])
        np.testing.assert_allclose(log_probs, full[:, t], atol=2e-5)


@pytest.mark.parametrize("index", range(4))
def test_source_padding_does_not_change_the_output(index):
    train, _ = _tiny_data()
    model = _models(len(train.src_vocab))[index]
    model.eval()
    src, tgt_in = train.src[:6], train.tgt_in[:6]
    padded = np.concatenate([src, np.zeros((6, 3), np.int64)], axis=1)
    np.testing.assert_allclose(model(padded, tgt_in).data, model(src, tgt_in).data, atol=2e-5)
    attention = model.cross_attention(padded, tgt_in)
    assert (attention[..., 5:] == 0).all()
    real = (src != 0)[:, None, None, :]
    np.testing.assert_allclose((attention[..., :5] * real).sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("index", [0, 1])
def test_beam_width_one_is_greedy_on_models(index):
    train, _ = _tiny_data()
    model = _models(len(train.src_vocab))[index]
    greedy, greedy_scores = greedy_decode(model, train.src[:8], max_len=7)
    beam, beam_scores = beam_search(model, train.src[:8], beam_width=1, max_len=7)
    np.testing.assert_array_equal(beam, greedy)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-6)


def test_float_or_flat_inputs_are_rejected_with_the_fix():
    model = RNNSeq2Seq(8, 8, embed_dim=4, hidden_size=4)
    model.compile("adam")
    with pytest.raises(ValueError, match=r"src \(x\) must be integer token ids.*float32 array"):
        model.fit(np.ones((4, 3)), np.ones((4, 5), np.int64), verbose=0)
    with pytest.raises(ValueError, match=r"tgt \(y\) must be .*shape \(4,\).*encode_batch"):
        model.fit(np.ones((4, 3), np.int64), np.ones(4, np.int64), verbose=0)


def test_bad_rnn_settings_are_named():
    with pytest.raises(ValueError, match="cell must be 'gru' or 'lstm'.*cell='rnn'"):
        RNNSeq2Seq(8, 8, cell="rnn")
    with pytest.raises(ValueError, match="beam_width must be >= 1, got 0"):
        beam_search(TableModel(), np.zeros((1, 1)), beam_width=0)


# ---- learning ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["transformer", "bahdanau"])
def test_learns_to_reverse_short_sequences(kind):
    train, test = reversal_task(1500, 200, length=5, num_tokens=6, rng=0)
    vocab = len(train.src_vocab)
    if kind == "transformer":
        model = TransformerSeq2Seq(
            vocab,
            vocab,
            d_model=32,
            nhead=2,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=64,
            seed=0,
        )
    else:
        model = RNNSeq2Seq(vocab, vocab, embed_dim=16, hidden_size=32, seed=0)
    model.compile(optim.Adam(lr=3e-3 if kind == "transformer" else 1e-2, global_clipnorm=1.0))
    history = model.fit(train.src, train.tgt, batch_size=64, epochs=4, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    predicted = model.predict(test.src, max_len=6)
    assert exact_match(predicted, test.tgt) >= 0.95  # chance: 6^-5 (measured: 1.0 for both)
    assert (predicted[:, 5] == 2).mean() >= 0.95  # EOS right after the 5 symbols
    logs = model.evaluate(test.src, test.tgt, return_dict=True)
    assert logs["token_accuracy"] > 0.98 and logs["loss"] < 0.1
