"""F1Score: the harmonic mean of precision and recall, per class and averaged, streamed over
batches (Keras's ``F1Score``, scikit-learn's ``f1_score`` on the same decisions)."""

import numpy as np

from nnlab.metrics.base import Metric, as_array, divide, one_hot_if_sparse, weights_like

AVERAGES = ("macro", "micro", "weighted", None)


class F1Score(Metric):
    """F1 = 2 tp / (2 tp + fp + fn) from counts kept per class over every batch seen.

    Decisions: with ``threshold`` None, the top class of each row (multi-class outputs), or
    ``y_pred > 0.5`` for a single sigmoid column, whose F1 is then the positive class's
    (scikit-learn's ``average='binary'``); with a threshold, every entry above it. Targets
    may be one-hot rows or integer labels.

    Args:
        average: 'macro' (the mean over classes), 'micro' (from the pooled counts),
            'weighted' (classes weighted by their number of true samples), or None (one
            value per class, an array; not for ``compile``, whose logs are numbers).
        threshold: see above.
        name: the log name (default 'f1_score').
    """

    default_name = "f1_score"

    def __init__(self, average="macro", threshold=None, name=None):
        if average not in AVERAGES:
            raise ValueError(f"F1Score average must be one of {AVERAGES}, got {average!r}")
        if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"F1Score threshold must be in [0, 1] or None, got {threshold!r}")
        self.average, self.threshold = average, threshold
        super().__init__(name)

    def reset_state(self) -> None:
        self.counts = None  # (tp, fp, fn) per class, made on the first batch

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = np.asarray(as_array(y_pred), dtype=np.float64)
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        y_true = np.asarray(one_hot_if_sparse(as_array(y_true), y_pred), dtype=np.float64)
        y_true = y_true.reshape(y_pred.shape)
        decided = self._decisions(y_pred)
        weight = (
            np.ones(y_pred.shape)
            if sample_weight is None
            else weights_like(sample_weight, y_pred.shape)
        )
        actual = y_true > 0.5
        batch = np.stack(
            [
                (weight * (actual & decided)).sum(axis=0),
                (weight * (~actual & decided)).sum(axis=0),
                (weight * (actual & ~decided)).sum(axis=0),
            ]
        )
        self.counts = batch if self.counts is None else self.counts + batch

    def _decisions(self, y_pred) -> np.ndarray:
        if self.threshold is not None:
            return y_pred > self.threshold
        if y_pred.shape[-1] == 1:
            return y_pred > 0.5
        return y_pred == y_pred.max(axis=-1, keepdims=True)

    def result(self):
        if self.counts is None:
            return 0.0 if self.average is not None else np.zeros(0)
        tp, fp, fn = self.counts
        if self.average == "micro":
            return float(divide(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum()))
        per_class = divide(2 * tp, 2 * tp + fp + fn)
        if self.average is None:
            return per_class
        if self.average == "weighted":
            return float(divide((per_class * (tp + fn)).sum(), (tp + fn).sum()))
        return float(per_class.mean())

    def get_config(self) -> dict:
        return {"name": self.name, "average": self.average, "threshold": self.threshold}
