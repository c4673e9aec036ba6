"""Seed 000's first network: a [2, 10, 10, 3] ReLU MLP with a softmax output on a 3-class,
2-feature ``make_classification`` problem (1000 samples, one cluster per class,
random_state=42), split 80/20 (random_state=42) and standardised with a scaler fitted on the
training split only.

Recipe as the seed: He initialisation (``randn * sqrt(2 / fan_in)``, i.e. ``kaiming_normal``)
on every layer, zero biases, softmax with categorical cross-entropy (fused, on the logits),
plain SGD with learning rate 0.01 on mini-batches of 32 for 1000 epochs. Unlike the seed,
the mini-batches are reshuffled every epoch. The seed measured a test accuracy of
0.915 ± 0.009 over three runs.
"""

from nnlab import optim
from nnlab.experiments.common import (
    accuracy,
    logits_loss,
    mlp,
    one_blas_thread,
    output_dir,
    split_and_scale,
    summary_row,
    table,
)

SEED_RESULT = "0.915 ± 0.009"
EPOCHS, QUICK_EPOCHS = 1000, 150


def load_data():
    """(x_train, x_test, y_train, y_test), x standardised with the training split's statistics."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=1000,
        n_features=2,
        n_classes=3,
        n_clusters_per_class=1,
        n_redundant=0,
        random_state=42,
    )
    return split_and_scale(x, y)


@one_blas_thread
def train(data, seed: int = 0, epochs: int = EPOCHS):
    """Train the seed's network on ``data`` (from ``load_data``); returns (model, history)."""
    x_train, _, y_train, _ = data
    model = mlp(
        [10, 10],
        3,
        seed=seed,
        output_activation=None,
        kernel_initializer="kaiming_normal",
        name="blobs3",
    )
    model.compile(optim.SGD(lr=0.01), logits_loss(3), ["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    return model, history


@one_blas_thread
def run(out_dir="outputs/blobs3", quick: bool = False, seed: int = 0) -> dict:
    """Train, print train/test accuracy next to the seed's, and plot the class regions and the
    training curves. Returns the metrics, the summary rows and the plot paths."""
    from nnlab.plots import plot_decision_boundary, plot_history

    out = output_dir(out_dir)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    data = load_data()
    x_train, x_test, y_train, y_test = data
    model, history = train(data, seed, epochs)
    metrics = {
        "train_accuracy": accuracy(model, x_train, y_train),
        "test_accuracy": accuracy(model, x_test, y_test),
        "final_loss": float(history.history["loss"][-1]),
        "epochs": epochs,
    }
    print(
        table(
            f"blobs3: [2, 10, 10, 3] ReLU/softmax, He init, SGD lr 0.01, batch 32, {epochs} "
            f"epochs (seed {seed})",
            ["metric", "ours", "seed 000 measured"],
            [
                ["train accuracy", metrics["train_accuracy"], "-"],
                ["test accuracy", metrics["test_accuracy"], SEED_RESULT],
                ["final training loss", metrics["final_loss"], "-"],
            ],
        )
    )
    plots = {
        "decision_boundary": out / "decision_boundary.png",
        "history": out / "history.png",
    }
    plot_decision_boundary(
        model,
        x_test,
        y_test,
        path=plots["decision_boundary"],
        title="3-class regions of the [2, 10, 10, 3] MLP (test points)",
    )
    plot_history(history, path=plots["history"])
    return {
        "name": "blobs3",
        "metrics": metrics,
        "summary": [
            summary_row(
                f"blobs3 [2,10,10,3] SGD, {epochs} epochs: test acc",
                metrics["test_accuracy"],
                SEED_RESULT,
            )
        ],
        "plots": {k: str(v) for k, v in plots.items()},
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
