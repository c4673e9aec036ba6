"""How far back can a recurrent network remember? SimpleRNN, LSTM and GRU on the adding
problem and the copy task, the vanishing gradient measured, and an LSTM's gates on view.

Seed 002 claims that a vanilla RNN "remembers ~5-10 steps back", an LSTM "~100+ steps"
and that a GRU has "similar" memory and is "faster than LSTM"; it sketches the LSTM's forget,
input and output gates deciding what to keep. This experiment measures each claim:

- **Adding problem** (Hochreiter & Schmidhuber 1997; Le et al. 2015): a sequence of T pairs
  (value ~ U[0, 1], marker); exactly two markers are 1, one in each half; the target is the
  sum of the two marked values. Predicting the mean (1.0) scores MSE = Var(u1 + u2) = 1/6 =
  0.167; a test MSE < 0.01 counts as solved. T = 10, 50, 100.
- **Copy task** (after Arjovsky et al. 2016): S symbols out of K, then ``delay`` - 1 blanks,
  a delimiter and S - 1 blanks; at the last S steps the network must output the S symbols
  (the loss is on those steps only; chance accuracy is 1/K; solved: test accuracy >= 0.99).
- The tasks live in ``nnlab.data.sequence_tasks``.
- Every cell gets the same hidden size, data, optimizer (Adam, lr 0.01, global gradient
  norm clipped to 1) and budget (at most ``EPOCHS`` epochs of the same training set);
  training stops early once the validation set counts as solved.
- **Vanishing gradient**: the norm of dL/dx_t, the gradient of the last step's loss with
  respect to the input d = T - 1 - t steps earlier, averaged over sequences, at
  initialisation and after training at T = 100.
- **Heatmaps** of the trained LSTM's h, c and gates i, f, g, o over one adding sequence,
  recomputed step by step (``lstm_trace``) and checked against the fused layer's output.
- **Time per epoch** of the three cells on the same data ("GRUs are faster").

The layers are the Keras-style ``nnlab.layers`` ones with Keras's initialisation (Glorot
input kernel, orthogonal recurrent kernel, forget-gate bias 1).
"""

import time

import numpy as np

from nnlab import layers, losses, optim
from nnlab.data.sequence_tasks import COPY_LENGTH, COPY_SYMBOLS, adding_problem, copy_task
from nnlab.experiments.common import one_blas_thread, output_dir, seed_everything, table
from nnlab.experiments.recurrent_probes import decay_distance, input_gradient_norms, lstm_trace
from nnlab.training import Model
from nnlab.training.callbacks.base import Callback

CELLS = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}
ADDING_LENGTHS, QUICK_ADDING_LENGTHS = (10, 50, 100), (10, 20)
COPY_DELAYS, QUICK_COPY_DELAYS = (5, 10, 20), (5,)
EPOCHS, QUICK_EPOCHS = 20, 8
N_TRAIN, QUICK_N_TRAIN, N_VAL, N_TEST = 4096, 2048, 512, 2000
N_SEEDS, QUICK_SEEDS = 3, 1
UNITS, BATCH_SIZE, LR, CLIPNORM = 32, 64, 0.01, 1.0
SOLVED_MSE, SOLVED_ACCURACY = 0.01, 0.99
MEAN_BASELINE_MSE = 1.0 / 6.0


# ---- models --------------------------------------------------------------------------------


class RecurrentReader(Model):
    """One recurrent layer read out by a Dense layer: at the last step (``read_steps=None``,
    output (N, outputs)) or at each of the last ``read_steps`` steps ((N, read_steps,
    outputs)).

    Args:
        cell: 'SimpleRNN', 'LSTM' or 'GRU' (Keras-style layers, Keras initialisation).
        units: hidden size.
        outputs: Dense units.
        read_steps: None, or how many final steps are read out.
        seed: seed of the initial weights and of fit's shuffling.
    """

    def __init__(self, cell: str, units: int, outputs: int, read_steps=None, seed=0):
        super().__init__(name=f"{cell.lower()}_reader", seed=seed)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}")
        rng = np.random.default_rng(seed)
        self.cell_name, self.read_steps = cell, read_steps
        self.rnn = CELLS[cell](units, return_sequences=read_steps is not None, rng=rng)
        self.head = layers.Dense(outputs, rng=rng)

    def forward(self, x):
        out = self.rnn(x)
        if self.read_steps is not None:
            out = out[:, -self.read_steps :]
        return self.head(out)


