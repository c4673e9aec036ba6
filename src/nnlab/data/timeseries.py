"""Time series for forecasting: sliding windows, chronological splits, a scaler fitted on the
training period only, the seed's synthetic series and the airline passengers, the classic
baselines, multi-step forecasts (direct and recursive) and time-step importance.

Conventions: a series is (T,) or (T, F) with time on the first axis; windows are batch-first
``X`` (N, lookback, F) and targets ``Y`` (N, horizon) of one target column. Everything that
reports an error does so in the series' original units.

Seed 001's forecaster scaled the whole series before splitting it and validated on its test
windows. Here the split comes first (``chronological_split``, with a gap so that no target
day belongs to two parts), the scaler is fitted on the training period alone
(``SeriesScaler``), and model choices are made on a validation period that lies before the
test period.
"""

import math

import numpy as np

from nnlab.evaluation.outputs import predict_outputs

__all__ = [
    "AIRLINE_PASSENGERS",
    "RelativeForecaster",
    "SeriesScaler",
    "airline_passengers",
    "chronological_split",
    "direct_forecast",
    "forecast_errors",
    "horizon_rmse",
    "make_windows",
    "naive_forecast",
    "recursive_forecast",
    "relative_to_last",
    "seasonal_naive_forecast",
    "synthetic_seed_series",
    "timestep_importance",
]

# ---- data -------------------------------------------------------------------------------------

# Monthly totals of international airline passengers (thousands), January 1949 to December
# 1960: Box, G. E. P. and Jenkins, G. M. (1976), "Time Series Analysis, Forecasting and
# Control", Holden-Day, Series G (R's `datasets::AirPassengers`). Public domain. One row a year.
AIRLINE_PASSENGERS = (
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,  # 1949
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,  # 1950
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,  # 1951
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,  # 1952
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,  # 1953
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,  # 1954
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,  # 1955
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,  # 1956
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,  # 1957
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,  # 1958
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,  # 1959
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,  # 1960
)  # fmt: skip


def airline_passengers() -> np.ndarray:
    """The 144 monthly airline passenger totals (thousands), 1949-01 to 1960-12, float64.

    Box & Jenkins Series G: strong trend and a multiplicative yearly season (period 12), so it
    is usually modelled on the log scale.
    """
    return np.array(AIRLINE_PASSENGERS, dtype=np.float64)


def synthetic_seed_series(n_days: int = 1000, seed: int = 0) -> np.ndarray:
    """Seed 001's synthetic daily series: level 100, trend 0.02 a day, yearly (amplitude 10,
    period 365.25 days), monthly (5, 30.4) and weekly (3, 7) sines, and Gaussian noise (sd 2)::

        y_t = 100 + 0.02 t + 10 sin(2 pi t / 365.25) + 5 sin(2 pi t / 30.4)
              + 3 sin(2 pi t / 7) + e_t,   e_t ~ N(0, 2^2),   t = 0, 1, ..., n_days - 1

    The seed drew the noise from NumPy's global legacy generator without seeding it; this draws
    it from ``np.random.RandomState(seed)``, so ``np.random.seed(seed)`` followed by the seed's
    code gives exactly this series, without touching the global generator.

    Returns: (n_days,) float64.
    """
    t = np.arange(n_days, dtype=np.float64)
    trend = 0.02 * t
    yearly = 10 * np.sin(2 * np.pi * t / 365.25)
    monthly = 5 * np.sin(2 * np.pi * t / 30.4)
    weekly = 3 * np.sin(2 * np.pi * t / 7)
    noise = np.random.RandomState(seed).normal(0, 2, n_days)
    return 100 + trend + yearly + monthly + weekly + noise


# ---- windows and splits -----------------------------------------------------------------------


def _as_2d(series) -> np.ndarray:
    series = np.asarray(series)
    if series.ndim == 1:
        return series[:, None]
    if series.ndim != 2:
        raise ValueError(f"a series must be (T,) or (T, features), got shape {series.shape}")
    return series


def make_windows(series, lookback: int, horizon: int, stride: int = 1, target: int = 0):
    """Sliding windows of a series: each ``lookback`` steps of input and the next ``horizon``
    values of the target column.

    Window ``i`` starts at ``s = i * stride``: ``X[i] = series[s : s + lookback]`` and
    ``Y[i] = series[s + lookback : s + lookback + horizon, target]``.

    Args:
        series: (T,) or (T, F), time first.
        lookback: input steps per window.
        horizon: target steps per window (0 gives windows without targets, ``Y`` (N, 0)).
        stride: steps between consecutive windows.
        target: the column forecast (default the first).

    Shape:
        X (N, lookback, F), Y (N, horizon), N = (T - lookback - horizon) // stride + 1.
    """
    data = _as_2d(series)
    if lookback < 1 or horizon < 0 or stride < 1:
        raise ValueError(
            f"make_windows needs lookback >= 1, horizon >= 0 and stride >= 1, got lookback="
            f"{lookback}, horizon={horizon}, stride={stride}"
        )
    if not -data.shape[1] <= target < data.shape[1]:
        raise ValueError(
            f"target column {target} does not exist: the series has {data.shape[1]} columns"
        )
    n = (len(data) - lookback - horizon) // stride + 1
    if n < 1:
        raise ValueError(
            f"a series of {len(data)} steps has no window of lookback {lookback} + horizon "
            f"{horizon}"
        )
    starts = np.arange(n) * stride
    X = data[starts[:, None] + np.arange(lookback)]
    Y = data[starts[:, None] + lookback + np.arange(horizon), target]
    return X, Y.reshape(n, horizon)


