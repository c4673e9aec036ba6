"""Seed 002's architecture comparison on the Wisconsin breast cancer data (569 tumours, 30
features; in scikit-learn's labels 0 is *malignant* and 1 is *benign* — the seed printed
them swapped).

Split as the seed: 80/20 stratified (random_state=42), then the 20% halved, stratified
(random_state=42), into a validation set (57) and a test set (57); a StandardScaler fitted on
the training split (455) only. Four ReLU networks with one sigmoid output: Shallow 30-16-1,
Deep Narrow 30-32-16-8-1, Wide 30-128-64-1, Very Deep 30-64-32-16-8-4-1; Glorot-uniform
initialisation, binary cross-entropy (fused with the sigmoid), batch 32, 500 epochs,
validation data = the validation set.

- **Seed recipe**: SGD lr 0.001, as written (seed measured 0.918 / 0.947 / 0.930 / 0.924).
- **Improved recipe**: SGD lr 0.01 with an L2 penalty ``l2 * sum(w^2)`` (Keras convention) on
  every kernel, ``l2`` chosen from ``L2_CANDIDATES`` on the *validation* set with the Shallow
  network (highest validation accuracy, ties to the lower validation cross-entropy), then used
  for every architecture. The test set is only ever used to report.

With 57 test samples one tumour is 1.75% of the test accuracy.
"""

import numpy as np

from nnlab import optim
from nnlab.experiments.common import (
    accuracy,
    logits_loss,
    mlp,
    one_blas_thread,
    output_dir,
    summary_row,
    table,
)
from nnlab.regularizers import L2

EPOCHS, QUICK_EPOCHS = 500, 60
ARCHITECTURES = {
    "Shallow": [16],
    "Deep Narrow": [32, 16, 8],
    "Wide": [128, 64],
    "Very Deep": [64, 32, 16, 8, 4],
}
SEED_RESULTS = {"Shallow": "0.918", "Deep Narrow": "0.947", "Wide": "0.930", "Very Deep": "0.924"}
SEED_LR, IMPROVED_LR = 0.001, 0.01
L2_CANDIDATES = (0.0, 0.001, 0.01)


