"""The classification report: accuracy, precision, recall, F1, confusion matrix, confidence
analysis and prediction throughput, in one call (``evaluate_classifier``).

scikit-learn computes the metrics; it is imported inside ``evaluate_classifier`` so that
``import nnlab.evaluation`` stays fast.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from nnlab.evaluation.confidence import ConfidenceAnalysis, confidence_buckets, confidence_text
from nnlab.evaluation.outputs import as_labels, predict_outputs, split_outputs


@dataclass(frozen=True, eq=False)
class ClassificationReport:
    """Everything ``evaluate_classifier`` measures. ``str(report)`` is ``report.summary()``.

    Per-class arrays (``precision``, ``recall``, ``f1``, ``support``) are indexed by class.
    ``probabilities``, ``confidences`` and ``confidence`` are None when the model gave labels.
    """

    accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    class_names: tuple[str, ...]
    confusion_matrix: np.ndarray
    classification_report: str = field(repr=False)
    confidence: ConfidenceAnalysis | None
    y_true: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)
    probabilities: np.ndarray | None = field(repr=False)
    confidences: np.ndarray | None = field(repr=False)
    prediction_seconds: float
    samples_per_second: float

    def per_class(self) -> dict[str, dict[str, float]]:
        """Class name -> {'precision', 'recall', 'f1', 'support'}."""
        return {
            name: {
                "precision": float(self.precision[i]),
                "recall": float(self.recall[i]),
                "f1": float(self.f1[i]),
                "support": int(self.support[i]),
            }
            for i, name in enumerate(self.class_names)
        }

    def summary(self) -> str:
        """A readable multi-line report: overall metrics, per-class table, confusion matrix,
        confidence analysis and throughput."""
        parts = [
            f"Classification report: {len(self.y_true)} samples, {len(self.class_names)} classes",
            f"Accuracy: {self.accuracy:.4f}   F1 macro: {self.f1_macro:.4f}   "
            f"F1 weighted: {self.f1_weighted:.4f}",
            "",
            "Per class (scikit-learn classification_report):",
            self.classification_report.rstrip(),
            "",
            _matrix_text(self.confusion_matrix, self.class_names),
        ]
        if self.confidence is not None:
            parts += ["", confidence_text(self.confidence)]
        parts += [
            "",
            f"Throughput: {self.samples_per_second:,.0f} samples/s "
            f"({len(self.y_true)} samples in {self.prediction_seconds:.4f} s)",
        ]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()


def _matrix_text(cm: np.ndarray, names) -> str:
    """The confusion matrix as a table, rows true labels and columns predictions."""
    width = max(max(len(n) for n in names), len(str(cm.max()))) + 1
    header = " " * width + "".join(f"{n:>{width}}" for n in names)
    rows = [
        f"{n:>{width}}" + "".join(f"{v:>{width}}" for v in row)
        for n, row in zip(names, cm, strict=True)
    ]
    return "\n".join(["Confusion matrix (rows: true, columns: predicted):", header, *rows])


def evaluate_classifier(
    model, X, y, class_names=None, batch_size: int = 256, high: float = 0.8, low: float = 0.5
) -> ClassificationReport:
    """Evaluate a classifier the way the seeds do, in one call.

    Args:
        model: an object with ``predict_proba(X)`` or ``predict(X)``, or a callable ``f(X)``,
            returning (N, C) probabilities, (N,)/(N, 1) positive-class probabilities, or labels.
        X: inputs, first axis the samples.
        y: (N,) integer labels or (N, C) one-hot rows.
        class_names: optional names of the classes, in label order.
        batch_size: samples per prediction call.
        high, low: confidence bucket edges (see ``confidence_buckets``).

    Returns:
        A ClassificationReport. Throughput (``samples_per_second``) is wall-clock time of the
        prediction calls, measured with ``time.perf_counter``: a report, not a benchmark.
    """
    from sklearn import metrics

    n = len(np.asarray(X))
    y_true = as_labels(y, n)
    start = time.perf_counter()
    outputs = predict_outputs(model, X, batch_size)
    seconds = time.perf_counter() - start
    if len(outputs) != n:
        raise ValueError(f"model returned {len(outputs)} predictions for {n} samples")
    probabilities, y_pred = split_outputs(outputs)
    names = _class_names(class_names, probabilities, y_true, y_pred)
    labels = np.arange(len(names))
    average = _averages(metrics, y_true, y_pred, labels)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    analysis = (
        None if probabilities is None else confidence_buckets(probabilities, y_true, high, low)
    )
    return ClassificationReport(
        accuracy=float(metrics.accuracy_score(y_true, y_pred)),
        **average,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        class_names=names,
        confusion_matrix=metrics.confusion_matrix(y_true, y_pred, labels=labels),
        classification_report=metrics.classification_report(
            y_true, y_pred, labels=labels, target_names=list(names), digits=4, zero_division=0
        ),
        confidence=analysis,
        y_true=y_true,
        y_pred=y_pred,
        probabilities=probabilities,
        confidences=None if probabilities is None else probabilities.max(axis=1),
        prediction_seconds=seconds,
        samples_per_second=n / seconds if seconds > 0 else math.inf,
    )


def _class_names(class_names, probabilities, y_true, y_pred) -> tuple[str, ...]:
    """Names for classes 0..C-1, C from the probability columns (else the largest label)."""
    if probabilities is not None:
        n_classes = probabilities.shape[1]
        if y_true.max() >= n_classes:
            raise ValueError(
                f"y has label {y_true.max()} but the model gives probabilities for only "
                f"{n_classes} classes (labels 0..{n_classes - 1})"
            )
    else:
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    if class_names is None:
        return tuple(str(i) for i in range(n_classes))
    # with labels only, a class nobody predicted or held is legitimately missing from the count
    too_few = len(class_names) < n_classes
    if too_few or (probabilities is not None and len(class_names) != n_classes):
        raise ValueError(f"got {len(class_names)} class_names for {n_classes} classes")
    return tuple(str(name) for name in class_names)


def _averages(metrics, y_true, y_pred, labels) -> dict[str, float]:
    out = {}
    for average in ("macro", "weighted"):
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        out.update({f"precision_{average}": p, f"recall_{average}": r, f"f1_{average}": f})
    return {k: float(v) for k, v in out.items()}
