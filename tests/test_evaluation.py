"""nnlab.evaluation: the classification report, confidence buckets and regression metrics,
checked against hand-computed values and against scikit-learn."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from nnlab import nn
from nnlab.evaluation import (
    confidence_buckets,
    evaluate_classifier,
    evaluate_regressor,
    regression_metrics,
    split_outputs,
)

# Eight samples, three classes. Predictions (argmax) are [0, 0, 1, 1, 0, 2, 2, 1]; the
# confidences (row maxima) are .9 .6 .7 .85 .4 .9 .4 .8 -- the last sits on the 'high' edge,
# which belongs to 'medium'.
PROBS = np.array(
    [
        [0.90, 0.05, 0.05],
        [0.60, 0.30, 0.10],
        [0.20, 0.70, 0.10],
        [0.10, 0.85, 0.05],
        [0.40, 0.35, 0.25],
        [0.05, 0.05, 0.90],
        [0.30, 0.30, 0.40],
        [0.10, 0.80, 0.10],
    ]
)
Y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
X = np.arange(8, dtype=np.float64)[:, None]  # each input is its row of PROBS


class TableModel:
    """A deterministic 'model': input i predicts row i of a fixed table."""

    def __init__(self, table):
        self.table = np.asarray(table)

    def predict_proba(self, X):
        return self.table[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        raise AssertionError("predict_proba must be preferred over predict")


class LabelModel:
    """An sklearn-style classifier that only has predict, returning labels."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def predict(self, X):
        return self.labels[np.asarray(X)[:, 0].astype(int)]


