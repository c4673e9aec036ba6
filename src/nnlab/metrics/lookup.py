"""``get``: resolve a metric name (the accuracy kind chosen from the loss, as Keras does),
a Metric or a function."""

import numpy as np

from nnlab.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from nnlab.metrics.base import Mean, MeanMetricWrapper, Metric
from nnlab.metrics.confusion import AUC, Precision, Recall
from nnlab.metrics.f1 import F1Score
from nnlab.metrics.regression import MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError

# ---- resolving names ------------------------------------------------------------------------

_NAMES = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "precision": Precision,
    "recall": Recall,
    "auc": AUC,
    "f1": F1Score,
    "f1_score": F1Score,
}
_CLASSES = {
    cls.__name__: cls
    for cls in (
        Mean,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        MeanAbsoluteError,
        MeanSquaredError,
        RootMeanSquaredError,
        Precision,
        Recall,
        AUC,
        F1Score,
    )
}


def get(identifier, loss=None) -> Metric:
    """Resolve a metric for ``compile(metrics=[...])``.

    Args:
        identifier: a name ('accuracy'/'acc', 'binary_accuracy', 'mae', 'mse', 'rmse',
            'precision', 'recall', 'auc', ...; the name is kept as the log name), a class
            name ('AUC'), a Metric (returned as is), a Metric class, or a function
            ``fn(y_true, y_pred) -> per-sample values`` (logged under ``fn.__name__`` as the
            mean of its values).
        loss: the compiled loss (name, Loss or function). 'accuracy' becomes
            BinaryAccuracy for binary cross-entropy losses, CategoricalAccuracy for
            categorical and SparseCategoricalAccuracy for sparse categorical ones; for any
            other loss the kind is chosen on each batch from the shapes, as Keras 3 does (one
            output unit: binary; integer labels: sparse; else categorical).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        return _from_name(identifier, loss)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"cannot interpret {identifier!r} as a metric: expected a name, a Metric or a function "
        "fn(y_true, y_pred) -> per-sample values"
    )


def _from_name(name: str, loss) -> Metric:
    if name.lower() in ("accuracy", "acc"):
        kind = _loss_kind(loss)
        if kind is None:
            return MeanMetricWrapper(_accuracy_by_shape, name)
        return {
            "binary": BinaryAccuracy,
            "categorical": CategoricalAccuracy,
            "sparse": SparseCategoricalAccuracy,
        }[kind](name=name)
    if name.lower() in _NAMES:
        return _NAMES[name.lower()](name=name)
    if name in _CLASSES:
        return _CLASSES[name]()
    raise ValueError(
        f"unknown metric {name!r}; known metrics: accuracy, acc, {', '.join(sorted(_NAMES))} "
        f"(or a class name: {', '.join(sorted(_CLASSES))}), a Metric, or a function"
    )


def _loss_kind(loss) -> str | None:
    """'binary', 'categorical', 'sparse' or None (undecided) from the loss's name."""
    if loss is None:
        return None
    if not isinstance(loss, str):
        loss = (
            getattr(loss, "name", None) or getattr(loss, "__name__", None) or (type(loss).__name__)
        )
    key = "".join(ch for ch in loss.lower() if ch.isalnum())
    if key.startswith("sparsecategorical"):
        return "sparse"
    if "categorical" in key or key == "cce":
        return "categorical"
    if "binary" in key or key.startswith("bce"):
        return "binary"
    return None


def _accuracy_by_shape(y_true, y_pred) -> np.ndarray:
    """Keras 3's choice when the loss does not tell: binary for one output unit, sparse for
    integer labels (one axis fewer, or a trailing axis of 1), categorical otherwise."""
    if y_pred.ndim == 1 or y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.ndim == y_pred.ndim - 1 or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)
