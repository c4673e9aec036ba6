"""Anomaly detection by reconstruction error.

A model trained to reconstruct normal data reconstructs unfamiliar inputs badly, so its
per-sample reconstruction error is an anomaly score. The threshold is a percentile of the
scores of the (normal) training data: at the 95th, about 5% of normal inputs are flagged.

    detector = ReconstructionAnomalyDetector(autoencoder, percentile=95).fit(x_train)
    flags = detector.predict(x_new)                      # True: anomaly
    report = detector.evaluate(x_test, is_anomaly)       # AUROC, detection/false-alarm rates

Any object with ``predict(x)`` returning reconstructions of ``x``'s shape works (an nnlab
autoencoder), or a plain function ``f(x)``.
"""

import numpy as np


def reconstruction_errors(model, x, batch_size: int = 256) -> np.ndarray:
    """Per-sample mean squared reconstruction error.

    Args:
        model: has ``predict(x, batch_size)`` (an autoencoder) or is a callable ``f(x)``.
        x: (N, ...) inputs.

    Returns:
        (N,) ``mean((x - model(x))^2)`` over every axis but the first.
    """
    x = np.asarray(x)
    if hasattr(model, "predict"):
        recon = np.asarray(model.predict(x, batch_size=batch_size))
    else:
        recon = np.asarray(model(x))
    if recon.shape != x.shape:
        raise ValueError(
            f"the model's reconstructions have shape {recon.shape}, the inputs {x.shape}: "
            "anomaly scores need a model that outputs its input's shape (an autoencoder)"
        )
    diff = (x - recon).astype(np.float64).reshape(len(x), -1)
    return np.mean(diff**2, axis=1)


def threshold_from_errors(errors, percentile: float = 95.0) -> float:
    """The ``percentile``-th percentile of (training) errors: the anomaly threshold."""
    if not 0.0 <= float(percentile) <= 100.0:
        raise ValueError(f"percentile must be in [0, 100], got {percentile}")
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        raise ValueError("threshold_from_errors got no errors")
    return float(np.percentile(errors, percentile))


def predict_anomalies(scores, threshold: float) -> np.ndarray:
    """True where a score is above the threshold."""
    return np.asarray(scores) > threshold


def auroc(scores, is_anomaly) -> float:
    """Area under the ROC curve of ``scores`` ranking anomalies (True/1) above normal
    samples: 1 is a perfect ranking, 0.5 chance."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(is_anomaly).astype(bool).reshape(-1)
    if labels.all() or not labels.any():
        raise ValueError("AUROC needs both anomalies and normal samples in is_anomaly")
    return float(roc_auc_score(labels, np.asarray(scores).reshape(-1)))


class ReconstructionAnomalyDetector:
    """Flags inputs whose reconstruction error exceeds a percentile of the training errors.

    Args:
        model: a trained autoencoder (``predict``) or a callable returning reconstructions.
        percentile: the training-error percentile used as threshold.
    """

    def __init__(self, model, percentile: float = 95.0):
        self.model, self.percentile = model, float(percentile)
        self.threshold = None

    def fit(self, x_normal) -> "ReconstructionAnomalyDetector":
        """Set the threshold from the errors of normal data (usually the training set)."""
        self.threshold = threshold_from_errors(self.score(x_normal), self.percentile)
        return self

    def score(self, x) -> np.ndarray:
        """(N,) anomaly scores: the reconstruction errors."""
        return reconstruction_errors(self.model, x)

    def predict(self, x) -> np.ndarray:
        """(N,) booleans: True for an anomaly."""
        if self.threshold is None:
            raise RuntimeError("call fit(x_normal) before predict, to set the threshold")
        return predict_anomalies(self.score(x), self.threshold)

    def evaluate(self, x, is_anomaly) -> dict:
        """AUROC of the scores, and at the threshold: the detection rate (anomalies
        flagged), the false-alarm rate (normal samples flagged) and the precision."""
        labels = np.asarray(is_anomaly).astype(bool)
        scores = self.score(x)
        flags = predict_anomalies(scores, self.threshold)
        return {
            "auroc": auroc(scores, labels),
            "threshold": self.threshold,
            "detection_rate": float(flags[labels].mean()),
            "false_alarm_rate": float(flags[~labels].mean()),
            "precision": float(labels[flags].mean()) if flags.any() else float("nan"),
        }
