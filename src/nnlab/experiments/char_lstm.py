"""A character-level LSTM language model on the committed Shakespeare excerpt (eight plays,
about 1 MB), against the bigram baseline, with generated text.

- Data: ``nnlab.data.text.load_shakespeare``; the 76-character vocabulary of the whole text;
  10 % validation taken as the last tenth of each of 10 equal blocks
  (``train_val_split``), so both parts span every play.
- Model: ``CharLSTM``, Embedding 32 -> LSTM 128 -> Linear 76; windows of 100 characters
  (``char_windows``, stride 100), batches of 64, Adam (lr 0.005, global gradient norm clipped
  to 5), softmax cross-entropy from the logits at every position.
- Score: perplexity on the validation text read as 32 streams with the state carried
  (``perplexity``), next to the add-alpha bigram model of the training text, alpha chosen
  on the validation text itself (a baseline given its best shot), and the uniform model (V).
- Text: ``sample`` at temperatures 0.5 and 1.0 and with top-k = 5, from the same seed text.

The budget is a few minutes on one BLAS thread; ``quick`` trains one epoch on a tenth of the
text (seconds) and only checks that everything runs.
"""

import time

import numpy as np

from nnlab import losses, optim
from nnlab.data.text import CharVocabulary, char_windows, load_shakespeare, train_val_split
from nnlab.experiments.common import one_blas_thread, output_dir, seed_everything, table
from nnlab.models.char_lm import CharLSTM, bigram_perplexity, perplexity, sample
from nnlab.training.callbacks.base import Callback

EMBEDDING, HIDDEN, LAYERS = 32, 128, 1
SEQ_LEN, BATCH_SIZE, LR, CLIPNORM = 100, 64, 0.005, 5.0
EPOCHS, QUICK_EPOCHS, QUICK_FRACTION = 6, 1, 0.1
ALPHAS = (0.01, 0.1, 1.0)
SEED_TEXT, SAMPLE_LENGTH = "Ham.\n", 400
SAMPLES = (("temperature 0.5", 0.5, None), ("temperature 1.0", 1.0, None), ("top-k 5", 1.0, 5))


class _EpochTimer(Callback):
    """Seconds per epoch, printed with the losses as perplexities."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)
        print(
            f"  epoch {epoch + 1}: train loss {logs['loss']:.4f} (ppl {np.exp(logs['loss']):.2f})"
            f", val loss {logs['val_loss']:.4f} (ppl {np.exp(logs['val_loss']):.2f}), "
            f"{self.times[-1]:.1f} s",
            flush=True,
        )


def prepare(quick: bool = False):
    """(vocab, train_ids, val_ids): the vocabulary of the whole excerpt and the block split
    (with ``quick``, of its first ``QUICK_FRACTION``)."""
    text = load_shakespeare()
    vocab = CharVocabulary.fit(text)
    ids = vocab.encode(text)
    if quick:
        ids = ids[: int(len(ids) * QUICK_FRACTION)]
    train_ids, val_ids = train_val_split(ids, val_fraction=0.1, blocks=10)
    return vocab, train_ids, val_ids


def train(vocab, train_ids, val_ids, epochs=EPOCHS, seed=0):
    """Fit a CharLSTM on windows of the training ids; returns (model, history, epoch seconds)."""
    seed_everything(seed)
    model = CharLSTM(len(vocab), EMBEDDING, HIDDEN, LAYERS, seed=seed, name="char_lstm")
    model.compile(
        optim.Adam(lr=LR, global_clipnorm=CLIPNORM),
        losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = char_windows(train_ids, SEQ_LEN)
    timer = _EpochTimer()
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        verbose=0,
        validation_data=char_windows(val_ids, SEQ_LEN),
        callbacks=[timer],
    )
    return model, history, timer.times


@one_blas_thread
def run(out_dir="outputs/char_lstm", quick: bool = False, seed: int = 0) -> dict:
    """Train, score against the bigram baseline, print samples and plot the loss curves."""
    from nnlab.plots import plot_history

    start = time.perf_counter()
    out = output_dir(out_dir)
    vocab, train_ids, val_ids = prepare(quick)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    print(
        f"char_lstm: Shakespeare excerpt, {len(train_ids):,} training and {len(val_ids):,} "
        f"validation characters, vocabulary {len(vocab)}; Embedding {EMBEDDING} -> LSTM "
        f"{HIDDEN} x {LAYERS} -> Linear {len(vocab)}, windows of {SEQ_LEN}, batch {BATCH_SIZE}, "
        f"{epochs} epoch(s)",
        flush=True,
    )
    model, history, epoch_times = train(vocab, train_ids, val_ids, epochs, seed)
    train_seconds = float(sum(epoch_times))
    lstm_ppl = perplexity(model, val_ids)
    bigram = {a: bigram_perplexity(train_ids, val_ids, len(vocab), a) for a in ALPHAS}
    best_alpha = min(bigram, key=bigram.get)
    rows = [
        ["uniform over the vocabulary", f"{len(vocab):.2f}"],
        *[[f"bigram, add-{a} smoothing", f"{p:.2f}"] for a, p in bigram.items()],
        [f"CharLSTM ({train_seconds:.0f} s of training)", f"{lstm_ppl:.2f}"],
    ]
    print(table("validation perplexity (lower is better)", ["model", "perplexity"], rows))
    samples = {}
    for label, temperature, top_k in SAMPLES:
        rng = np.random.default_rng(seed)
        text = sample(model, vocab, SEED_TEXT, SAMPLE_LENGTH, temperature, top_k, rng)
        samples[label] = text
        print(f"\n--- sample, {label}, seed {SEED_TEXT!r} ---\n{SEED_TEXT}{text}")
    (out / "samples.txt").write_text(
        "".join(f"--- {k} ---\n{SEED_TEXT}{v}\n\n" for k, v in samples.items()), "utf-8"
    )
    plots = {"history": str(out / "history.png")}
    plot_history(history, path=plots["history"])
    elapsed = time.perf_counter() - start
    print(f"\nchar_lstm: {elapsed:.1f} s ({train_seconds:.1f} s training)", flush=True)
    metrics = {
        "val_perplexity": lstm_ppl,
        "bigram_perplexity": bigram[best_alpha],
        "bigram_alpha": best_alpha,
        "bigram_by_alpha": bigram,
        "uniform_perplexity": float(len(vocab)),
        "epoch_seconds": epoch_times,
        "train_seconds": train_seconds,
        "seconds": elapsed,
        "samples": samples,
    }
    summary = [
        {
            "experiment": "char-LSTM on Shakespeare: validation perplexity",
            "ours": f"{lstm_ppl:.2f} (bigram {bigram[best_alpha]:.2f})",
            "seed": "text generation sketched, no number",
            "note": "below the bigram" if lstm_ppl < bigram[best_alpha] else "NOT below bigram",
        }
    ]
    return {"name": "char_lstm", "metrics": metrics, "summary": summary, "plots": plots}


def main() -> None:
    run()


if __name__ == "__main__":
    main()
