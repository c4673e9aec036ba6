"""The seed MLP experiments: quick runs of each (few epochs) checked for sensible values and
real plot files, the seeds' bugs checked absent, and one full-recipe acceptance test per
acceptance number."""

from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab import cli
from nnlab.experiments import binary20, blobs3, breast_cancer, digits, iris, mlp_demos, moons
from nnlab.experiments.common import accuracy, mean_sd, predicted_labels, table
from nnlab.training import Model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_pngs(result: dict, expected: set) -> None:
    assert set(result["plots"]) == expected
    for path in result["plots"].values():
        content = Path(path).read_bytes()
        assert content[:8] == PNG_MAGIC, path
        assert len(content) > 5000, f"{path} is suspiciously small"


def assert_summary(result: dict, n_rows: int) -> None:
    assert len(result["summary"]) == n_rows
    for row in result["summary"]:
        assert set(row) == {"experiment", "ours", "seed", "note"}
        assert row["ours"] and row["seed"]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """Each experiment's quick run, done once for this module."""
    cache = {}

    def get(module):
        name = module.__name__.rsplit(".", 1)[1]
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            cache[name] = module.run(out_dir=out, quick=True, seed=0)
        return cache[name]

    return get


# ---- quick runs -------------------------------------------------------------------------------


def test_blobs3_quick(quick):
    r = quick(blobs3)
    m = r["metrics"]
    assert m["epochs"] == blobs3.QUICK_EPOCHS
    # 3 balanced classes: chance is 1/3; 150 epochs of SGD already separate most points
    assert m["test_accuracy"] > 0.8 and m["train_accuracy"] > 0.8
    assert 0 < m["final_loss"] < 0.6
    assert_summary(r, 1)
    assert_pngs(r, {"decision_boundary", "history"})


def test_moons_quick(quick):
    r = quick(moons)
    m = r["metrics"]
    assert set(m) >= set(moons.VARIANTS) | {"test_accuracy", "final_train_bce", "seeds"}
    assert m["test_accuracy"] > 0.9  # 300 full-batch epochs
    assert m["no_dropout_lr0.01"]["test_accuracies"][0] > 0.85
    assert all(m[v]["diverged"] == 0 for v in moons.VARIANTS)
    assert_summary(r, len(moons.VARIANTS) + 1)
    assert_pngs(r, {"history", "decision_boundary_plain", "decision_boundary_advanced_lr0.01"})


def test_iris_quick(quick):
    r = quick(iris)
    m = r["metrics"]
    assert m["chosen"] in iris.RECIPES
    chosen = m[m["chosen"]]
    # the choice is made on validation accuracy, never on the test set
    assert np.mean(chosen["val_accuracies"]) == max(
        np.mean(m[k]["val_accuracies"]) for k in iris.RECIPES
    )
    assert m["test_accuracy"] > 0.8
    report = r["report"]
    assert report.class_names == ("setosa", "versicolor", "virginica")
    assert report.confusion_matrix.sum() == 30
    assert_summary(r, 2)
    assert_pngs(r, {"confusion_matrix", "history"})


def test_binary20_quick(quick):
    r = quick(binary20)
    m = r["metrics"]
    assert len(m["test_accuracies"]) == binary20.QUICK_SEEDS
    assert m["test_accuracy"] > 0.85
    assert 0.8 < m["val_accuracies"][0] <= 1
    assert_summary(r, 1)
    assert_pngs(r, {"history"})


