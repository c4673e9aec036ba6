"""Streaming metrics against scikit-learn and NumPy on random data."""

import numpy as np
import pytest
from sklearn import metrics as skm

from nnlab import losses, metrics
from nnlab.autograd.tensor import Tensor


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def binary_data(rng, n=1000):
    """0/1 targets and probabilities that lean towards them (so AUC is far from 0.5)."""
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0.0, 1.0)
    return y, p


def class_data(rng, n=500, k=4):
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, np.eye(k)[labels], probs


def result(metric, *args, **kwargs):
    metric.reset_state()
    metric.update_state(*args, **kwargs)
    return metric.result()


# ---- Mean -----------------------------------------------------------------------------------


def test_mean_of_values_with_and_without_weights(rng):
    values, weights = rng.normal(size=50), rng.random(50)
    assert result(metrics.Mean(), values) == pytest.approx(values.mean())
    assert result(metrics.Mean(), values, weights) == pytest.approx(
        np.average(values, weights=weights)
    )
    rows = rng.normal(size=(50, 3))  # several values per sample: their mean, then weighted
    expected = np.average(rows.mean(axis=1), weights=weights)
    assert result(metrics.Mean(), rows, weights[:, None]) == pytest.approx(expected)
    assert result(metrics.Mean(), 3.0) == 3.0
    assert metrics.Mean().result() == 0.0


def test_mean_rejects_weights_of_another_length(rng):
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not match"):
        metrics.Mean().update_state(np.ones(5), np.ones(3))


# ---- accuracy family ------------------------------------------------------------------------


def test_binary_accuracy_matches_sklearn(rng):
    y, p = binary_data(rng)
    w = rng.random(len(y))
    expected = skm.accuracy_score(y, p > 0.5)
    assert result(metrics.BinaryAccuracy(), y, p) == pytest.approx(expected)
    assert result(metrics.BinaryAccuracy(), y[:, None], p) == pytest.approx(expected)
    assert result(metrics.BinaryAccuracy(), y, Tensor(p[:, None])) == pytest.approx(expected)
    assert result(metrics.BinaryAccuracy(), y, p, w) == pytest.approx(
        skm.accuracy_score(y, p > 0.5, sample_weight=w)
    )
    assert result(metrics.BinaryAccuracy(threshold=0.7), y, p) == pytest.approx(
        skm.accuracy_score(y, p > 0.7)
    )


def test_binary_accuracy_multi_label_averages_per_sample(rng):
    y, p = rng.integers(0, 2, (100, 3)), rng.random((100, 3))
    w = rng.random(100)
    per_sample = ((p > 0.5) == y).mean(axis=1)
    assert result(metrics.BinaryAccuracy(), y, p, w) == pytest.approx(
        np.average(per_sample, weights=w)
    )


def test_categorical_and_sparse_accuracy_match_sklearn(rng):
    labels, one_hot, probs = class_data(rng)
    w = rng.random(len(labels))
    expected = skm.accuracy_score(labels, probs.argmax(axis=1))
    weighted = skm.accuracy_score(labels, probs.argmax(axis=1), sample_weight=w)
    assert 0.3 < expected < 0.95
    assert result(metrics.CategoricalAccuracy(), one_hot, probs) == pytest.approx(expected)
    assert result(metrics.CategoricalAccuracy(), one_hot, probs, w) == pytest.approx(weighted)
    assert result(metrics.CategoricalAccuracy(), labels, probs) == pytest.approx(expected)
    assert result(metrics.SparseCategoricalAccuracy(), labels, probs) == pytest.approx(expected)
    assert result(metrics.SparseCategoricalAccuracy(), labels[:, None], Tensor(probs), w) == (
        pytest.approx(weighted)
    )


def test_accuracy_is_an_exact_match(rng):
    y, y_hat = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert result(metrics.Accuracy(), y, y_hat) == pytest.approx(np.mean(y == y_hat))