def load_data() -> dict:
    """The seed's three splits (x standardised on the training split) and the class names."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    cancer = load_breast_cancer()
    x_train, x_rest, y_train, y_rest = train_test_split(
        cancer.data, cancer.target, test_size=0.2, random_state=42, stratify=cancer.target
    )
    scaler = StandardScaler().fit(x_train)
    x_val, x_test, y_val, y_test = train_test_split(
        scaler.transform(x_rest), y_rest, test_size=0.5, random_state=42, stratify=y_rest
    )
    return {
        "x_train": scaler.transform(x_train),
        "y_train": y_train,
        "x_val": x_val,
        "y_val": y_val,
        "x_test": x_test,
        "y_test": y_test,
        "class_names": tuple(str(n) for n in cancer.target_names),  # ('malignant', 'benign')
        "y_all": cancer.target,
    }


@one_blas_thread
def train(data: dict, hidden, seed=0, epochs=EPOCHS, lr=SEED_LR, l2=0.0):
    """Train one architecture with SGD at ``lr`` (L2 penalty ``l2`` on every kernel when
    nonzero), validating on the validation set each epoch; returns (model, history)."""
    model = mlp(
        hidden,
        1,
        seed=seed,
        output_activation=None,  # logits: the sigmoid is fused into the loss
        kernel_initializer="glorot_uniform",
        kernel_regularizer=L2(l2) if l2 else None,
        name="breast_cancer",
    )
    model.compile(optim.SGD(lr=lr), logits_loss(1), ["accuracy"])
    history = model.fit(
        data["x_train"],
        data["y_train"],
        batch_size=32,
        epochs=epochs,
        validation_data=(data["x_val"], data["y_val"]),
        verbose=0,
    )
    return model, history


def _bce(model, x, y) -> float:
    p = np.clip(model.predict_proba(x).reshape(-1).astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _scores(model, data) -> dict:
    return {
        "val_accuracy": accuracy(model, data["x_val"], data["y_val"]),
        "val_bce": _bce(model, data["x_val"], data["y_val"]),
        "test_accuracy": accuracy(model, data["x_test"], data["y_test"]),
        "parameters": sum(int(p.data.size) for p in model.parameters()),
    }


@one_blas_thread
def choose_l2(data, seed, epochs) -> tuple[float, dict, tuple]:
    """Train the Shallow network at ``IMPROVED_LR`` for each L2 candidate and pick one by
    validation accuracy (ties: lower validation cross-entropy). Returns (l2, the validation
    scores of each candidate, (model, history) of the chosen one)."""
    trials = {}
    for l2 in L2_CANDIDATES:
        model, history = train(data, ARCHITECTURES["Shallow"], seed, epochs, IMPROVED_LR, l2)
        trials[l2] = (_scores(model, data), (model, history))
    chosen = max(trials, key=lambda k: (trials[k][0]["val_accuracy"], -trials[k][0]["val_bce"]))
    validation = {
        l2: {k: v for k, v in s.items() if k.startswith("val_")} for l2, (s, _) in trials.items()
    }
    return chosen, validation, trials[chosen][1]


@one_blas_thread
def run(out_dir="outputs/breast_cancer", quick: bool = False, seed: int = 0) -> dict:
    """Both recipes on all four architectures; print the comparison next to the seed's, the
    classification report of the improved Shallow network, and write the plots."""
    from nnlab.evaluation import evaluate_classifier

    out = output_dir(out_dir)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    data = load_data()
    names = data["class_names"]
    counts = np.bincount(data["y_all"])
    print(
        f"breast cancer: {len(data['y_train'])} train / {len(data['y_val'])} validation / "
        f"{len(data['y_test'])} test; classes {names[0]} (0): {counts[0]}, "
        f"{names[1]} (1): {counts[1]}"
    )
    seed_recipe = {}
    for name, hidden in ARCHITECTURES.items():
        model, _ = train(data, hidden, seed, epochs, SEED_LR)
        seed_recipe[name] = _scores(model, data)
    l2, validation, (shallow, shallow_history) = choose_l2(data, seed, epochs)
    print(
        table(
            f"L2 chosen on the validation set (Shallow, SGD lr {IMPROVED_LR}, {epochs} epochs): "
            f"{l2}",
            ["L2", "validation accuracy", "validation BCE"],
            [[c, v["val_accuracy"], v["val_bce"]] for c, v in validation.items()],
        )
    )
    improved = {"Shallow": _scores(shallow, data)}
    for name, hidden in list(ARCHITECTURES.items())[1:]:
        model, _ = train(data, hidden, seed, epochs, IMPROVED_LR, l2)
        improved[name] = _scores(model, data)
    improved_label = f"SGD lr {IMPROVED_LR}, L2 {l2}"
    print(
        table(
            f"\nbreast cancer: ReLU + sigmoid, Glorot init, batch 32, {epochs} epochs "
            f"(seed {seed})",
            [
                "architecture",
                "parameters",
                f"seed recipe (SGD lr {SEED_LR}) test acc",
                f"improved ({improved_label}) val acc",
                "improved test acc",
                "seed 002 measured",
            ],
            [
                [
                    name,
                    seed_recipe[name]["parameters"],
                    seed_recipe[name]["test_accuracy"],
                    improved[name]["val_accuracy"],
                    improved[name]["test_accuracy"],
                    SEED_RESULTS[name],
                ]
                for name in ARCHITECTURES
            ],
        )
    )
    report = evaluate_classifier(shallow, data["x_test"], data["y_test"], class_names=names)
    print(f"\nClassification report (Shallow, {improved_label}, test set):")
    print(report.summary())
    plots = _plots(out, seed_recipe, improved, improved_label, report, shallow_history)
    metrics = {
        "seed_recipe": seed_recipe,
        "improved": improved,
        "chosen_l2": l2,
        "l2_validation": validation,
        "shallow_test_accuracy": improved["Shallow"]["test_accuracy"],
        "class_names": names,
        "epochs": epochs,
    }
    summary = [
        summary_row(
            f"breast cancer seed recipe SGD lr {SEED_LR}, {epochs} ep: S/DN/W/VD test acc",
            " / ".join(f"{seed_recipe[n]['test_accuracy']:.4f}" for n in ARCHITECTURES),
            " / ".join(SEED_RESULTS.values()),
        ),
        summary_row(
            f"breast cancer improved {improved_label}: S/DN/W/VD test acc",
            " / ".join(f"{improved[n]['test_accuracy']:.4f}" for n in ARCHITECTURES),
            "-",
            "L2 chosen on validation",
        ),
    ]
    return {
        "name": "breast_cancer",
        "metrics": metrics,
        "summary": summary,
        "report": report,
        "plots": {k: str(v) for k, v in plots.items()},
    }


def _plots(out, seed_recipe, improved, improved_label, report, history) -> dict:
    from nnlab.plots import plot_architecture_comparison, plot_confusion_matrix, plot_history

    plots = {
        "architecture_comparison": out / "architecture_comparison.png",
        "confusion_matrix": out / "confusion_matrix.png",
        "history": out / "history_shallow.png",
    }
    results = {f"{n} (seed recipe)": r for n, r in seed_recipe.items()}
    results.update({f"{n} (improved)": r for n, r in improved.items()})
    fig = plot_architecture_comparison(results, metric="test_accuracy")
    fig.axes[0].set(title=f"Breast cancer test accuracy: seed recipe vs {improved_label}")
    fig.savefig(plots["architecture_comparison"], dpi=100)
    plot_confusion_matrix(report, path=plots["confusion_matrix"])
    plot_history(history, path=plots["history"])
    return plots


def main() -> None:
    run()


if __name__ == "__main__":
    main()