def test_metrics_equal_hand_computed_values():
    report = evaluate_classifier(TableModel(PROBS), X, Y)
    assert report.accuracy == pytest.approx(5 / 8)
    np.testing.assert_array_equal(report.y_pred, [0, 0, 1, 1, 0, 2, 2, 1])
    np.testing.assert_allclose(report.precision, [2 / 3, 1 / 3, 1])
    np.testing.assert_allclose(report.recall, [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_allclose(report.f1, [2 / 3, 0.4, 0.8])
    np.testing.assert_array_equal(report.support, [3, 2, 3])
    assert report.precision_macro == pytest.approx(2 / 3)
    assert report.recall_macro == pytest.approx(11 / 18)
    assert report.f1_macro == pytest.approx((2 / 3 + 0.4 + 0.8) / 3)
    assert report.precision_weighted == pytest.approx((2 + 2 / 3 + 3) / 8)
    assert report.recall_weighted == pytest.approx(5 / 8)
    assert report.f1_weighted == pytest.approx(5.2 / 8)
    np.testing.assert_array_equal(report.confusion_matrix, [[2, 1, 0], [1, 1, 0], [0, 1, 2]])
    assert report.per_class()["1"] == pytest.approx(
        {"precision": 1 / 3, "recall": 0.5, "f1": 0.4, "support": 2}
    )


def test_confidence_buckets_on_handcrafted_probabilities():
    analysis = confidence_buckets(PROBS, Y)
    high, medium, low = (analysis.bucket(n) for n in ("high", "medium", "low"))
    assert (high.count, medium.count, low.count) == (3, 3, 2)
    assert (high.fraction, medium.fraction, low.fraction) == (3 / 8, 3 / 8, 2 / 8)
    assert high.accuracy == 1.0
    assert medium.accuracy == pytest.approx(1 / 3)
    assert low.accuracy == 0.5
    assert analysis.mean_correct == pytest.approx((0.9 + 0.6 + 0.85 + 0.9 + 0.4) / 5)
    assert analysis.mean_incorrect == pytest.approx((0.7 + 0.4 + 0.8) / 3)
    conf = np.array([0.9, 0.6, 0.7, 0.85, 0.4, 0.9, 0.4, 0.8])
    assert (analysis.mean, analysis.std) == pytest.approx((conf.mean(), conf.std()))
    assert (analysis.min, analysis.max) == (0.4, 0.9)


def test_confidence_bucket_edges_are_parameters_and_empty_buckets_are_nan():
    analysis = confidence_buckets(PROBS, Y, high=0.95, low=0.3)
    counts = [b.count for b in analysis.buckets]
    assert counts == [0, 8, 0]
    assert np.isnan(analysis.bucket("high").accuracy)
    assert analysis.bucket("medium").accuracy == 5 / 8
    with pytest.raises(ValueError, match="0 <= low <= high <= 1"):
        confidence_buckets(PROBS, Y, high=0.4, low=0.6)
    with pytest.raises(KeyError, match="no confidence bucket 'top'"):
        analysis.bucket("top")


def test_report_matches_sklearn_on_random_predictions():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(60, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, size=60)
    names = ["a", "b", "c", "d"]
    report = evaluate_classifier(TableModel(probs), np.arange(60.0)[:, None], y, names, 7)
    pred = probs.argmax(axis=1)
    assert report.accuracy == skm.accuracy_score(y, pred)
    for avg in ("macro", "weighted"):
        assert getattr(report, f"f1_{avg}") == pytest.approx(skm.f1_score(y, pred, average=avg))
        assert getattr(report, f"precision_{avg}") == pytest.approx(
            skm.precision_score(y, pred, average=avg)
        )
    np.testing.assert_array_equal(report.confusion_matrix, skm.confusion_matrix(y, pred))
    expected = skm.classification_report(y, pred, target_names=names, digits=4)
    assert report.classification_report == expected
    np.testing.assert_array_equal(report.confidences, probs.max(axis=1))


@pytest.mark.parametrize("shape", [(5,), (5, 1)])
def test_binary_single_sigmoid_output(shape):
    p = np.array([0.9, 0.15, 0.6, 0.3, 0.5]).reshape(shape)
    y = np.array([1, 0, 0, 1, 0])
    report = evaluate_classifier(TableModel(p.reshape(5, 1)), np.arange(5.0)[:, None], y)
    # p > 0.5 is class 1 (0.5 itself is class 0); confidence is max(p, 1 - p)
    np.testing.assert_array_equal(report.y_pred, [1, 0, 1, 0, 0])
    assert report.accuracy == pytest.approx(0.6)
    np.testing.assert_allclose(report.confidences, [0.9, 0.85, 0.6, 0.7, 0.5])
    np.testing.assert_array_equal(report.confusion_matrix, [[2, 1], [1, 1]])
    analysis = confidence_buckets(p, y)
    assert [b.count for b in analysis.buckets] == [2, 3, 0]
    assert analysis.bucket("medium").accuracy == pytest.approx(1 / 3)


def test_callable_model_and_batching_give_the_same_report():
    table = TableModel(PROBS)
    whole = evaluate_classifier(table.predict_proba, X, Y)
    batched = evaluate_classifier(table, X, Y, batch_size=3)
    assert whole.accuracy == batched.accuracy == 5 / 8
    np.testing.assert_array_equal(whole.probabilities, batched.probabilities)
    assert whole.samples_per_second > 0


def test_nnlab_module_as_callable_and_one_hot_targets():
    logits = np.log(PROBS)
    report = evaluate_classifier(nn.Softmax(), logits, np.eye(3)[Y])
    np.testing.assert_allclose(report.probabilities, PROBS)
    assert report.accuracy == 5 / 8


def test_model_returning_labels_has_no_confidence_analysis():
    report = evaluate_classifier(LabelModel([0, 0, 1, 1, 0, 2, 2, 1]), X, Y, ["x", "y", "z"])
    assert report.accuracy == 5 / 8
    assert report.confidence is None and report.probabilities is None
    np.testing.assert_array_equal(report.confusion_matrix, [[2, 1, 0], [1, 1, 0], [0, 1, 2]])
    assert "Confidence" not in report.summary()


def test_summary_is_a_readable_table():
    report = evaluate_classifier(TableModel(PROBS), X, Y, ["cat", "dog", "eel"])
    text = report.summary()
    assert str(report) == text
    assert "Accuracy: 0.6250" in text
    assert "cat" in text and "eel" in text
    lines = text.splitlines()
    assert [ln.split()[0] for ln in lines if ln.strip().startswith(("high", "medium", "low"))] == [
        "high",
        "medium",
        "low",
    ]
    high = next(ln for ln in lines if ln.strip().startswith("high")).split()
    assert high[-3:] == ["3", "0.3750", "1.0000"]
    matrix = lines[lines.index("Confusion matrix (rows: true, columns: predicted):") :]
    matrix_row = next(ln for ln in matrix if ln.split()[:1] == ["dog"])
    assert matrix_row.split() == ["dog", "1", "1", "0"]
    assert "samples/s" in text


def test_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="X has 8 samples but y has shape \\(7,\\)"):
        evaluate_classifier(TableModel(PROBS), X, Y[:7])
    with pytest.raises(ValueError, match="cannot get predictions from a object.*predict"):
        evaluate_classifier(object(), X, Y)
    with pytest.raises(ValueError, match="not probabilities: values range over"):
        evaluate_classifier(TableModel(np.log(PROBS)), X, Y)
    with pytest.raises(ValueError, match="rows do not sum to 1"):
        evaluate_classifier(TableModel(PROBS * 0.5), X, Y)
    with pytest.raises(ValueError, match="label 3 but the model gives probabilities for only 3"):
        evaluate_classifier(TableModel(PROBS), X, np.where(Y == 2, 3, Y))
    with pytest.raises(ValueError, match="got 2 class_names for 3 classes"):
        evaluate_classifier(TableModel(PROBS), X, Y, class_names=["a", "b"])
    with pytest.raises(ValueError, match="0 samples"):
        evaluate_classifier(TableModel(PROBS), X[:0], Y[:0])
    with pytest.raises(ValueError, match="needs probabilities"):
        confidence_buckets(np.array([0, 2, 1]), [0, 2, 1])


def test_split_outputs_reads_labels_and_probabilities():
    probs, labels = split_outputs(np.array([0.2, 0.7]))
    np.testing.assert_allclose(probs, [[0.8, 0.2], [0.3, 0.7]])
    np.testing.assert_array_equal(labels, [0, 1])
    probs, labels = split_outputs(np.array([[2.0], [0.0], [1.0]]))  # whole floats above 1
    assert probs is None
    np.testing.assert_array_equal(labels, [2, 0, 1])
    probs, labels = split_outputs(np.eye(3, dtype=int)[[2, 0]])  # one-hot integer rows
    np.testing.assert_array_equal(probs, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(labels, [2, 0])
    with pytest.raises(ValueError, match=r"probabilities has 3 samples but y has shape \(2,\)"):
        confidence_buckets(PROBS[:3], [0, 1])


def test_regression_metrics_equal_numpy_formulas():
    rng = np.random.default_rng(1)
    y = rng.normal(size=40)
    pred = y + rng.normal(scale=0.3, size=40)
    got = regression_metrics(y, pred[:, None])  # (N,) vs (N, 1) is accepted
    err = y - pred
    assert got["mae"] == pytest.approx(np.abs(err).mean())
    assert got["mse"] == pytest.approx(np.square(err).mean())
    assert got["rmse"] == pytest.approx(np.sqrt(np.square(err).mean()))
    r2 = 1 - np.square(err).sum() / np.square(y - y.mean()).sum()
    assert got["r2"] == pytest.approx(r2)
    assert regression_metrics(y, y) == {"mae": 0.0, "mse": 0.0, "rmse": 0.0, "r2": 1.0}


def test_evaluate_regressor_uses_predict_or_a_callable():
    x = np.linspace(0, 1, 10)[:, None]
    y = 2 * x[:, 0] + 1

    class Linear:
        def predict(self, X):
            return 2 * X + 1.5  # every prediction 0.5 too high

    got = evaluate_regressor(Linear(), x, y, batch_size=4)
    assert got["mae"] == pytest.approx(0.5) and got["mse"] == pytest.approx(0.25)
    assert evaluate_regressor(lambda X: 2 * X + 1, x, y)["r2"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        evaluate_regressor(Linear(), x, y[:9])
    with pytest.raises(ValueError, match="y_true has shape \\(10,\\) but y_pred has shape"):
        regression_metrics(y, np.zeros((10, 2)))


def test_import_does_not_load_sklearn_or_matplotlib():
    code = (
        "import sys, nnlab.evaluation, nnlab.plots\n"
        "print(','.join(m for m in ('matplotlib', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