# ---- regression -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric, reference",
    [
        (metrics.MeanAbsoluteError, skm.mean_absolute_error),
        (metrics.MeanSquaredError, skm.mean_squared_error),
        # Keras's RMSE is the root of the mean over all outputs, not a mean of per-output roots.
        (metrics.RootMeanSquaredError, lambda *a, **k: np.sqrt(skm.mean_squared_error(*a, **k))),
    ],
)
def test_regression_metrics_match_sklearn(rng, metric, reference):
    y, y_hat, w = rng.normal(size=(80, 3)), rng.normal(size=(80, 3)), rng.random(80)
    assert result(metric(), y, y_hat) == pytest.approx(reference(y, y_hat))
    assert result(metric(), y, y_hat, w) == pytest.approx(reference(y, y_hat, sample_weight=w))
    assert result(metric(), y[:, 0], y_hat[:, :1]) == pytest.approx(reference(y[:, 0], y_hat[:, 0]))


# ---- precision, recall ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric, reference",
    [(metrics.Precision, skm.precision_score), (metrics.Recall, skm.recall_score)],
)
def test_precision_recall_match_sklearn(rng, metric, reference):
    y, p = binary_data(rng)
    w = rng.random(len(y))
    assert result(metric(), y, p) == pytest.approx(reference(y, p > 0.5))
    assert result(metric(), y, p[:, None], w) == pytest.approx(
        reference(y, p > 0.5, sample_weight=w)
    )
    assert result(metric(thresholds=0.8), y, p) == pytest.approx(reference(y, p > 0.8))


@pytest.mark.parametrize(
    "metric, reference",
    [(metrics.Precision, skm.precision_score), (metrics.Recall, skm.recall_score)],
)
def test_precision_recall_on_classes_are_one_vs_rest(rng, metric, reference):
    labels, one_hot, probs = class_data(rng)
    # Keras semantics: every entry is one thresholded decision (a micro average)...
    micro = reference(one_hot.ravel(), probs.ravel() > 0.5)
    assert result(metric(), one_hot, probs) == pytest.approx(micro)
    assert result(metric(), labels, probs) == pytest.approx(micro)  # integer labels too
    # ...and class_id keeps one column.
    assert result(metric(class_id=2), one_hot, probs) == pytest.approx(
        reference(labels == 2, probs[:, 2] > 0.5)
    )


def test_precision_recall_are_zero_without_positives():
    assert result(metrics.Precision(), np.ones(4), np.zeros(4)) == 0.0
    assert result(metrics.Recall(), np.zeros(4), np.ones(4)) == 0.0
    with pytest.raises(ValueError, match="one threshold in \\[0, 1\\]"):
        metrics.Precision(thresholds=[0.3, 0.5])


def test_thresholded_metrics_reject_mismatched_shapes(rng):
    with pytest.raises(
        ValueError, match=r"y_true of shape \(10, 2\) does not match y_pred of shape \(10, 3\)"
    ):
        metrics.Recall().update_state(np.ones((10, 2)), rng.random((10, 3)))


# ---- AUC ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_roc_auc_matches_sklearn(seed):
    y, p = binary_data(np.random.default_rng(seed))
    w = np.random.default_rng(seed + 10).random(len(y))
    assert result(metrics.AUC(), y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-2)
    assert result(metrics.AUC(), y, p, w) == pytest.approx(
        skm.roc_auc_score(y, p, sample_weight=w), abs=1e-2
    )
    # Finer thresholds approach the exact value.
    assert result(metrics.AUC(num_thresholds=5000), y, p) == pytest.approx(
        skm.roc_auc_score(y, p), abs=1e-3
    )


def test_pr_auc_matches_average_precision(rng):
    y, p = binary_data(rng)
    assert result(metrics.AUC(curve="PR"), y, p) == pytest.approx(
        skm.average_precision_score(y, p), abs=1e-2
    )


def test_auc_summation_methods_bracket_the_interpolation(rng):
    y, p = binary_data(rng)
    low = result(metrics.AUC(summation_method="minoring"), y, p)
    mid = result(metrics.AUC(), y, p)
    high = result(metrics.AUC(summation_method="majoring"), y, p)
    assert low < mid < high
    assert high - low < 0.02


