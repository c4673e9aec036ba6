"""The seeds' claim measured: do Transformers beat recurrent networks on long-range
dependencies? SimpleRNN, LSTM and a Transformer against sequence length; and a Transformer
sequence classifier on a small labelled task with padding and negation.

**Long-range task** (``first_token_task``; Hochreiter & Schmidhuber 1997, experiment 2): the
first token of a sequence is one of two signal tokens and decides the label; the other
T - 1 tokens are distractors drawn from eight other tokens. Why this task is fair to all
three models:

- every model reads its answer at the END of the sequence: the recurrent networks from their
  last state, the Transformer from its output at the last position (``pooling='last'``), so
  the label's only evidence is always T - 1 positions away from the read-out (a mean pool
  would hand the Transformer the first token's own output directly, bypassing the
  dependency);
- signal and distractor tokens differ, so no model needs to count positions: the recurrent
  network can learn to ignore distractors, attention to look for the signal by content;
- the same parameter budget (about 9k weights each), the same optimizer (Adam, lr 3e-3,
  global gradient norm clipped to 1), the same training sequences, and the same budget:
  at most ``ROUNDS`` rounds of ``ROUND_SIZE`` fresh sequences (so nothing can be memorised),
  stopping early once 99% of a validation set is right;
- each recurrent cell starts as Keras initialises it (orthogonal recurrent weights, LSTM
  forget-gate bias 1: ``RecurrentClassifier``), its strongest standard start.

The models: SimpleRNN (76 units), LSTM (32 units), each on 32-wide embeddings; a one-layer
post-norm Transformer encoder (d_model 32, 2 heads, feed-forward 64, sinusoidal positions, no
dropout). A model *solves* a length at test accuracy >= 0.99 and *fails* it below 0.6
(chance is 0.5). Where the LSTM fails, it is not for want of steps in this budget alone:
PyTorch's LSTM with the same recipe and 1500 steps does not learn T = 50 either (measured
while writing this experiment), because at initialisation the gradient from the read-out to
the first token shrinks by the forget gate (about 0.73) at every step.

**Sequence classification** (``sentiment_task``): sentences of 6 to 20 tokens (right-padded
to 20) holding three sentiment words, each positive or negative and each negated by a "not"
just before it with probability 0.3; the label is the majority polarity after negation.
Word counts cannot solve it (which word a "not" belongs to matters), so a bag-of-words
logistic regression is the baseline; a Transformer classifier (two layers, d_model 32, 2
heads, mean pool over the real tokens, padding masked, no dropout: with dropout 0.1 it
stalled near 0.80 in 16 epochs, as did PyTorch's equivalent) and an LSTM are trained on the
same data.
"""

import time

import numpy as np

from nnlab import losses, optim
from nnlab.experiments.common import one_blas_thread, output_dir, summary_row, table
from nnlab.models.sequence_classifier import RecurrentClassifier, TransformerClassifier

# ---- the long-range task ------------------------------------------------------------------
SIGNALS, DISTRACTORS = 2, 8  # signal ids 1..2, distractor ids 3..10; 0 is padding
LONG_RANGE_VOCAB = 1 + SIGNALS + DISTRACTORS
LENGTHS, QUICK_LENGTHS = (10, 25, 50, 100, 200), (8, 16)
ROUNDS, QUICK_ROUNDS = 40, 8
ROUND_SIZE, BATCH_SIZE, LR, CLIPNORM = 1024, 64, 3e-3, 1.0
N_VAL, N_TEST = 512, 2000
SOLVED, FAILED = 0.99, 0.6
MODELS = ("SimpleRNN", "LSTM", "Transformer")

# ---- the sentiment task -------------------------------------------------------------------
PAD, NOT = 0, 1
POSITIVE, NEGATIVE, NEUTRAL = np.arange(2, 7), np.arange(7, 12), np.arange(12, 24)
SENTIMENT_VOCAB, SENTIMENT_LENGTH = 24, 20
SENTIMENT_TRAIN, QUICK_SENTIMENT_TRAIN, SENTIMENT_TEST = 8000, 1000, 2000
SENTIMENT_EPOCHS, QUICK_SENTIMENT_EPOCHS = 20, 4
NEGATION_RATE = 0.3


