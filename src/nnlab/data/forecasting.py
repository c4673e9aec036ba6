"""Forecasting with time-series windows: the classic baselines (naive, seasonal naive), error
metrics in the series' units, direct and recursive multi-step forecasts of a trained model,
a forecaster for models trained on windows relative to their last value, and time-step
importance by perturbation. Windows come from ``nnlab.data.timeseries``.
"""

import numpy as np

from nnlab.data.timeseries import relative_to_last
from nnlab.evaluation.outputs import predict_outputs

__all__ = [
    "RelativeForecaster",
    "direct_forecast",
    "forecast_errors",
    "horizon_rmse",
    "naive_forecast",
    "recursive_forecast",
    "seasonal_naive_forecast",
    "timestep_importance",
]


class RelativeForecaster:
    """A model trained on ``relative_to_last`` windows, used as a forecaster of plain windows:
    ``predict(X) = model(X - X[:, -1]) + X[:, -1, target]``.

    Args:
        model: ``predict(X)`` or a callable, trained on relative windows.
        target: the forecast column.
    """

    def __init__(self, model, target: int = 0):
        self.model, self.target = model, target

    def predict(self, X, batch_size: int = 256) -> np.ndarray:
        X_rel, _, anchor = relative_to_last(X, target=self.target)
        return direct_forecast(self.model, X_rel, batch_size) + anchor[:, None]


# ---- baselines and metrics ----------------------------------------------------------------


def _target_history(X, target: int) -> np.ndarray:
    """(N, lookback) of the target column from windows (N, lookback) or (N, lookback, F)."""
    X = np.asarray(X)
    if X.ndim == 3:
        return X[:, :, target]
    if X.ndim != 2:
        raise ValueError(f"windows must be (N, lookback) or (N, lookback, F), got {X.shape}")
    return X


def naive_forecast(X, horizon: int, target: int = 0) -> np.ndarray:
    """The last observed value of each window, repeated ``horizon`` times.

    Shape: X (N, lookback[, F]) -> (N, horizon).
    """
    history = _target_history(X, target)
    return np.repeat(history[:, -1:], horizon, axis=1)


def seasonal_naive_forecast(X, horizon: int, period: int, target: int = 0) -> np.ndarray:
    """The value one season earlier: ``y_hat[t + h] = y[t + h - k * period]`` with the
    smallest ``k >= 1`` that reaches back into the window (the last season repeats).

    Shape: X (N, lookback[, F]) with lookback >= period -> (N, horizon).
    """
    history = _target_history(X, target)
    if not 1 <= period <= history.shape[1]:
        raise ValueError(
            f"seasonal period {period} needs windows at least that long, got lookback "
            f"{history.shape[1]}"
        )
    steps = np.arange(horizon)
    return history[:, history.shape[1] - period + steps % period]