def test_auc_perfect_random_and_logits(rng):
    y = np.array([0, 0, 1, 1])
    assert result(metrics.AUC(), y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert result(metrics.AUC(curve="PR"), y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    logits = rng.normal(size=1000)
    y = (rng.random(1000) < 1 / (1 + np.exp(-2 * logits))).astype(int)
    assert result(metrics.AUC(from_logits=True), y, logits) == pytest.approx(
        skm.roc_auc_score(y, logits), abs=1e-2
    )


def test_auc_multi_label_averages_columns_and_default_pools_them(rng):
    y = rng.integers(0, 2, (600, 3))
    p = np.clip(0.3 * y + 0.7 * rng.random((600, 3)), 0, 1)
    per_label = np.mean([skm.roc_auc_score(y[:, k], p[:, k]) for k in range(3)])
    assert result(metrics.AUC(multi_label=True), y, p) == pytest.approx(per_label, abs=1e-2)
    assert result(metrics.AUC(), y, p) == pytest.approx(
        skm.roc_auc_score(y.ravel(), p.ravel()), abs=1e-2
    )


def test_auc_argument_errors():
    with pytest.raises(ValueError, match="num_thresholds > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="'ROC' or 'PR'"):
        metrics.AUC(curve="DET")
    assert metrics.AUC().result() == 0.0


# ---- streaming, reset, config ---------------------------------------------------------------


def all_metrics():
    return [
        (metrics.BinaryAccuracy, "binary"),
        (metrics.Precision, "binary"),
        (metrics.Recall, "binary"),
        (metrics.AUC, "binary"),
        (lambda: metrics.AUC(curve="PR"), "binary"),
        (metrics.CategoricalAccuracy, "one_hot"),
        (metrics.SparseCategoricalAccuracy, "labels"),
        (metrics.MeanAbsoluteError, "regression"),
        (metrics.MeanSquaredError, "regression"),
        (metrics.RootMeanSquaredError, "regression"),
    ]


def data_for(kind, rng):
    if kind == "binary":
        return binary_data(rng, 300)
    labels, one_hot, probs = class_data(rng, 300)
    if kind == "labels":
        return labels, probs
    if kind == "one_hot":
        return one_hot, probs
    return rng.normal(size=(300, 2)), rng.normal(size=(300, 2))


@pytest.mark.parametrize("make, kind", all_metrics())
def test_streaming_over_batches_equals_one_batch(rng, make, kind):
    y, p = data_for(kind, rng)
    w = rng.random(len(y))
    whole = result(make(), y, p, w)
    streamed = make()
    for start in range(0, len(y), 64):
        part = slice(start, start + 64)
        streamed.update_state(y[part], p[part], w[part])
    assert streamed.result() == pytest.approx(whole, rel=1e-12)


@pytest.mark.parametrize("make, kind", all_metrics())
def test_reset_state_forgets_everything(rng, make, kind):
    y, p = data_for(kind, rng)
    metric = make()
    metric.update_state(y[:100], p[:100])
    metric.reset_state()
    assert metric.result() == 0.0
    metric.update_state(y[100:], p[100:])
    assert metric.result() == pytest.approx(result(make(), y[100:], p[100:]))


def test_call_updates_and_returns_the_result_and_config_round_trips():
    metric = metrics.Precision(thresholds=0.3, class_id=1, name="p1")
    assert metric(np.array([[0, 1], [1, 0]]), np.array([[0.2, 0.9], [0.9, 0.2]])) == 1.0
    clone = metrics.Precision.from_config(metric.get_config())
    assert clone.get_config() == {"name": "p1", "thresholds": 0.3, "class_id": 1}
    auc = metrics.AUC(num_thresholds=50, curve="PR", name="pr")
    assert metrics.AUC.from_config(auc.get_config()).get_config() == auc.get_config()
    assert metrics.BinaryAccuracy.from_config({"name": "acc", "threshold": 0.2}).fn_kwargs == {
        "threshold": 0.2
    }


# ---- get ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss, expected",
    [
        ("binary_crossentropy", metrics.BinaryAccuracy),
        (losses.BinaryCrossentropy(from_logits=True), metrics.BinaryAccuracy),
        ("BinaryFocalCrossentropy", metrics.BinaryAccuracy),
        ("BCEWithLogitsLoss", metrics.BinaryAccuracy),
        ("categorical_crossentropy", metrics.CategoricalAccuracy),
        (losses.CategoricalCrossentropy(), metrics.CategoricalAccuracy),
        ("cce", metrics.CategoricalAccuracy),
        ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
        (losses.SparseCategoricalCrossentropy(), metrics.SparseCategoricalAccuracy),
        (losses.sparse_categorical_crossentropy, metrics.SparseCategoricalAccuracy),
    ],
)
def test_accuracy_is_chosen_from_the_loss(loss, expected):
    for name in ("accuracy", "acc"):
        metric = metrics.get(name, loss=loss)
        assert type(metric) is expected
        assert metric.name == name


def test_accuracy_without_a_telling_loss_decides_from_shapes(rng):
    labels, one_hot, probs = class_data(rng, 100)
    y, p = binary_data(rng, 100)
    for loss in (None, "mse", "CrossEntropyLoss"):
        assert result(metrics.get("accuracy", loss), y, p[:, None]) == pytest.approx(
            skm.accuracy_score(y, p > 0.5)
        )
        expected = skm.accuracy_score(labels, probs.argmax(axis=1))
        assert result(metrics.get("accuracy", loss), labels, probs) == pytest.approx(expected)
        assert result(metrics.get("accuracy", loss), one_hot, probs) == pytest.approx(expected)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("mae", metrics.MeanAbsoluteError),
        ("mean_absolute_error", metrics.MeanAbsoluteError),
        ("mse", metrics.MeanSquaredError),
        ("rmse", metrics.RootMeanSquaredError),
        ("precision", metrics.Precision),
        ("recall", metrics.Recall),
        ("auc", metrics.AUC),
        ("binary_accuracy", metrics.BinaryAccuracy),
        ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
    ],
)
def test_get_resolves_names_and_keeps_them_as_log_names(name, cls):
    metric = metrics.get(name)
    assert type(metric) is cls and metric.name == name


