"""The character-level LSTM language model: training on a short string, sampling with the
carried state, temperature and top-k, perplexity and the bigram baseline."""

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import nnlab
from nnlab import functional as F
from nnlab import losses, optim
from nnlab.autograd.graph import no_grad
from nnlab.data.text import CharVocabulary, char_windows
from nnlab.models.char_lm import CharLSTM, bigram_perplexity, next_id, perplexity, sample

TEXT = "hello world. " * 20


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small GEMMs in a time loop: OpenBLAS's threads only wait for each other on a shared
    machine (see nnlab.experiments.common.one_blas_thread)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def trained():
    """A tiny CharLSTM fitted to a repeated short string (about a second)."""
    vocab = CharVocabulary.fit(TEXT)
    x, y = char_windows(vocab.encode(TEXT), 24, stride=3)
    model = CharLSTM(len(vocab), embedding_dim=8, hidden_size=32, seed=0)
    model.compile(
        optim.Adam(lr=0.02, global_clipnorm=1.0),
        losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x, y, batch_size=16, epochs=30, verbose=0)
    return model, vocab, history.history["loss"]


def _greedy_by_rerunning(model, vocab, seed_text, length):
    """Greedy decoding the slow way: the whole prefix through the model at every step."""
    ids = list(vocab.encode(seed_text))
    with no_grad():
        for _ in range(length):
            logits = model(np.array([ids])).data
            ids.append(int(np.argmax(logits[0, -1])))
    return vocab.decode(ids[len(seed_text) :])


def test_tiny_model_overfits_and_greedy_sampling_reproduces_the_text(trained):
    model, vocab, loss = trained
    assert loss[0] > 1.5 and loss[-1] < 0.1  # from ~ln(9) to near the floor set by ambiguity
    text = sample(model, vocab, "hello", 40, temperature=0)
    assert text == (" world. hello" * 4)[:40]
    assert text == _greedy_by_rerunning(model, vocab, "hello", 40)


def test_low_temperature_and_top_k_1_are_greedy(trained):
    model, vocab, _ = trained
    greedy = sample(model, vocab, "wor", 30, temperature=0)
    assert sample(model, vocab, "wor", 30, temperature=1e-4, rng=1) == greedy
    assert sample(model, vocab, "wor", 30, temperature=1.0, top_k=1, rng=2) == greedy
    assert sample(model, vocab, "wor", 30, temperature=5.0, rng=3) != greedy  # hot: random


def test_sample_steps_the_state_instead_of_rerunning_the_prefix(trained):
    model, vocab, _ = trained
    lengths = []
    original = model.forward_with_state

    def spy(ids, state=None):
        lengths.append(np.shape(ids)[1])
        return original(ids, state)

    model.forward_with_state = spy
    try:
        sample(model, vocab, "hello w", 10, rng=0)
    finally:
        del model.forward_with_state
    assert lengths == [7] + [1] * 9  # the last character needs no step after it
    assert model.training  # restored after sampling in inference mode


def test_next_id_follows_the_tempered_softmax_and_top_k():
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    rng = np.random.default_rng(0)
    draws = np.array([next_id(logits, 0.5, rng=rng) for _ in range(20000)])
    p = np.exp(logits / 0.5) / np.exp(logits / 0.5).sum()
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / len(draws), p, atol=0.01)
    draws = np.array([next_id(logits, 1.0, top_k=2, rng=rng) for _ in range(20000)])
    counts = np.bincount(draws, minlength=4) / len(draws)
    assert counts[2] == counts[3] == 0
    np.testing.assert_allclose(counts[:2], [math.e / (math.e + 1), 1 / (math.e + 1)], atol=0.01)
    assert next_id(logits, 0.0) == 0 and next_id([0.0, 3.0, 1.0], 2.0, top_k=1) == 1
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        next_id(logits, -1.0)


# ---- perplexity ----------------------------------------------------------------------------


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    model = CharLSTM(13, embedding_dim=4, hidden_size=8, seed=0)
    model.head.weight.data[:] = 0
    model.head.bias.data[:] = 0
    ids = np.random.default_rng(0).integers(0, 13, 500)
    assert perplexity(model, ids) == pytest.approx(13.0, rel=1e-9)


