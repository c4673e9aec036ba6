"""Regression metrics: MAE, MSE, RMSE and R^2 of a model's predictions.

scikit-learn computes the metrics; it is imported inside ``regression_metrics`` so that
``import nnlab.evaluation`` stays fast.
"""

import math

import numpy as np

from nnlab.evaluation.outputs import predict_outputs


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """Mean absolute error, mean squared error, its root, and R^2 (scikit-learn's).

    Args:
        y_true: (N,) or (N, K) targets.
        y_pred: predictions of the same shape; (N, 1) and (N,) are interchangeable.

    Returns:
        {'mae', 'mse', 'rmse', 'r2'}; with K outputs each is the uniform average over outputs,
        except rmse, which is sqrt(mse).
    """
    from sklearn import metrics

    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if (y_true.ndim == 2 and y_true.shape[1] == 1) or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        y_true, y_pred = _squeeze_column(y_true), _squeeze_column(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}: "
            f"expected one prediction per target"
        )
    mse = float(metrics.mean_squared_error(y_true, y_pred))
    return {
        "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": float(metrics.r2_score(y_true, y_pred)),
    }


def _squeeze_column(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a


def evaluate_regressor(model, X, y, batch_size: int = 256) -> dict[str, float]:
    """``regression_metrics`` of ``model.predict(X)`` (or ``model(X)``) against ``y``.

    Args:
        model: an object with ``predict(X)``, or a callable ``f(X)``.
        X: inputs, first axis the samples.
        y: targets, (N,) or (N, K).
        batch_size: samples per prediction call.
    """
    n, m = len(np.asarray(X)), len(np.asarray(y))
    if n != m:
        raise ValueError(f"X has {n} samples but y has {m}")
    return regression_metrics(y, predict_outputs(model, X, batch_size, prefer="predict"))