def test_get_passes_instances_classes_and_functions():
    auc = metrics.AUC(name="my_auc")
    assert metrics.get(auc) is auc
    assert type(metrics.get(metrics.Recall)) is metrics.Recall
    assert metrics.get("RootMeanSquaredError").name == "root_mean_squared_error"

    def max_error(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    metric = metrics.get(max_error)
    assert metric.name == "max_error"
    metric.update_state(np.zeros((2, 2)), np.array([[1.0, 3.0], [2.0, 0.0]]))
    assert metric.result() == pytest.approx(2.5)


def test_get_errors_name_the_known_metrics():
    with pytest.raises(ValueError, match="unknown metric 'f2'; known metrics: accuracy, acc, auc"):
        metrics.get("f2")
    with pytest.raises(TypeError, match="cannot interpret 3 as a metric"):
        metrics.get(3)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_f1_score_streams_to_scikit_learns_value(average):
    rng = np.random.default_rng(0)
    probs, labels = rng.dirichlet(np.ones(4), 200), rng.integers(0, 4, 200)
    metric = metrics.F1Score(average=average)
    for start in range(0, 200, 64):  # batches; integer labels
        metric.update_state(labels[start : start + 64], probs[start : start + 64])
    np.testing.assert_allclose(
        metric.result(), skm.f1_score(labels, probs.argmax(1), average=average), rtol=1e-12
    )
    one_hot = metrics.F1Score(average=average)
    one_hot.update_state(np.eye(4)[labels], probs)
    np.testing.assert_allclose(one_hot.result(), metric.result(), rtol=1e-12)


def test_f1_score_binary_threshold_weights_and_compile():
    rng = np.random.default_rng(1)
    p, t = rng.random(100), rng.integers(0, 2, 100)
    metric = metrics.F1Score()
    metric.update_state(t, p[:, None])
    assert metric.result() == pytest.approx(skm.f1_score(t, p > 0.5))
    strict = metrics.F1Score(threshold=0.8)
    strict.update_state(t, p)
    assert strict.result() == pytest.approx(skm.f1_score(t, p > 0.8))
    w = rng.random(100)
    weighted = metrics.F1Score()
    weighted.update_state(t, p, sample_weight=w)
    assert weighted.result() == pytest.approx(skm.f1_score(t, p > 0.5, sample_weight=w))
    assert isinstance(metrics.get("f1"), metrics.F1Score)
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.F1Score(average="samples")