def first_token_task(n: int, length: int, rng):
    """``n`` sequences of ``length`` tokens: a signal token (1 or 2) first, then distractors
    (3 .. 10); the label is the signal's class.

    Returns:
        ids (n, length) int64, labels (n,) int64 in {0, 1}.
    """
    if length < 2:
        raise ValueError(
            f"first_token_task needs length >= 2 (a signal and a distractor), got {length}"
        )
    rng = np.random.default_rng(rng)
    ids = rng.integers(1 + SIGNALS, LONG_RANGE_VOCAB, (n, length))
    labels = rng.integers(0, SIGNALS, n)
    ids[:, 0] = 1 + labels
    return ids, labels


def sentiment_task(n: int, rng, min_length: int = 6, max_length: int = SENTIMENT_LENGTH):
    """``n`` toy sentences with three sentiment words, some negated (see the module docstring).

    Each sentence of length L is cut into three chunks of L // 3 tokens; each chunk holds one
    sentiment word at a random place after its first token, which leaves room for a "not"
    right before it inside the chunk. The rest is neutral filler; positions >= L are padding.

    Returns:
        ids (n, max_length) int64 (0 = padding), labels (n,) int64 (1 = positive).
    """
    if not 6 <= min_length <= max_length:
        raise ValueError(f"need 6 <= min_length <= max_length, got {min_length}, {max_length}")
    rng = np.random.default_rng(rng)
    lengths = rng.integers(min_length, max_length + 1, n)
    ids = rng.choice(NEUTRAL, (n, max_length))
    ids[np.arange(max_length) >= lengths[:, None]] = PAD
    chunk = lengths // 3  # >= 2
    rows = np.arange(n)
    score = np.zeros(n, np.int64)
    for k in range(3):  # three sentiment words per sentence, one per chunk
        position = k * chunk + 1 + (rng.random(n) * (chunk - 1)).astype(np.int64)
        positive = rng.random(n) < 0.5
        negated = rng.random(n) < NEGATION_RATE
        ids[rows, position] = np.where(positive, rng.choice(POSITIVE, n), rng.choice(NEGATIVE, n))
        ids[rows[negated], position[negated] - 1] = NOT
        score += np.where(positive != negated, 1, -1)
    return ids, (score > 0).astype(np.int64)


# ---- models and training ------------------------------------------------------------------


def build_model(name: str, vocab_size: int, num_classes: int, max_len: int, seed: int = 0):
    """The compiled long-range model ``name`` (one of ``MODELS``), about 9k parameters."""
    if name == "SimpleRNN":
        model = RecurrentClassifier(vocab_size, num_classes, "SimpleRNN", 32, 76, seed=seed)
    elif name == "LSTM":
        model = RecurrentClassifier(vocab_size, num_classes, "LSTM", 32, 32, seed=seed)
    elif name == "Transformer":
        model = TransformerClassifier(
            vocab_size, num_classes, d_model=32, nhead=2, num_layers=1, dim_feedforward=64,
            dropout=0.0, max_len=max_len, pooling="last", seed=seed,
        )  # fmt: skip
    else:
        raise ValueError(f"model must be one of {list(MODELS)}, got {name!r}")
    opt = optim.Adam(lr=LR, global_clipnorm=CLIPNORM)
    return model.compile(opt, losses.SparseCategoricalCrossentropy(from_logits=True))


def accuracy(model, x, y) -> float:
    """Fraction of sequences whose argmax logit is the label (inference mode)."""
    return float(np.mean(model.predict(x, batch_size=500).argmax(axis=1) == y))


