"""Seed 001's Keras network on iris: [4, 10, 8, 3] ReLU with Dropout(0.3) after each hidden
layer and a softmax output, sparse categorical cross-entropy, Adam, batch 16, 100 epochs,
``validation_split=0.2`` (the last fifth of the training split, never the test set); iris split
80/20 with random_state=42 and standardised with the training split's statistics.

The seed's recipe (Adam at Keras's default learning rate 0.001) is run as written; with 96
training samples it makes only 600 small steps, and its result depends on the seed (the seed
measured 0.933 ± 0.058). A second recipe changes one thing, the learning rate to 0.01. Both run
over several seeds, and the recipe with the higher mean *validation* accuracy is the one this
experiment reports and evaluates in detail; the test set plays no part in the choice.
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

SEED_RESULT = "0.933 ± 0.058"
EPOCHS, QUICK_EPOCHS = 100, 40
N_SEEDS, QUICK_SEEDS = 5, 2
RECIPES = {"seed recipe: Adam lr 0.001": 1e-3, "Adam lr 0.01": 1e-2}


def load_data():
    """(x_train, x_test, y_train, y_test, class_names), x standardised on the training split."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    names = tuple(str(n) for n in iris.target_names)
    return (*split_and_scale(iris.data, iris.target), names)


@one_blas_thread
def train(data, seed: int = 0, lr: float = 1e-2, epochs: int = EPOCHS):
    """Train the seed's network with Adam at ``lr``; returns (model, history)."""
    x_train, _, y_train, *_ = data
    model = mlp([10, 8], 3, seed=seed, dropout=0.3, name="iris")
    model.compile(optim.Adam(lr=lr), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=16, epochs=epochs, validation_split=0.2, verbose=0
    )
    return model, history


@one_blas_thread
def run(out_dir="outputs/iris", quick: bool = False, seed: int = 0) -> dict:
    """Run both recipes over seeds ``seed, seed + 1, ...``, choose one by validation accuracy,
    print its classification report and plot its confusion matrix and training curves."""
    from nnlab.evaluation import evaluate_classifier
    from nnlab.plots import plot_confusion_matrix, plot_history

    out = output_dir(out_dir)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    seeds = list(range(seed, seed + (QUICK_SEEDS if quick else N_SEEDS)))
    data = load_data()
    x_test, y_test, names = data[1], data[3], data[4]
    recipes = {}
    for label, lr in RECIPES.items():
        runs = [train(data, s, lr, epochs) for s in seeds]
        recipes[label] = {
            "lr": lr,
            "val_accuracies": [float(h.history["val_accuracy"][-1]) for _, h in runs],
            "test_accuracies": [accuracy(m, x_test, y_test) for m, _ in runs],
            "first": runs[0],
        }
    chosen = max(recipes, key=lambda k: np.mean(recipes[k]["val_accuracies"]))
    print(
        table(
            f"iris: [4, 10, 8, 3] ReLU, Dropout 0.3, Adam, batch 16, {epochs} epochs, "
            f"seeds {seeds}; chosen by validation accuracy: {chosen}",
            ["recipe", "validation accuracy", "test accuracy", "seed 001 measured"],
            [
                [
                    label,
                    mean_sd(r["val_accuracies"]),
                    mean_sd(r["test_accuracies"]),
                    SEED_RESULT if r["lr"] == 1e-3 else "-",
                ]
                for label, r in recipes.items()
            ],
        )
    )
    model, history = recipes[chosen]["first"]
    report = evaluate_classifier(model, x_test, y_test, class_names=names)
    print(f"\nClassification report ({chosen}, seed {seeds[0]}, test set):")
    print(report.summary())
    plots = {"confusion_matrix": out / "confusion_matrix.png", "history": out / "history.png"}
    plot_confusion_matrix(report, path=plots["confusion_matrix"])
    plot_history(history, path=plots["history"])
    metrics = {label: {k: v for k, v in r.items() if k != "first"} for label, r in recipes.items()}
    metrics.update(
        chosen=chosen,
        test_accuracy=float(np.mean(recipes[chosen]["test_accuracies"])),
        min_test_accuracy=float(np.min(recipes[chosen]["test_accuracies"])),
        report_accuracy=report.accuracy,
        epochs=epochs,
        seeds=seeds,
    )
    summary = [
        summary_row(
            f"iris {label}, {epochs} epochs: test acc",
            mean_sd(recipes[label]["test_accuracies"]),
            SEED_RESULT if recipes[label]["lr"] == 1e-3 else "-",
            "chosen on validation" if label == chosen else "",
        )
        for label in recipes
    ]
    return {
        "name": "iris",
        "metrics": metrics,
        "summary": summary,
        "report": report,
        "plots": {k: str(v) for k, v in plots.items()},
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
