"""Reconstruction-error anomaly detection and the PCA reconstruction baseline, with values
worked out by hand."""

import numpy as np
import pytest

from nnlab.evaluation.anomaly import (
    ReconstructionAnomalyDetector,
    auroc,
    predict_anomalies,
    reconstruction_errors,
    threshold_from_errors,
)
from nnlab.evaluation.pca_baseline import pca_reconstruct, pca_reconstruction_mse


def shrink(x):
    """A 'model' reconstructing x as 0.5 x: error mean((0.5 x)^2) per sample."""
    return 0.5 * x


class Predictor:
    def predict(self, x, batch_size=None):
        return shrink(x)


def test_reconstruction_errors_per_sample():
    x = np.array([[[0.0, 2.0]], [[2.0, 2.0]], [[4.0, 0.0]]])  # (3, 1, 2)
    np.testing.assert_allclose(reconstruction_errors(shrink, x), [0.5, 1.0, 2.0])
    np.testing.assert_allclose(reconstruction_errors(Predictor(), x), [0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="outputs its input's shape"):
        reconstruction_errors(lambda x: x[:, 0], x)


def test_threshold_and_predictions():
    errors = np.arange(101.0)
    assert threshold_from_errors(errors, 95) == pytest.approx(95.0)
    np.testing.assert_array_equal(predict_anomalies([94.0, 95.0, 96.0], 95.0), [False, False, True])
    with pytest.raises(ValueError, match=r"percentile must be in \[0, 100\]"):
        threshold_from_errors(errors, 101)


def test_auroc_by_hand():
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    # pairs (anomaly, normal): (0.5 vs 0.1) win, (0.5 vs 0.7) loss, (0.9, *) two wins -> 3/4
    assert auroc([0.1, 0.7, 0.5, 0.9], [False, False, True, True]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="both anomalies and normal samples"):
        auroc([0.1, 0.2], [0, 0])


def test_detector_rates():
    normal = np.arange(1.0, 101.0)[:, None] * 0.01  # errors 0.25 * x^2, increasing
    detector = ReconstructionAnomalyDetector(shrink, percentile=90).fit(normal)
    assert detector.threshold == pytest.approx(np.percentile(0.25 * normal[:, 0] ** 2, 90))
    x = np.array([[0.5], [0.95], [2.0], [3.0], [0.1]])
    labels = np.array([False, False, True, True, True])
    np.testing.assert_array_equal(detector.predict(x), [False, True, True, True, False])
    report = detector.evaluate(x, labels)
    assert report["detection_rate"] == pytest.approx(2 / 3)
    assert report["false_alarm_rate"] == pytest.approx(1 / 2)
    assert report["precision"] == pytest.approx(2 / 3)
    assert report["auroc"] == pytest.approx(4 / 6)  # 0.1 loses to both normals
    with pytest.raises(RuntimeError, match="call fit"):
        ReconstructionAnomalyDetector(shrink).predict(x)


def test_pca_reconstruction_against_svd():
    rng = np.random.default_rng(0)
    x_train = rng.standard_normal((50, 2, 3)) * np.arange(1, 7).reshape(2, 3)
    x_test = rng.standard_normal((10, 2, 3))
    flat = x_train.reshape(50, -1)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    basis = vt[:2]
    expected = ((x_test.reshape(10, -1) - mean) @ basis.T @ basis + mean).reshape(x_test.shape)
    np.testing.assert_allclose(pca_reconstruct(x_train, x_test, 2), expected, atol=1e-10)
    assert pca_reconstruction_mse(x_train, x_test, 2) == pytest.approx(
        np.mean((x_test - expected) ** 2)
    )
    assert pca_reconstruction_mse(x_train, x_test, 6) == pytest.approx(0.0, abs=1e-20)
    with pytest.raises(ValueError, match="must match"):
        pca_reconstruct(x_train, x_test.reshape(10, 6), 2)
