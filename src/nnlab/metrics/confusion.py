"""Threshold metrics from confusion counts: Precision, Recall and AUC."""

import numpy as np

from nnlab.metrics.base import Metric, as_array, divide, one_hot_if_sparse, same_rank, weights_like


def _prepare_binary(y_true, y_pred, sample_weight, class_id):
    """(targets, predictions, weights) as float64 arrays of one shape, for the thresholded
    metrics: integer labels become one-hot, ``class_id`` keeps one column."""
    y_true, y_pred = as_array(y_true), np.asarray(as_array(y_pred), dtype=np.float64)
    y_true = one_hot_if_sparse(y_true, y_pred)
    y_true, y_pred = same_rank(np.asarray(y_true, dtype=np.float64), y_pred)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}; "
            "thresholded metrics compare targets and predictions entry by entry"
        )
    weight = (
        np.ones(y_pred.shape)
        if sample_weight is None
        else weights_like(sample_weight, y_pred.shape)
    )
    return y_true, y_pred, weight


class _ConfusionMetric(Metric):
    """Weighted true-positive, false-positive and false-negative counts at one threshold.

    Keras semantics: every entry of ``y_pred`` is one binary decision (``> thresholds``), so
    multi-label outputs count entry by entry, and one-hot (or integer-label) multi-class
    rows count one-vs-rest over all classes at once (a micro average). ``class_id`` restricts
    the counts to one column.

    Args:
        thresholds: the probability above which a prediction counts as positive.
        class_id: count only this column of the predictions (None: all entries).
        name: the log name.
    """

    def __init__(self, thresholds=0.5, class_id=None, name=None):
        if not np.isscalar(thresholds) or not 0.0 <= float(thresholds) <= 1.0:
            raise ValueError(
                f"{type(self).__name__} takes one threshold in [0, 1], got {thresholds!r}"
            )
        self.thresholds, self.class_id = float(thresholds), class_id
        super().__init__(name)

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Count the batch's decisions (``sample_weight``: one weight per sample)."""
        y_true, y_pred, weight = _prepare_binary(y_true, y_pred, sample_weight, self.class_id)
        actual, predicted = y_true.astype(bool), y_pred > self.thresholds
        self.true_positives += float(weight[actual & predicted].sum())
        self.false_positives += float(weight[~actual & predicted].sum())
        self.false_negatives += float(weight[actual & ~predicted].sum())

    def get_config(self) -> dict:
        return {"name": self.name, "thresholds": self.thresholds, "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """Precision ``tp / (tp + fp)`` of thresholded predictions (0 before any positive
    prediction). Entry by entry, as described in ``_ConfusionMetric``.

    Args:
        thresholds: the probability above which a prediction counts as positive.
        class_id: count only this column of the predictions (None: all entries).
        name: the log name.
    """

    default_name = "precision"

    def result(self) -> float:
        return float(divide(self.true_positives, self.true_positives + self.false_positives))


class Recall(_ConfusionMetric):
    """Recall ``tp / (tp + fn)`` of thresholded predictions (0 before any positive target).
    Entry by entry, as described in ``_ConfusionMetric``.

    Args:
        thresholds: the probability above which a prediction counts as positive.
        class_id: count only this column of the predictions (None: all entries).
        name: the log name.
    """

    default_name = "recall"

    def result(self) -> float:
        return float(divide(self.true_positives, self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from histograms of the predictions.

    As in Keras, the curve is evaluated at ``num_thresholds`` evenly spaced thresholds
    ``t_i = i / (num_thresholds - 1)`` (the first just below 0, the last just above 1). A
    prediction ``p`` lands in bucket ``max(ceil(p * (T - 1)) - 1, 0)``, so each batch costs one
    ``bincount``; a reversed cumulative sum turns the buckets into true/false positives at
    every threshold. ROC uses the trapezoid rule; PR uses Davis & Goadrich's interpolation.
    Targets may be soft (each entry counts ``y`` positive and ``1 - y`` negative).

    Args:
        num_thresholds: number of thresholds (> 1); more is finer and still O(N) per batch.
        curve: 'ROC' or 'PR'.
        summation_method: 'interpolation' (default), 'minoring' or 'majoring' (Riemann sums
            with the lower or upper of two neighbouring heights).
        multi_label: False: every entry is one binary decision (micro); True: one curve per
            column of the predictions, their areas averaged.
        from_logits: apply a sigmoid to the predictions first.
        name: the log name.
    """

    default_name = "auc"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        multi_label=False,
        from_logits=False,
        name=None,
    ):
        if int(num_thresholds) < 2:
            raise ValueError(f"AUC needs num_thresholds > 1, got {num_thresholds}")
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                "AUC summation_method must be 'interpolation', 'minoring' or 'majoring', "
                f"got {summation_method!r}"
            )
        self.num_thresholds, self.curve = int(num_thresholds), curve
        self.summation_method, self.multi_label = summation_method, bool(multi_label)
        self.from_logits = bool(from_logits)
        super().__init__(name)

    def reset_state(self) -> None:
        # Histograms (labels, thresholds) of positive and negative weight per bucket; the
        # label axis is made on the first update, when the number of columns is known.
        self.positives = self.negatives = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add the batch to the histograms (``sample_weight``: one weight per sample)."""
        y_true, y_pred, weight = _prepare_binary(y_true, y_pred, sample_weight, None)
        if self.from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid without overflow
        # NaN predictions (a diverged model) go to the lowest bucket instead of breaking
        # the bincount; the NaN loss already reports the problem.
        y_pred = np.clip(np.nan_to_num(y_pred, nan=0.0), 0.0, 1.0)
        t = self.num_thresholds
        bucket = np.maximum(np.ceil(y_pred * (t - 1)) - 1, 0).astype(np.int64)
        labels = y_pred.shape[-1] if self.multi_label and y_pred.ndim > 1 else 1
        bucket = bucket.reshape(-1, labels) + t * np.arange(labels)
        y_true, weight = y_true.reshape(-1, labels), weight.reshape(-1, labels)
        size = t * labels
        pos = np.bincount(bucket.ravel(), (y_true * weight).ravel(), size).reshape(labels, t)
        neg = np.bincount(bucket.ravel(), ((1 - y_true) * weight).ravel(), size)
        neg = neg.reshape(labels, t)
        if self.positives is None:
            self.positives, self.negatives = pos, neg
        elif self.positives.shape != pos.shape:
            raise ValueError(
                f"AUC(multi_label=True) saw {self.positives.shape[0]} labels before and "
                f"{labels} now"
            )
        else:
            self.positives, self.negatives = self.positives + pos, self.negatives + neg

    def result(self) -> float:
        if self.positives is None:
            return 0.0
        # tp[i]: positive weight with prediction above threshold i (buckets i and up).
        tp = np.cumsum(self.positives[:, ::-1], axis=1)[:, ::-1]
        fp = np.cumsum(self.negatives[:, ::-1], axis=1)[:, ::-1]
        fn = self.positives.sum(axis=1, keepdims=True) - tp
        tn = self.negatives.sum(axis=1, keepdims=True) - fp
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = _interpolated_pr_auc(tp, fp, fn)
        else:
            recall = divide(tp, tp + fn)
            x, y = (
                (divide(fp, fp + tn), recall)
                if self.curve == "ROC"
                else (recall, divide(tp, tp + fp))
            )
            areas = _riemann(x, y, self.summation_method)
        return float(np.mean(areas))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "from_logits": self.from_logits,
        }


def _riemann(x, y, method: str) -> np.ndarray:
    """Area under y(x) per row, x decreasing along the row (thresholds increase)."""
    if method == "interpolation":
        heights = (y[:, :-1] + y[:, 1:]) / 2
    elif method == "minoring":
        heights = np.minimum(y[:, :-1], y[:, 1:])
    else:
        heights = np.maximum(y[:, :-1], y[:, 1:])
    return np.sum((x[:, :-1] - x[:, 1:]) * heights, axis=1)


def _interpolated_pr_auc(tp, fp, fn) -> np.ndarray:
    """PR area with precision interpolated between thresholds as Davis & Goadrich (2006) show:
    between two thresholds tp grows linearly in the number of positive predictions p, so
    precision is ``slope + intercept / p`` and its integral over recall has a log term."""
    p = tp + fp
    dtp = tp[:, :-1] - tp[:, 1:]
    dp = p[:, :-1] - p[:, 1:]
    slope = divide(dtp, np.maximum(dp, 0))
    intercept = tp[:, 1:] - slope * p[:, 1:]
    both = (p[:, :-1] > 0) & (p[:, 1:] > 0)
    ratio = np.where(both, divide(p[:, :-1], np.maximum(p[:, 1:], 0)), 1.0)
    increments = divide(
        slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[:, 1:] + fn[:, 1:], 0)
    )
    return increments.sum(axis=1)