def test_digits_quick(quick):
    r = quick(digits)
    m = r["metrics"]
    assert m["test_accuracy"] > 0.9  # 30 epochs of SGD lr 0.01
    assert set(m["architectures"]) == {"Small", "Medium", "Large"}
    assert all(a["test_accuracy"] > 0.5 for a in m["architectures"].values())
    acts = m["activations"]["results"]
    assert set(acts) == set(digits.ACTIVATIONS)
    assert all(0 <= a["test_accuracy"] <= 1 for a in acts.values())
    buckets = m["confidence_buckets"]
    assert sum(b["count"] for b in buckets.values()) == 360
    assert buckets["high"]["accuracy"] >= m["test_accuracy"]  # confident predictions are right
    assert_summary(r, 3)
    assert_pngs(
        r,
        {
            "history",
            "confusion_matrix",
            "sample_predictions",
            "architecture_comparison",
            "activation_comparison",
            "activations",
        },
    )


def test_breast_cancer_quick(quick):
    r = quick(breast_cancer)
    m = r["metrics"]
    assert m["class_names"] == ("malignant", "benign")  # 0 is malignant in scikit-learn
    assert m["chosen_l2"] in breast_cancer.L2_CANDIDATES
    assert set(m["seed_recipe"]) == set(m["improved"]) == set(breast_cancer.ARCHITECTURES)
    assert m["improved"]["Shallow"]["parameters"] == 30 * 16 + 16 + 16 + 1
    assert m["improved"]["Very Deep"]["parameters"] == 4769
    assert m["shallow_test_accuracy"] > 0.85
    report = r["report"]
    assert report.class_names == ("malignant", "benign")
    assert report.confusion_matrix.sum() == 57
    assert report.support.tolist() == [21, 36]
    assert_summary(r, 2)
    assert_pngs(r, {"architecture_comparison", "confusion_matrix", "history"})


# ---- the seeds' bugs, not repeated ------------------------------------------------------------


@pytest.mark.parametrize("module", [blobs3, moons, binary20])
def test_scaler_is_fitted_on_the_training_split_only(module):
    x_train, x_test, *_ = module.load_data()
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-12)
    assert np.abs(x_test.mean(axis=0)).max() > 1e-3  # the test split kept its own statistics


def test_breast_cancer_splits_are_disjoint_and_labelled_correctly():
    data = breast_cancer.load_data()
    assert (len(data["x_train"]), len(data["x_val"]), len(data["x_test"])) == (455, 57, 57)
    rows = lambda x: {tuple(np.round(r, 9)) for r in x}  # noqa: E731
    assert not rows(data["x_val"]) & rows(data["x_test"])
    assert not rows(data["x_train"]) & rows(data["x_test"])
    # 212 malignant tumours carry label 0, 357 benign label 1
    assert np.bincount(data["y_all"]).tolist() == [212, 357]
    assert data["class_names"][0] == "malignant"


def test_minibatches_are_reshuffled_every_epoch(monkeypatch):
    first_rows = []
    train_step = Model.train_step

    def recording(self, batch):
        first_rows.append(batch[0][0].copy())
        return train_step(self, batch)

    monkeypatch.setattr(Model, "train_step", recording)
    data = blobs3.load_data()
    blobs3.train(data, seed=0, epochs=2)
    steps = -(-len(data[0]) // 32)
    assert len(first_rows) == 2 * steps
    epoch_1, epoch_2 = np.array(first_rows[:steps]), np.array(first_rows[steps:])
    assert not np.array_equal(epoch_1, epoch_2)
    assert not np.array_equal(epoch_1[0], data[0][0])  # not the data's own order either


def test_runs_are_reproducible_and_depend_on_the_seed():
    data = blobs3.load_data()
    a, history_a = blobs3.train(data, seed=3, epochs=3)
    b, history_b = blobs3.train(data, seed=3, epochs=3)
    c, _ = blobs3.train(data, seed=4, epochs=3)
    assert history_a.history["loss"] == history_b.history["loss"]
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a.predict(data[1]), c.predict(data[1]))


def test_dropout_is_off_at_inference():
    data = iris.load_data()
    model, _ = iris.train(data, seed=0, epochs=2)
    x = data[1]
    first = model.predict_proba(x)
    np.testing.assert_array_equal(first, model.predict_proba(x))
    np.testing.assert_allclose(first.sum(axis=1), 1, atol=1e-5)


