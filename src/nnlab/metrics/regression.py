"""Regression metrics: MAE, MSE, RMSE."""

import math

import numpy as np

from nnlab.metrics.base import MeanMetricWrapper, as_array, per_sample, same_rank


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean of ``|y_true - y_pred|``."""
    y_true, y_pred = same_rank(as_array(y_true), as_array(y_pred))
    return per_sample(np.abs(y_true.astype(np.float64) - y_pred))


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean of ``(y_true - y_pred)**2``."""
    y_true, y_pred = same_rank(as_array(y_true), as_array(y_pred))
    return per_sample(np.square(y_true.astype(np.float64) - y_pred))


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name)


class RootMeanSquaredError(MeanMetricWrapper):
    """``sqrt`` of the (weighted) mean squared error over everything seen."""

    def __init__(self, name="root_mean_squared_error"):
        super().__init__(mean_squared_error, name)

    def result(self) -> float:
        return math.sqrt(super().result())
