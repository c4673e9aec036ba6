"""Time series for forecasting: sliding windows, chronological splits, a scaler fitted on the
training period only, windows relative to their last value, the seed's synthetic series and
the airline passengers. Baselines, forecasts and their errors are in ``forecasting``.

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

__all__ = [
    "AIRLINE_PASSENGERS",
    "SeriesScaler",
    "airline_passengers",
    "chronological_split",
    "make_windows",
    "relative_to_last",
    "synthetic_seed_series",
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