def test_perplexity_carries_the_state_across_chunks_and_streams():
    model = CharLSTM(7, embedding_dim=4, hidden_size=8, seed=1)
    ids = np.random.default_rng(1).integers(0, 7, 101)
    with no_grad():
        logits = model(ids[None, :-1])
        ce = F.cross_entropy(logits.reshape(100, 7), ids[1:]).item()
    exact = math.exp(ce)
    assert perplexity(model, ids, seq_len=1000, streams=1) == pytest.approx(exact, rel=1e-5)
    assert perplexity(model, ids, seq_len=7, streams=1) == pytest.approx(exact, rel=1e-5)
    # 3 streams of 33 predictions plus a 1-prediction tail: each piece starts from zeros
    pieces = [ids[0:34], ids[33:67], ids[66:100], ids[99:101]]
    nll = 0.0
    with no_grad():
        for piece in pieces:
            out = model(piece[None, :-1]).data[0].astype(np.float64)
            log_p = out - np.log(np.exp(out).sum(axis=-1, keepdims=True))
            nll -= log_p[np.arange(len(piece) - 1), piece[1:]].sum()
    expected = math.exp(nll / 100)
    assert perplexity(model, ids, seq_len=5, streams=3) == pytest.approx(expected, rel=1e-5)


def test_trained_model_beats_its_bigram_baseline(trained):
    model, vocab, _ = trained
    ids = vocab.encode(TEXT)
    assert perplexity(model, ids) < 1.2 < bigram_perplexity(ids, ids, alpha=0.01)


# ---- bigram baseline -------------------------------------------------------------------------


def test_bigram_perplexity_matches_a_hand_computation():
    train, val = [0, 1, 0, 1, 0], [0, 0, 1]
    # counts: 0->1 twice, 1->0 twice. alpha = 1, V = 2: P(0|0) = 1/4, P(1|0) = 3/4
    assert bigram_perplexity(train, val, alpha=1.0) == pytest.approx((1 / 4 * 3 / 4) ** -0.5)
    # V = 3: P(0|0) = (0 + 1) / (2 + 3), P(1|0) = (2 + 1) / (2 + 3)
    expected = (1 / 5 * 3 / 5) ** -0.5
    assert bigram_perplexity(train, val, vocab_size=3, alpha=1.0) == pytest.approx(expected)
    # alpha = 0: maximum likelihood, infinite on an unseen pair, exact on seen ones
    assert bigram_perplexity(train, val, alpha=0.0) == math.inf
    assert bigram_perplexity(train, [0, 1, 0], alpha=0.0) == pytest.approx(1.0)


# ---- model plumbing ------------------------------------------------------------------------


def test_char_lstm_rejects_float_input_and_round_trips_through_save(tmp_path):
    model = CharLSTM(10, embedding_dim=4, hidden_size=6, num_layers=2, seed=3)
    with pytest.raises(ValueError, match=r"integer character ids of shape \(N, T\)"):
        model(np.zeros((2, 5), np.float32))
    model.compile(optim.Adam(global_clipnorm=1.0), "sparse_categorical_crossentropy")
    ids = np.random.default_rng(0).integers(0, 10, (4, 6))
    path = tmp_path / "char_lstm.nnlab"
    model.save(path)
    again = nnlab.load(path)
    assert isinstance(again, CharLSTM) and again.num_layers == 2
    np.testing.assert_array_equal(again.predict(ids), model.predict(ids))
    _, (h, c) = model.forward_with_state(ids)
    assert h.shape == c.shape == (2, 4, 6)


def test_char_lstm_experiment_quick_run(tmp_path, capsys):
    from nnlab.experiments import char_lstm

    result = char_lstm.run(out_dir=tmp_path, quick=True, seed=0)
    out = capsys.readouterr().out
    assert "validation perplexity" in out and "bigram, add-0.1 smoothing" in out
    metrics = result["metrics"]
    assert metrics["uniform_perplexity"] == 76.0
    assert 1.0 < metrics["bigram_perplexity"] < 76.0 and 1.0 < metrics["val_perplexity"] < 76.0
    assert set(metrics["samples"]) == {"temperature 0.5", "temperature 1.0", "top-k 5"}
    assert all(len(text) == char_lstm.SAMPLE_LENGTH for text in metrics["samples"].values())
    assert (tmp_path / "samples.txt").read_text().startswith("--- temperature 0.5 ---\nHam.\n")
    assert (tmp_path / "history.png").stat().st_size > 0