# ---- helpers, summary and command line --------------------------------------------------------


def test_helpers():
    assert predicted_labels(np.array([[0.2], [0.7], [np.nan]])).tolist() == [0, 1, 0]
    assert predicted_labels(np.array([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]
    assert mean_sd([0.9, 0.95, 1.0]) == "0.9500 ± 0.0500"
    assert mean_sd([0.5]) == "0.5000"
    text = table("t", ["a", "bb"], [[1.0, "x"], ["long", 0.25]])
    assert text.splitlines() == [
        "t",
        "a       bb    ",
        "------  ------",
        "1.0000  x     ",
        "long    0.2500",
    ]


def test_accuracy_uses_probabilities_from_logits():
    data = moons.load_data()
    model, _, diverged = moons.train(data, seed=0, epochs=5)
    assert not diverged
    p = model.predict_proba(data[1])
    assert p.min() >= 0 and p.max() <= 1
    assert accuracy(model, data[1], data[3]) == np.mean((p[:, 0] > 0.5) == data[3])


def test_run_all_prints_the_summary(tmp_path, capsys):
    results = mlp_demos.run_all(tmp_path, quick=True, names=("binary20",))
    out = capsys.readouterr().out
    assert "ours vs the seeds' own code" in out and "0.943 ± 0.006" in out
    assert set(results) == {"binary20", "seconds"}
    assert (tmp_path / "binary20" / "history.png").stat().st_size > 0


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nnlab {nnlab.__version__}"


def test_cli_list_and_demo(tmp_path, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("core", "mlp", "moons", "breast_cancer"):
        assert name in out
    assert cli.DEFAULT_DEMOS == ("core", "mlp")
    assert cli.main(["demo", "binary20", "--quick", "--out", str(tmp_path)]) == 0
    assert "binary20" in capsys.readouterr().out
    assert (tmp_path / "binary20" / "history.png").exists()


# ---- acceptance: the full recipes -------------------------------------------------------------


def test_acceptance_moons_plain_gd():
    """Full recipe (1000 full-batch epochs, lr 0.1) on three seeds: each >= 0.96."""
    data = moons.load_data()
    for seed in range(3):
        model, _, diverged = moons.train(data, seed=seed, **moons.VARIANTS["plain"][1])
        assert not diverged
        assert accuracy(model, data[1], data[3]) >= 0.96


def test_acceptance_iris(tmp_path):
    """Full experiment (both recipes, 100 epochs, five seeds): the recipe chosen on validation
    reaches >= 0.93 on the test set on every seed."""
    m = iris.run(out_dir=tmp_path, seed=0)["metrics"]
    assert m["chosen"] == "Adam lr 0.01"
    assert m["min_test_accuracy"] >= 0.93


def test_acceptance_digits():
    """Seed 000's recipe as written (500 epochs), seeds 0 and 1: mean test accuracy >= 0.97.

    Seed 0 alone sits at 350/360 = 0.9722, one image above the line, so the mean of two seeds
    is asserted (seeds 0-3 measured 0.972-0.983 here; the seed's own code 0.979 ± 0.004)."""
    data = digits.load_data()
    scores = []
    for seed in (0, 1):
        model, _ = digits.train(data, seed=seed, metrics=())
        scores.append(accuracy(model, data[1], data[3]))
    assert np.mean(scores) >= 0.97
    assert min(scores) >= 0.965


def test_acceptance_breast_cancer_shallow():
    """The improved recipe, L2 chosen on the validation set: Shallow >= 0.95 on the test set."""
    data = breast_cancer.load_data()
    l2, validation, (model, _) = breast_cancer.choose_l2(data, seed=0, epochs=breast_cancer.EPOCHS)
    assert set(validation) == set(breast_cancer.L2_CANDIDATES)
    assert accuracy(model, data["x_test"], data["y_test"]) >= 0.95
