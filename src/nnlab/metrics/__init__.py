"""Keras-style streaming metrics: accumulate over batches with ``update_state``, read with
``result``, start again with ``reset_state``.

Every metric keeps float64 sums, so the result over a stream of batches equals the result
over one batch holding them all. ``get`` resolves the names ``compile(metrics=[...])`` takes;
'accuracy' picks the binary, categorical or sparse form from the loss, as Keras does.

Predictions may be nnlab Tensors or arrays; targets are arrays. Integer class labels are
accepted wherever one-hot targets are.
"""

from nnlab.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from nnlab.metrics.base import Mean, MeanMetricWrapper, Metric
from nnlab.metrics.confusion import AUC, Precision, Recall
from nnlab.metrics.f1 import F1Score
from nnlab.metrics.lookup import get
from nnlab.metrics.regression import (
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_squared_error,
)

__all__ = [
    "AUC",
    "F1Score",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "Mean",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "Precision",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "sparse_categorical_accuracy",
]