class _StopWhenSolved(Callback):
    """Stop training once the validation logs say the task is solved; time every epoch."""

    def __init__(self, key: str, threshold: float, below: bool):
        super().__init__()
        self.key, self.threshold, self.below = key, threshold, below
        self.epoch_times: list[float] = []
        self.solved_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_times.append(time.perf_counter() - self._start)
        value = logs[self.key]
        if (value < self.threshold) if self.below else (value >= self.threshold):
            self.solved_epoch = epoch + 1
            self.model.stop_training = True


def task_data(task: str, length: int, n_train: int, seed: int):
    """(train, val, test) (x, y) pairs of ``task`` ('adding' or 'copy'), the same for every
    cell: drawn from a Generator seeded with (seed, length)."""
    rng = np.random.default_rng([seed, length, task == "copy"])
    make = adding_problem if task == "adding" else copy_task
    return tuple(make(n, length, rng) for n in (n_train, N_VAL, N_TEST))


def build_model(task: str, cell: str, units: int = UNITS, seed: int = 0) -> RecurrentReader:
    """The compiled model of ``task`` for ``cell``: Adam (lr ``LR``, global gradient norm
    clipped to ``CLIPNORM``); MSE for adding, softmax cross-entropy at the read steps for copy."""
    seed_everything(seed)
    opt = optim.Adam(lr=LR, global_clipnorm=CLIPNORM)
    if task == "adding":
        model = RecurrentReader(cell, units, 1, seed=seed)
        return model.compile(opt, "mse")
    model = RecurrentReader(cell, units, COPY_SYMBOLS, read_steps=COPY_LENGTH, seed=seed)
    return model.compile(opt, losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])


def train_memory(
    task, cell, length, *, epochs=EPOCHS, n_train=N_TRAIN, units=UNITS, seed=0, data=None
):
    """Train ``cell`` on ``task`` at ``length`` for at most ``epochs`` epochs (stopping once
    the validation set is solved) and score it on the test set.

    Returns:
        dict: model, error (test MSE, or 1 - accuracy for copy), metric (test MSE or
        accuracy), solved, epochs (run), solved_epoch (or None), epoch_times (s), history.
    """
    train, val, test = data or task_data(task, length, n_train, seed)
    model = build_model(task, cell, units, seed)
    stop = (
        _StopWhenSolved("val_loss", SOLVED_MSE, below=True)
        if task == "adding"
        else _StopWhenSolved("val_accuracy", SOLVED_ACCURACY, below=False)
    )
    history = model.fit(
        *train,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        verbose=0,
        validation_data=val,
        callbacks=[stop],
    )
    prediction = model.predict(test[0], batch_size=500)
    if task == "adding":
        metric = float(np.mean((prediction - test[1]) ** 2))
        error, solved = metric, metric < SOLVED_MSE
    else:
        metric = float(np.mean(prediction.argmax(-1) == test[1]))
        error, solved = 1.0 - metric, metric >= SOLVED_ACCURACY
    return dict(
        model=model,
        error=error,
        metric=metric,
        solved=bool(solved),
        epochs=len(stop.epoch_times),
        solved_epoch=stop.solved_epoch,
        epoch_times=stop.epoch_times,
        history=history.history,
    )


# ---- the experiment ------------------------------------------------------------------------


def _task_table(task, lengths, epochs, n_train, seeds):
    """{(cell, length): [result per seed]}, every cell trained on the same data per seed."""
    results = {(cell, length): [] for length in lengths for cell in CELLS}
    for seed in seeds:
        for length in lengths:
            data = task_data(task, length, n_train, seed)
            for cell in CELLS:
                r = train_memory(
                    task, cell, length, epochs=epochs, n_train=n_train, seed=seed, data=data
                )
                results[cell, length].append(r)
                print(
                    f"  seed {seed} {task} {cell:9s} length {length:3d}: error {r['error']:.4f}"
                    f", {'solved' if r['solved'] else 'not solved'} after {r['epochs']} epochs "
                    f"({sum(r['epoch_times']):.1f} s)",
                    flush=True,
                )
    return results


