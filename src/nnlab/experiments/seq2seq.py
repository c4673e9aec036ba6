"""Sequence-to-sequence with attention: a small Transformer on sequence reversal, sorting and
date normalisation, an RNN encoder-decoder with Bahdanau and Luong attention on the dates,
greedy against beam-search decoding, and attention heatmaps.

- **Reversal / sorting** (``nnlab.data.seq2seq_tasks``): length-20 sequences over 10 symbols;
  the test sequences never occur in training. Score: exact match (the whole output right).
- **Dates**: "21 Nov 2026", "November 21, 2026", "21/11/2026", "2026.11.21", ... (8
  formats) -> "2026-11-21"; the test dates (10% of 1950-2049) are never seen in training,
  in any format. Scores: exact match, and **alignment**: for each target digit, is the
  argmax of the cross-attention that produced it one of the source positions of the digit
  it came from (the whole field for month names and a day without its leading zero)? The
  attention is read on a teacher-forced pass of the reference target; for the Transformer,
  from the last decoder layer with its heads averaged (the acceptance figure; per-head and
  best-head figures are printed too).
- Transformer: d_model 64, 4 heads, 2 + 2 post-norm layers, feed-forward 128, no dropout.
  RNN: bidirectional GRU encoder (2 x 32), GRU decoder (64), embeddings 32.
- Training: Adam, global gradient norm clipped to 1, learning rate cosine-decayed to 0 per
  batch, batches of 64, teacher forcing, cross-entropy over non-PAD target tokens.
- Decoding: greedy (batched) and beam search (width 4, scores divided by length), compared
  on the same subset of the test set.
"""

import time

import numpy as np

from nnlab import optim
from nnlab.data.seq2seq_tasks import date_task, reversal_task, sorting_task
from nnlab.experiments.common import one_blas_thread, output_dir, seed_everything, table
from nnlab.models.seq2seq import RNNSeq2Seq, TransformerSeq2Seq
from nnlab.models.seq2seq_decoding import beam_search, exact_match
from nnlab.optim.schedules import cosine_decay
from nnlab.training.callbacks.base import Callback

TRANSFORMER = dict(
    d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=128
)
RNN = dict(embed_dim=32, hidden_size=64, cell="gru")
RNN_ATTENTIONS = ("bahdanau", "general")
BATCH_SIZE, BEAM_WIDTH, LENGTH_PENALTY = 64, 4, 1.0
FULL = {
    "length": 20,
    "symbols": dict(n_train=10000, n_test=1000, epochs=8, lr=1e-3),
    "dates": dict(n_train=10000, n_test=2000, epochs=10, lr=2e-3),
    "rnn": dict(epochs=6, lr=3e-3),
    "beam_subset": 300,
}
QUICK = {
    "length": 6,
    "symbols": dict(n_train=600, n_test=100, epochs=2, lr=3e-3),
    "dates": dict(n_train=600, n_test=100, epochs=2, lr=3e-3),
    "rnn": dict(epochs=2, lr=3e-3),
    "beam_subset": 20,
}
ACCEPT_REVERSAL, ACCEPT_DATES, ACCEPT_ALIGNMENT = 0.99, 0.98, 0.90


class CosinePerBatch(Callback):
    """Learning rate ``lr`` cosine-decayed to 0 over all the batches of the run."""

    def __init__(self, lr: float, total_steps: int):
        super().__init__()
        self.lr, self.total, self.step = lr, total_steps, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.lr = cosine_decay(self.lr, self.step, self.total)
        self.step += 1


