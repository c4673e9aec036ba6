"""Seed 001's first Keras network: binary classification of ``make_classification`` data
(1000 samples, 20 features of which 15 informative and 5 redundant, random_state=42), split
80/20 (random_state=42) and standardised on the training split.

Recipe as the seed: Dense(64, relu), Dropout(0.3), Dense(32, relu), Dropout(0.3),
Dense(1, sigmoid), binary cross-entropy, Adam (learning rate 0.001), batch 32, 50 epochs,
``validation_split=0.2`` of the training data. The seed measured a test accuracy of
0.943 ± 0.006 over three runs.
"""

import numpy as np

from nnlab import optim
from nnlab.experiments.common import (
    accuracy,
    mean_sd,
    mlp,
    one_blas_thread,
    output_dir,
    split_and_scale,
    summary_row,
    table,
)

SEED_RESULT = "0.943 ± 0.006"
EPOCHS, QUICK_EPOCHS = 50, 15
N_SEEDS, QUICK_SEEDS = 3, 1


def load_data():
    """(x_train, x_test, y_train, y_test), x standardised with the training split's statistics."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=1000,
        n_features=20,
        n_classes=2,
        n_informative=15,
        n_redundant=5,
        random_state=42,
    )
    return split_and_scale(x, y)


@one_blas_thread
def train(data, seed: int = 0, epochs: int = EPOCHS):
    """Train the seed's 64-32-1 network; returns (model, history)."""
    x_train, _, y_train, _ = data
    model = mlp([64, 32], 1, seed=seed, output_activation="sigmoid", dropout=0.3, name="binary20")
    model.compile(optim.Adam(lr=1e-3), "binary_crossentropy", ["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.2, verbose=0
    )
    return model, history


@one_blas_thread
def run(out_dir="outputs/binary20", quick: bool = False, seed: int = 0) -> dict:
    """Train over seeds ``seed, seed + 1, ...``; print train/validation/test accuracy next to
    the seed's and plot the first run's training curves."""
    from nnlab.plots import plot_history

    out = output_dir(out_dir)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    seeds = list(range(seed, seed + (QUICK_SEEDS if quick else N_SEEDS)))
    data = load_data()
    x_train, x_test, y_train, y_test = data
    runs = [train(data, s, epochs) for s in seeds]
    train_acc = [accuracy(m, x_train, y_train) for m, _ in runs]
    val_acc = [float(h.history["val_accuracy"][-1]) for _, h in runs]
    test_acc = [accuracy(m, x_test, y_test) for m, _ in runs]
    print(
        table(
            f"binary20: 20 features, Dense 64-32-1, Dropout 0.3, Adam, batch 32, {epochs} epochs, "
            f"seeds {seeds}",
            ["metric", "ours", "seed 001 measured"],
            [
                ["train accuracy (all 800)", mean_sd(train_acc), "-"],
                ["validation accuracy", mean_sd(val_acc), "-"],
                ["test accuracy", mean_sd(test_acc), SEED_RESULT],
            ],
        )
    )
    plots = {"history": out / "history.png"}
    plot_history(runs[0][1], path=plots["history"])
    metrics = {
        "train_accuracies": train_acc,
        "val_accuracies": val_acc,
        "test_accuracies": test_acc,
        "test_accuracy": float(np.mean(test_acc)),
        "epochs": epochs,
        "seeds": seeds,
    }
    return {
        "name": "binary20",
        "metrics": metrics,
        "summary": [
            summary_row(
                f"binary20 64-32-1 Adam, {epochs} epochs: test acc", mean_sd(test_acc), SEED_RESULT
            )
        ],
        "plots": {k: str(v) for k, v in plots.items()},
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