def _cell_text(runs, key) -> str:
    """'0.0041 (3/3 solved, 3-8 ep)': the median of ``key`` over seeds, how many solved, and
    the range of epochs run."""
    epochs = [r["epochs"] for r in runs]
    span = f"{min(epochs)}-{max(epochs)}" if min(epochs) != max(epochs) else str(epochs[0])
    solved = sum(r["solved"] for r in runs)
    return f"{np.median([r[key] for r in runs]):.4f} ({solved}/{len(runs)} solved, {span} ep)"


def _print_tables(adding, copy, adding_lengths, copy_delays, n_seeds):
    print(
        table(
            f"adding problem: median test MSE over {n_seeds} seed(s) (mean-prediction baseline "
            f"{MEAN_BASELINE_MSE:.3f}; solved: < {SOLVED_MSE})",
            ["cell", *[f"T={t}" for t in adding_lengths]],
            [[c, *[_cell_text(adding[c, t], "error") for t in adding_lengths]] for c in CELLS],
        )
    )
    print(
        table(
            f"copy task: median test accuracy over {n_seeds} seed(s), {COPY_LENGTH} of "
            f"{COPY_SYMBOLS} symbols (chance {1 / COPY_SYMBOLS:.2f}; solved: >= "
            f"{SOLVED_ACCURACY})",
            ["cell", *[f"delay={d}" for d in copy_delays]],
            [[c, *[_cell_text(copy[c, d], "metric") for d in copy_delays]] for c in CELLS],
        )
    )


def _gradient_study(adding, length, n_train, seed):
    """{'init'/'trained': {cell: norms}} on 256 test sequences of length ``length`` (first
    seed's models), printed as a table of decay distances."""
    _, _, (x_test, y_test) = task_data("adding", length, n_train, seed)
    x, y = x_test[:256], y_test[:256]
    curves, rows = {"init": {}, "trained": {}}, []
    for cell in CELLS:
        models = {
            "init": build_model("adding", cell, seed=seed),
            "trained": adding[cell][0]["model"],
        }
        for when, model in models.items():
            norms = input_gradient_norms(model, x, y)
            curves[when][cell] = norms
            ratio = norms[-1] / norms[0]
            far = [str(decay_distance(norms, r)) for r in (1e-2, 1e-4)]
            rows.append([cell, when, f"{norms[0]:.3g}", f"{ratio:.3g}", *far])
    print(
        table(
            f"||dL/dx_(T-d)||: adding problem, T={length}, mean over 256 test sequences",
            ["cell", "weights", "norm at d=0", f"ratio d={length - 1} / d=0",
             "first d with ratio < 1e-2", "first d with ratio < 1e-4"],
            rows,
        )
    )  # fmt: skip
    return curves