def train(model, data, epochs: int, lr: float) -> dict:
    """Teacher-forced training (see the module docstring); returns History's dict and time."""
    model.compile(optim.Adam(lr=lr, global_clipnorm=1.0))
    steps = epochs * -(-len(data) // BATCH_SIZE)
    start, cpu = time.perf_counter(), time.process_time()
    history = model.fit(
        data.src,
        data.tgt,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        verbose=0,
        callbacks=[CosinePerBatch(lr, steps)],
    )
    return {
        "history": history.history,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }


def alignment_accuracy(attention, alignment, head=None) -> float:
    """Fraction of the target steps with an expected source position (``alignment``
    (N, T, S) bool) whose attention argmax lands on one of them.

    Args:
        attention: (N, heads, T, S) weights (T may be longer than the alignment's).
        head: None averages the heads first; an int reads that head.
    """
    steps = alignment.shape[1]
    weights = attention.mean(axis=1) if head is None else attention[:, head]
    peak = weights[:, :steps].argmax(axis=-1)
    hit = np.take_along_axis(alignment, peak[..., None], axis=-1)[..., 0]
    return float(hit[alignment.any(axis=-1)].mean())


def decoding_scores(model, test, subset: int) -> dict:
    """Greedy exact match on the whole test set; greedy and beam on its first ``subset``."""
    steps = test.tgt.shape[1] - 1
    greedy = model.predict(test.src, max_len=steps)
    part = slice(0, min(subset, len(test)))
    start = time.perf_counter()
    beam, _ = beam_search(model, test.src[part], BEAM_WIDTH, steps, LENGTH_PENALTY)
    return {
        "exact_match": exact_match(greedy, test.tgt),
        "greedy_subset": exact_match(greedy[part], test.tgt[part]),
        "beam_subset": exact_match(beam, test.tgt[part]),
        "beam_seconds": time.perf_counter() - start,
    }


def task_data(task: str, config: dict, seed: int):
    """(train, test) Seq2SeqData of 'reverse', 'sort' or 'dates' at ``config``'s sizes."""
    if task == "dates":
        settings = config["dates"]
        return date_task(settings["n_train"], settings["n_test"], rng=seed)
    settings = config["symbols"]
    make = reversal_task if task == "reverse" else sorting_task
    return make(settings["n_train"], settings["n_test"], config["length"], rng=seed)


def transformer_run(task: str, data, config: dict, seed: int) -> dict:
    """Train the Transformer on ``data`` (train, test) and score it (alignment for dates)."""
    train_set, test = data
    settings = config["dates" if task == "dates" else "symbols"]
    seed_everything(seed)
    vocab_sizes = len(train_set.src_vocab), len(train_set.tgt_vocab)
    model = TransformerSeq2Seq(*vocab_sizes, **TRANSFORMER, seed=seed)
    result = {"model": model, "test": test}
    result.update(train(model, train_set, settings["epochs"], settings["lr"]))
    result.update(decoding_scores(model, test, config["beam_subset"]))
    if task == "dates":
        cross = model.attention_maps(test.src, test.tgt_in)["cross"]
        last = cross[-1]
        result["alignment"] = alignment_accuracy(last, test.alignment)
        result["alignment_heads"] = [
            alignment_accuracy(last, test.alignment, h) for h in range(last.shape[1])
        ]
        result["alignment_layers"] = [alignment_accuracy(c, test.alignment) for c in cross]
    return result


def rnn_run(attention: str, data, config: dict, seed: int) -> dict:
    """Train the RNN encoder-decoder with ``attention`` on the dates ``data`` and score it."""
    train_set, test = data
    vocab_sizes = len(train_set.src_vocab), len(train_set.tgt_vocab)
    model = RNNSeq2Seq(*vocab_sizes, attention=attention, seed=seed, **RNN)
    result = {"model": model, "test": test}
    result.update(train(model, train_set, **config["rnn"]))
    result.update(decoding_scores(model, test, config["beam_subset"]))
    weights = model.cross_attention(test.src, test.tgt_in)
    result["alignment"] = alignment_accuracy(weights, test.alignment)
    return result


# ---- heatmaps --------------------------------------------------------------------------


def _labels(test, i: int):
    """(source labels, decoder-input labels, output labels) of test pair ``i``, unpadded."""
    from nnlab.plots_attention import token_labels

    src = test.src[i][test.src[i] != 0]
    steps = int(np.argmax(test.tgt_out[i] == 2)) + 1  # up to and including EOS
    return (
        token_labels(test.src_vocab, src),
        token_labels(test.tgt_vocab, test.tgt_in[i, :steps]),
        token_labels(test.tgt_vocab, test.tgt_out[i, :steps]),
    )


def _plots(out, dates: dict, rnns: dict, reverse: dict) -> dict:
    """Heatmaps of one held-out date (Transformer and RNNs) and one reversal."""
    paths = {f"dates_{k}": v for k, v in _date_heatmaps(out, dates, rnns).items()}
    paths["reversal_cross_heads"] = _reversal_heatmap(out, reverse)
    return {k: str(v) for k, v in paths.items()}


def _date_heatmaps(out, dates: dict, rnns: dict) -> dict:
    from nnlab.plots_attention import plot_attention_heads, plot_attention_layers

    test = dates["test"]
    i = int(np.argmax((test.src != 0).sum(axis=1)[:100]))  # a long source: a month name
    src, tgt_in, tgt_out = _labels(test, i)
    s, t = len(src), len(tgt_out)
    pair = test.src[i : i + 1], test.tgt_in[i : i + 1, :t]
    maps = dates["model"].attention_maps(*pair)
    text = f"'{test.source_texts()[i]}' -> {test.target_texts()[i]}"
    keys = ("cross_heads", "cross_layers", "encoder_self", "decoder_self", "rnn")
    paths = {k: out / f"dates_{k}.png" for k in keys}
    cross = [c[0][:, :, :s] for c in maps["cross"]]
    title = "Transformer cross-attention, last decoder layer"
    plot_attention_heads(cross[-1], tgt_out, src, paths["cross_heads"], f"{title}: {text}")
    title = "Transformer cross-attention, every decoder layer and head"
    plot_attention_layers(cross, tgt_out, src, paths["cross_layers"], f"{title}: {text}")
    self_maps = (
        ("encoder_self", maps["encoder"][-1][0][:, :s, :s], src, "source"),
        ("decoder_self", maps["decoder"][-1][0], tgt_in, "target so far"),
    )
    for key, weights, labels, what in self_maps:
        title = f"{key.split('_')[0].capitalize()} self-attention, last layer: {text}"
        plot_attention_heads(
            weights,
            labels,
            labels,
            paths[key],
            title,
            xlabel=f"key ({what})",
            ylabel=f"query ({what})",
        )
    rnn = np.stack([r["model"].cross_attention(*pair)[0, 0, :, :s] for r in rnns.values()])
    names = [f"GRU + {name} attention" for name in rnns]
    plot_attention_heads(rnn, tgt_out, src, paths["rnn"], f"RNN attention: {text}", names)
    return paths


def _reversal_heatmap(out, reverse: dict):
    from nnlab.plots_attention import plot_attention_heads

    test, path = reverse["test"], out / "reversal_cross_heads.png"
    src, tgt_in, tgt_out = _labels(test, 0)
    weights = reverse["model"].cross_attention(test.src[:1], test.tgt_in[:1, : len(tgt_in)])[0]
    title = "Transformer cross-attention on reversal, last decoder layer"
    plot_attention_heads(weights[:, :, : len(src)], tgt_out, src, path, title)
    return path


# ---- run ---------------------------------------------------------------------------------


def _print_tables(runs: dict, rnns: dict, config: dict) -> None:
    subset = f"first {config['beam_subset']}"
    rows = [
        [name, f"{r['cpu_seconds']:.0f}", r["exact_match"], r["greedy_subset"], r["beam_subset"]]
        for name, r in [*runs.items(), *((f"dates, GRU + {k}", v) for k, v in rnns.items())]
    ]
    header = [
        "model / task",
        "train CPU s",
        "exact match",
        f"greedy ({subset})",
        f"beam-{BEAM_WIDTH}",
    ]
    print(table("Held-out exact match (greedy on the whole test set)", header, rows))
    dates = runs["Transformer, dates"]
    rows = [["Transformer, last layer, heads averaged", dates["exact_match"], dates["alignment"]]]
    rows += [
        [f"Transformer, last layer, head {h}", "", a]
        for h, a in enumerate(dates["alignment_heads"])
    ]
    rows += [
        [f"Transformer, layer {k}, heads averaged", "", a]
        for k, a in enumerate(dates["alignment_layers"])
    ]
    rows += [[f"GRU + {k}", r["exact_match"], r["alignment"]] for k, r in rnns.items()]
    title = "Dates: attention argmax on the expected source position (target digits)"
    print(table(title, ["model", "exact match", "alignment"], rows))


_KEPT = (
    "seconds",
    "cpu_seconds",
    "exact_match",
    "greedy_subset",
    "beam_subset",
    "beam_seconds",
    "alignment",
)


def _metrics(runs: dict, rnns: dict) -> dict:
    """Every figure of the run (no models or data), JSON-friendly."""
    metrics = {}
    for name, r in [*runs.items(), *((f"GRU + {k}, dates", v) for k, v in rnns.items())]:
        metrics[name] = {k: float(r[k]) for k in _KEPT if k in r}
        metrics[name]["final_loss"] = float(r["history"]["loss"][-1])
        metrics[name]["params"] = int(sum(p.size for p in r["model"].parameters()))
        for key in ("alignment_heads", "alignment_layers"):
            if key in r:
                metrics[name][key] = [float(a) for a in r[key]]
    return metrics


def _summary(runs: dict, length: int) -> list:
    reverse, dates = runs["Transformer, reversal"], runs["Transformer, dates"]
    rows = [
        (
            f"reversal, length {length}, 10 symbols: exact match",
            reverse["exact_match"],
            ACCEPT_REVERSAL,
        ),
        ("dates, held-out: exact match", dates["exact_match"], ACCEPT_DATES),
        ("dates: cross-attention argmax on the source digit", dates["alignment"], ACCEPT_ALIGNMENT),
    ]
    return [
        {
            "experiment": text,
            "ours": f"{value:.4f}",
            "seed": f"issue 6 acceptance >= {target}",
            "note": "meets" if value >= target else "below",
        }
        for text, value, target in rows
    ]


@one_blas_thread
def run(out_dir="outputs/seq2seq", quick: bool = False, seed: int = 0) -> dict:
    """Train and score every model, print the tables, draw the heatmaps (see the module
    docstring); returns {'name', 'metrics', 'summary', 'plots'}."""
    start, cpu_start = time.perf_counter(), time.process_time()
    out = output_dir(out_dir)
    config = QUICK if quick else FULL
    print(
        f"seq2seq: Transformer {TRANSFORMER}, RNN {RNN}; Adam + cosine decay, batch "
        f"{BATCH_SIZE}; beam width {BEAM_WIDTH}; seed {seed}",
        flush=True,
    )
    runs, rnns = {}, {}
    for task, name in (("reverse", "reversal"), ("sort", "sorting"), ("dates", "dates")):
        result = transformer_run(task, task_data(task, config, seed), config, seed)
        runs[f"Transformer, {name}"] = result
        print(f"  Transformer, {name}: {result['exact_match']:.4f} exact match", flush=True)
    for attention in RNN_ATTENTIONS:
        rnns[attention] = rnn_run(attention, task_data("dates", config, seed), config, seed)
        print(f"  GRU + {attention}, dates: {rnns[attention]['exact_match']:.4f}", flush=True)
    _print_tables(runs, rnns, config)
    plots = _plots(out, runs["Transformer, dates"], rnns, runs["Transformer, reversal"])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"seq2seq experiment: {elapsed:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return {
        "name": "seq2seq",
        "metrics": {**_metrics(runs, rnns), "seconds": elapsed, "cpu_seconds": cpu},
        "summary": _summary(runs, config["length"]),
        "plots": plots,
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
