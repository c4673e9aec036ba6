"""Accuracy metrics: per-sample functions and their streaming classes."""

import numpy as np

from nnlab.metrics.base import MeanMetricWrapper, as_array, per_sample, same_rank

# ---- per-sample functions -------------------------------------------------------------------


def binary_accuracy(y_true, y_pred, threshold=0.5) -> np.ndarray:
    """Per-sample fraction of entries where ``y_pred > threshold`` equals ``y_true``."""
    y_true, y_pred = same_rank(as_array(y_true), as_array(y_pred))
    return per_sample(y_true == (y_pred > threshold).astype(y_true.dtype))


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the largest prediction is at the one-hot target's class (integer labels
    work too)."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == y_pred.shape[-1]:
        y_true = np.argmax(y_true, axis=-1)
    return sparse_categorical_accuracy(y_true, y_pred)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the largest prediction is at the integer label ``y_true``."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    labels = y_true.reshape(y_pred.shape[:-1])
    return per_sample(np.argmax(y_pred, axis=-1) == labels)


def accuracy(y_true, y_pred) -> np.ndarray:
    """Per-sample fraction of entries where the prediction equals the target exactly."""
    y_true, y_pred = same_rank(as_array(y_true), as_array(y_pred))
    return per_sample(y_true == y_pred)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 target, entry by entry.

    Args:
        threshold: probability above which a prediction counts as 1.
        name: the log name.
    """

    def __init__(self, threshold=0.5, name="binary_accuracy"):
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction is the one-hot target's class."""

    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name)


class Accuracy(MeanMetricWrapper):
    """How often the prediction equals the target exactly (for already-decided labels)."""

    def __init__(self, name="accuracy"):
        super().__init__(accuracy, name)