def train_long_range(name, length, *, rounds=ROUNDS, seed=0, max_len=None) -> dict:
    """Train model ``name`` on ``first_token_task`` at ``length`` for at most ``rounds`` rounds
    of ``ROUND_SIZE`` fresh sequences, stopping once the validation accuracy is >= SOLVED.

    Every model sees the same validation and test sets and the same training sequences (all
    drawn from Generators seeded with (seed, length)).

    Returns:
        dict: accuracy (test), solved, failed, rounds (run), steps, seconds (training),
        params.
    """
    val = first_token_task(N_VAL, length, [seed, length, 1])
    test = first_token_task(N_TEST, length, [seed, length, 2])
    stream = np.random.default_rng([seed, length, 3])
    model = build_model(name, LONG_RANGE_VOCAB, SIGNALS, max_len or length, seed)
    seconds, run = 0.0, 0
    while run < rounds:
        x, y = first_token_task(ROUND_SIZE, length, stream)
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        seconds += time.perf_counter() - start
        run += 1
        if accuracy(model, *val) >= SOLVED:
            break
    acc = accuracy(model, *test)
    return dict(
        accuracy=acc,
        solved=acc >= SOLVED,
        failed=acc < FAILED,
        rounds=run,
        steps=run * -(-ROUND_SIZE // BATCH_SIZE),
        seconds=seconds,
        params=sum(p.size for p in model.parameters()),
    )


def _mark(r) -> str:
    return "solved" if r["solved"] else ("FAILED" if r["failed"] else "partial")


def _length_tables(results, lengths, rounds) -> str:
    header = ["model (parameters)", *[f"T={t}" for t in lengths], "longest solved"]
    acc_rows, time_rows = [], []
    for name in MODELS:
        runs = [results[name, t] for t in lengths]
        solved = [t for t, r in zip(lengths, runs, strict=True) if r["solved"]]
        label = f"{name} ({runs[0]['params']})"
        acc_rows.append(
            [label, *[f"{r['accuracy']:.3f} {_mark(r)}" for r in runs], max(solved, default="-")]
        )
        time_rows.append([label, *[f"{r['seconds']:.2f} s / {r['steps']} st" for r in runs]])
    steps = rounds * -(-ROUND_SIZE // BATCH_SIZE)
    return "\n\n".join([
        table(
            f"first-token task: test accuracy on {N_TEST} sequences (solved: >= {SOLVED}, "
            f"FAILED: < {FAILED}, chance 0.5)", header, acc_rows,
        ),
        table(
            f"training time / steps of {BATCH_SIZE} (budget at most {steps} steps, stopping "
            f"once validation accuracy >= {SOLVED})", header[:-1], time_rows,
        ),
    ])  # fmt: skip


def long_range_comparison(lengths, rounds, seed=0) -> dict:
    """{(model, length): train_long_range result} for every model and length, printed."""
    results = {}
    for length in lengths:
        for name in MODELS:
            r = train_long_range(name, length, rounds=rounds, seed=seed, max_len=max(lengths))
            results[name, length] = r
            print(
                f"  {name:11s} T={length:3d}: test accuracy {r['accuracy']:.3f} ({_mark(r)}) "
                f"after {r['steps']} steps, {r['seconds']:.2f} s",
                flush=True,
            )
    print(_length_tables(results, lengths, rounds), flush=True)
    return results


# ---- sequence classification --------------------------------------------------------------


def bag_of_words_accuracy(train, test) -> float:
    """Test accuracy of a logistic regression on token counts (word order ignored)."""
    from sklearn.linear_model import LogisticRegression

    def counts(ids):
        return np.stack([np.bincount(row, minlength=SENTIMENT_VOCAB)[1:] for row in ids])

    clf = LogisticRegression(max_iter=2000).fit(counts(train[0]), train[1])
    return float(np.mean(clf.predict(counts(test[0])) == test[1]))


def sentiment_classification(n_train, epochs, seed=0) -> dict:
    """Train a Transformer classifier and an LSTM on ``sentiment_task``; test accuracies and
    the bag-of-words baseline, printed as a table."""
    train = sentiment_task(n_train, [seed, 10])
    test = sentiment_task(SENTIMENT_TEST, [seed, 11])
    models = {
        "Transformer (mean pool, padding masked)": TransformerClassifier(
            SENTIMENT_VOCAB, 2, d_model=32, nhead=2, num_layers=2, dim_feedforward=64,
            dropout=0.0, max_len=SENTIMENT_LENGTH, seed=seed,
        ),
        "LSTM (state after the last real token)": RecurrentClassifier(
            SENTIMENT_VOCAB, 2, "LSTM", 32, 48, seed=seed
        ),
    }  # fmt: skip
    scores, rows = {}, []
    for label, model in models.items():
        model.compile(
            optim.Adam(lr=LR, global_clipnorm=CLIPNORM),
            losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        start = time.perf_counter()
        model.fit(*train, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
        seconds = time.perf_counter() - start
        scores[label] = accuracy(model, *test)
        params = sum(p.size for p in model.parameters())
        rows.append([label, params, f"{scores[label]:.4f}", f"{seconds:.1f}"])
    bag = "bag of words (logistic regression)"
    scores[bag] = bag_of_words_accuracy(train, test)
    rows.append([bag, "-", f"{scores[bag]:.4f}", "-"])
    print(
        table(
            f"sentiment with negation: test accuracy on {SENTIMENT_TEST} sentences "
            f"({n_train} training sentences, {epochs} epochs)",
            ["model", "parameters", "test accuracy", "train s"],
            rows,
        ),
        flush=True,
    )
    return scores


# ---- the experiment -----------------------------------------------------------------------


def _plot(results, lengths, path) -> None:
    from nnlab.plots_sequence import plot_accuracy_vs_length

    params = {name: results[name, lengths[0]]["params"] for name in MODELS}
    plot_accuracy_vs_length(
        {name: [results[name, t]["accuracy"] for t in lengths] for name in MODELS},
        lengths,
        path=path,
        title="First-token task: the label is decided T - 1 steps before the read-out",
        chance=0.5,
        solved=SOLVED,
        labels={name: f"{name} ({params[name]} parameters)" for name in MODELS},
    )


def _summary(results, longest, sentiment, lengths) -> list:
    transformer_best = all(
        results["Transformer", t]["accuracy"] >= results[name, t]["accuracy"] - 0.01
        for name in MODELS
        for t in lengths
    )
    agrees = transformer_best and longest["Transformer"] == lengths[-1]
    return [
        summary_row(
            f"first-token task: longest length solved (acc >= {SOLVED})",
            ", ".join(f"{name} {t or 'none'}" for name, t in longest.items()),
            "Transformers beat RNNs on long-range dependencies",
            "agrees" if agrees else "differs",
        ),
        summary_row(
            "sentiment with negation: Transformer test accuracy",
            sentiment["Transformer (mean pool, padding masked)"],
            "sequence classification",
        ),
    ]


@one_blas_thread
def run(out_dir="outputs/long_range", quick: bool = False, seed: int = 0) -> dict:
    """The length comparison (table and plot) and the sentiment classifier (table)."""
    start = time.perf_counter()
    out = output_dir(out_dir)
    lengths, rounds = (QUICK_LENGTHS, QUICK_ROUNDS) if quick else (LENGTHS, ROUNDS)
    print(
        f"long-range: first-token task, {', '.join(MODELS)}; Adam lr {LR}, clipnorm {CLIPNORM}, "
        f"at most {rounds} rounds of {ROUND_SIZE} fresh sequences (batch {BATCH_SIZE})",
        flush=True,
    )
    results = long_range_comparison(lengths, rounds, seed)
    plot = out / "accuracy_vs_length.png"
    _plot(results, lengths, plot)
    if quick:
        sentiment = sentiment_classification(QUICK_SENTIMENT_TRAIN, QUICK_SENTIMENT_EPOCHS, seed)
    else:
        sentiment = sentiment_classification(SENTIMENT_TRAIN, SENTIMENT_EPOCHS, seed)
    elapsed = time.perf_counter() - start
    print(f"long-range experiment: {elapsed:.1f} s", flush=True)
    longest = {
        name: max((t for t in lengths if results[name, t]["solved"]), default=None)
        for name in MODELS
    }
    metrics = {
        "long_range": {f"{name}@{t}": r for (name, t), r in results.items()},
        "longest_solved": longest,
        "sentiment": sentiment,
        "seconds": elapsed,
    }
    return {
        "name": "long_range",
        "metrics": metrics,
        "summary": _summary(results, longest, sentiment, lengths),
        "plots": {"accuracy_vs_length": str(plot)},
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