def _timing_table(adding, length, n_train):
    """{cell: (median, fastest) s/epoch} over every epoch of every seed at ``length``."""
    times = {
        cell: (float(np.median(t)), float(np.min(t)))
        for cell in CELLS
        for t in [np.concatenate([r["epoch_times"] for r in adding[cell, length]])]
    }
    steps = -(-n_train // BATCH_SIZE)
    print(
        table(
            f"time per epoch, adding T={length} ({steps} steps of {BATCH_SIZE}, one BLAS thread)",
            ["cell", "median s/epoch", "fastest s/epoch", "epochs timed"],
            [
                [c, f"{m:.3f}", f"{f:.3f}", sum(r["epochs"] for r in adding[c, length])]
                for c, (m, f) in times.items()
            ],
        )
    )
    return times


def _plots(out, adding, curves, lengths, seed, n_train):
    from nnlab.plots_recurrent import plot_gradient_norms, plot_lstm_states, plot_memory_table

    longest = lengths[-1]
    plots = {
        "gradient_norms": out / "gradient_norms.png",
        "lstm_states": out / "lstm_states.png",
        "adding_table": out / "adding_table.png",
    }
    plot_gradient_norms(
        {f"at initialisation, T={longest}": curves["init"], "after training": curves["trained"]},
        path=plots["gradient_norms"],
    )
    _, _, (x_test, y_test) = task_data("adding", longest, n_train, seed)
    trace = lstm_trace(adding["LSTM", longest][0]["model"].rnn, x_test[0])
    plot_lstm_states(
        trace,
        inputs=x_test[0],
        input_labels=["value", "marker"],
        path=plots["lstm_states"],
        title=f"Trained LSTM on one adding sequence, T={longest} (target {y_test[0, 0]:.3f})",
    )
    plot_memory_table(
        [[np.median([r["error"] for r in adding[c, t]]) for t in lengths] for c in CELLS],
        list(CELLS),
        [f"T={t}" for t in lengths],
        solved=[[all(r["solved"] for r in adding[c, t]) for t in lengths] for c in CELLS],
        path=plots["adding_table"],
        title="Adding problem: median test MSE (\u2713 solved on every seed)",
        value_label="test MSE",
    )
    return {k: str(v) for k, v in plots.items()}


def _strip(results) -> dict:
    """Results without models and histories, keyed 'cell@length' (JSON-friendly)."""
    return {
        f"{c}@{t}": [{k: v for k, v in r.items() if k not in ("model", "history")} for r in runs]
        for (c, t), runs in results.items()
    }


@one_blas_thread
def run(out_dir="outputs/memory", quick: bool = False, seed: int = 0) -> dict:
    """Train the three cells on both tasks at every length (``N_SEEDS`` seeds), measure
    gradient norms against distance, trace the LSTM, time the epochs; print the tables and
    draw the figures."""
    start = time.perf_counter()
    out = output_dir(out_dir)
    adding_lengths = QUICK_ADDING_LENGTHS if quick else ADDING_LENGTHS
    copy_delays = QUICK_COPY_DELAYS if quick else COPY_DELAYS
    epochs, n_train = (QUICK_EPOCHS, QUICK_N_TRAIN) if quick else (EPOCHS, N_TRAIN)
    seeds = list(range(seed, seed + (QUICK_SEEDS if quick else N_SEEDS)))
    print(
        f"memory: SimpleRNN vs LSTM vs GRU, {UNITS} units, Adam lr {LR}, global clipnorm "
        f"{CLIPNORM}, at most {epochs} epochs of {n_train} sequences (batch {BATCH_SIZE}), "
        f"seeds {seeds}",
        flush=True,
    )
    adding = _task_table("adding", adding_lengths, epochs, n_train, seeds)
    copy = _task_table("copy", copy_delays, epochs, n_train, seeds)
    _print_tables(adding, copy, adding_lengths, copy_delays, len(seeds))
    longest = adding_lengths[-1]
    curves = _gradient_study({c: adding[c, longest] for c in CELLS}, longest, n_train, seed)
    times = _timing_table(adding, longest, n_train)
    plots = _plots(out, adding, curves, adding_lengths, seed, n_train)
    elapsed = time.perf_counter() - start
    print(f"memory experiment: {elapsed:.1f} s", flush=True)
    lstm_runs, rnn_runs = adding["LSTM", longest], adding["SimpleRNN", longest]
    lstm_solved, rnn_solved = (sum(r["solved"] for r in runs) for runs in (lstm_runs, rnn_runs))
    summary = [
        {
            "experiment": f"adding T={longest}: seeds solved (MSE < {SOLVED_MSE})",
            "ours": f"LSTM {lstm_solved}/{len(seeds)}, SimpleRNN {rnn_solved}/{len(seeds)}",
            "seed": "RNN remembers ~5-10 steps, LSTM 100+",
            "note": "agrees" if lstm_solved == len(seeds) and rnn_solved == 0 else "differs",
        }
    ]
    metrics = {
        "adding": _strip(adding),
        "copy": _strip(copy),
        "gradient_norms": {w: {c: v.tolist() for c, v in d.items()} for w, d in curves.items()},
        "time_per_epoch": times,
        "seeds": seeds,
        "seconds": elapsed,
    }
    return {"name": "memory", "metrics": metrics, "summary": summary, "plots": plots}


def main() -> None:
    run()


if __name__ == "__main__":
    main()