def _count(part, n: int, name: str) -> int:
    if isinstance(part, float | np.floating):
        if not 0.0 <= part <= 1.0:
            raise ValueError(f"{name} fraction must be in [0, 1], got {part}")
        return int(math.floor(part * n))
    if int(part) != part or part < 0:
        raise ValueError(f"{name} must be a fraction or a count >= 0, got {part!r}")
    return int(part)


def chronological_split(n: int, train=0.7, val=0.15, gap: int = 0):
    """Indices of ``n`` time-ordered items (steps or windows) cut into train, validation and
    test parts in time order: earliest for training, latest for testing. Nothing is shuffled.

    Args:
        n: number of items.
        train, val: each a fraction of ``n`` (float, rounded down) or a count (int); the test
            part is what remains.
        gap: items dropped between train and validation and between validation and test.
            With overlapping windows, ``gap = horizon - 1`` keeps every target step in one
            part only (``horizon + lookback - 1`` also keeps the inputs apart).

    Returns:
        (train_idx, val_idx, test_idx), increasing int arrays; the test part is never empty.
    """
    n_train, n_val, gap = _count(train, n, "train"), _count(val, n, "val"), int(gap)
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    val_start = n_train + (gap if n_val else 0)
    test_start = val_start + n_val + gap
    if n_train < 1 or test_start >= n:
        raise ValueError(
            f"cannot split {n} items into train {n_train}, val {n_val} and a non-empty test "
            f"part with gap {gap}"
        )
    return (
        np.arange(0, n_train),
        np.arange(val_start, val_start + n_val),
        np.arange(test_start, n),
    )


class SeriesScaler:
    """Scale a series with statistics of its training period only, and map forecasts back.

    Wraps scikit-learn's ``MinMaxScaler`` (the seed's choice) or ``StandardScaler``, one
    column per feature. ``inverse_transform`` takes values of the target column in any shape
    (a forecast (N, horizon), one value, a whole column) and returns them in original units.

    Args:
        method: 'minmax' or 'standard'.
        feature_range: MinMaxScaler's output range.
        target: the column whose scale ``inverse_transform`` undoes.
    """

    def __init__(self, method: str = "minmax", feature_range=(0.0, 1.0), target: int = 0):
        if method not in ("minmax", "standard"):
            raise ValueError(f"SeriesScaler method must be 'minmax' or 'standard', got {method!r}")
        self.method, self.feature_range, self.target = method, tuple(feature_range), target
        self.scaler = None

    def fit(self, train_series) -> "SeriesScaler":
        """Learn the scale from ``train_series`` (T,) or (T, F): the training period alone."""
        from sklearn.preprocessing import MinMaxScaler, StandardScaler

        data = _as_2d(train_series).astype(np.float64)
        if self.method == "minmax":
            self.scaler = MinMaxScaler(feature_range=self.feature_range)
        else:
            self.scaler = StandardScaler()
        self.scaler.fit(data)
        return self

    def _check_fitted(self):
        if self.scaler is None:
            raise RuntimeError("SeriesScaler is not fitted: call fit(train_series) first")

    def transform(self, series) -> np.ndarray:
        """``series`` (T,) or (T, F) scaled, in the same shape, float64."""
        self._check_fitted()
        series = np.asarray(series, dtype=np.float64)
        return self.scaler.transform(_as_2d(series)).reshape(series.shape)

    def fit_transform(self, train_series) -> np.ndarray:
        return self.fit(train_series).transform(train_series)

    def inverse_transform(self, values) -> np.ndarray:
        """Scaled values of the target column, any shape, back in original units."""
        self._check_fitted()
        values = np.asarray(values, dtype=np.float64)
        full = np.zeros((values.size, self.scaler.n_features_in_))
        full[:, self.target] = values.reshape(-1)
        return self.scaler.inverse_transform(full)[:, self.target].reshape(values.shape)


def relative_to_last(X, Y=None, target: int = 0):
    """Windows measured from their last input value: ``X - X[:, -1]`` (every feature) and
    ``Y - X[:, -1, target]``.

    A network then learns the shape of the next steps rather than the level of the series, so
    a trend that carries the test period beyond the training range costs it nothing. Undo with
    ``prediction + anchor[:, None]``.

    Returns:
        (X_rel (N, lookback, F), Y_rel (N, horizon) or None, anchor (N,) the target's last value).
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be (N, lookback, F) windows, got shape {X.shape}")
    last = X[:, -1:, :]
    anchor = last[:, 0, target]
    Y_rel = None if Y is None else np.asarray(Y) - anchor[:, None]
    return X - last, Y_rel, anchor


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