def forecast_errors(y_true, y_pred) -> dict[str, float]:
    """MAE and RMSE over every window and step, in the units given (pass original units)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    err = y_pred - y_true
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2)))}


def horizon_rmse(y_true, y_pred) -> np.ndarray:
    """RMSE of each forecast step over the windows: (N, horizon) -> (horizon,)."""
    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    return np.sqrt(np.mean(err**2, axis=0))


# ---- model forecasts ------------------------------------------------------------------------


def _predict(model, X, batch_size: int = 256) -> np.ndarray:
    return np.asarray(predict_outputs(model, X, batch_size, prefer="predict"))


def direct_forecast(model, X, batch_size: int = 256) -> np.ndarray:
    """Direct multi-step forecast: the model maps each window to all horizon steps at once.

    Shape: X (N, lookback, F) -> (N, horizon); a (N,) output becomes (N, 1).
    """
    out = _predict(model, X, batch_size)
    return out.reshape(len(out), -1)


def recursive_forecast(model, history, steps: int, batch_size: int = 256) -> np.ndarray:
    """Recursive multi-step forecast of a one-step model fed its own predictions: predict the
    next value from the last ``lookback`` values, append it, slide the window, repeat.

    Only the first output of the model is used, so a multi-output model works as a one-step
    one. Univariate only: the other features of a multivariate series are not forecast.

    Args:
        model: ``predict(X)`` or a callable, X (N, lookback, 1) -> (N, >= 1).
        history: the window(s), in the scale the model was trained on: (lookback,) for one
            series, (N, lookback) or (N, lookback, 1) for N at once.
        steps: how many future values.

    Returns: (steps,) for one history, else (N, steps).
    """
    h = np.asarray(history, dtype=np.float64)
    single = h.ndim == 1
    if single:
        h = h[None, :, None]
    elif h.ndim == 2:
        h = h[:, :, None]
    if h.ndim != 3 or h.shape[2] != 1:
        raise ValueError(
            f"recursive_forecast feeds predictions back as inputs, so it needs a univariate "
            f"history (lookback,), (N, lookback) or (N, lookback, 1); got {np.shape(history)}"
        )
    window, out = h.copy(), np.empty((len(h), steps))
    for step in range(steps):
        pred = _predict(model, window, batch_size).reshape(len(h), -1)[:, 0]
        out[:, step] = pred
        window = np.concatenate([window[:, 1:], pred[:, None, None]], axis=1)
    return out[0] if single else out


def timestep_importance(
    model,
    X,
    y=None,
    method: str = "permute",
    n_repeats: int = 1,
    noise_scale: float = 1.0,
    rng=None,
    transform=None,
    batch_size: int = 256,
) -> np.ndarray:
    """How much each input time step matters: perturb one step of every window at a time and
    measure how much worse the forecast gets.

    The seed (``analyze_lstm_importance``) replaced step ``t`` of one window with the window's
    mean and scored the mean absolute change of the prediction; ``method='mean'`` with
    ``y=None`` is exactly that, over many windows.

    Args:
        model: ``predict(X)`` or a callable.
        X: (N, lookback, F) windows.
        y: (N, horizon) targets. Given: importance = RMSE(perturbed) - RMSE(original), the
            error increase. None: mean |prediction change| (the seed's score).
        method: 'permute' (step t's values shuffled across windows), 'mean' (replaced by each
            window's own mean over time) or 'noise' (Gaussian noise of sd ``noise_scale``
            times the step's standard deviation over windows added).
        n_repeats: perturbations averaged per step (for 'permute' and 'noise').
        rng: Generator or seed for 'permute' and 'noise'.
        transform: applied to predictions and ``y`` before scoring, e.g. a scaler's
            ``inverse_transform`` for errors in original units.

    Returns: (lookback,) importances; index ``lookback - 1`` is the most recent step.
    """
    if method not in ("permute", "mean", "noise"):
        raise ValueError(f"method must be 'permute', 'mean' or 'noise', got {method!r}")
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be (N, lookback, F) windows, got shape {X.shape}")
    rng = np.random.default_rng(rng)
    undo = transform if transform is not None else (lambda v: v)
    base = undo(direct_forecast(model, X, batch_size))
    truth = None if y is None else undo(np.asarray(y).reshape(base.shape))

    def score(pred):
        if truth is None:
            return float(np.mean(np.abs(pred - base)))
        return forecast_errors(truth, pred)["rmse"] - forecast_errors(truth, base)["rmse"]

    repeats = 1 if method == "mean" else int(n_repeats)
    window_mean = X.mean(axis=1)
    importances = np.zeros(X.shape[1])
    for t in range(X.shape[1]):
        for _ in range(repeats):
            perturbed = X.copy()
            if method == "permute":
                perturbed[:, t] = X[rng.permutation(len(X)), t]
            elif method == "mean":
                perturbed[:, t] = window_mean
            else:
                sd = X[:, t].std(axis=0)
                perturbed[:, t] = X[:, t] + noise_scale * sd * rng.standard_normal(X[:, t].shape)
            importances[t] += score(undo(direct_forecast(model, perturbed, batch_size)))
    return importances / repeats
