"""nnlab.data.timeseries: windows, chronological splits, the train-only scaler, the data sets,
baselines, multi-step forecasts and time-step importance, each checked on values."""

import numpy as np
import pytest

from nnlab.data import forecasting as fc
from nnlab.data import timeseries as ts

# ---- windows ----------------------------------------------------------------------------------


def test_make_windows_values_on_arange():
    X, Y = ts.make_windows(np.arange(10.0), lookback=3, horizon=2)
    assert X.shape == (6, 3, 1) and Y.shape == (6, 2)
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(Y[0], [3, 4])
    np.testing.assert_array_equal(X[-1, :, 0], [5, 6, 7])
    np.testing.assert_array_equal(Y[-1], [8, 9])
    # every window: inputs then targets are consecutive values
    np.testing.assert_array_equal(
        np.concatenate([X[:, :, 0], Y], axis=1) - X[:, :1, 0], [[0, 1, 2, 3, 4]] * 6
    )


def test_make_windows_stride_and_target_column():
    series = np.stack([np.arange(10.0), 100 + np.arange(10.0)], axis=1)
    X, Y = ts.make_windows(series, lookback=2, horizon=1, stride=3, target=1)
    assert X.shape == (3, 2, 2)  # starts 0, 3, 6 (the last target at 8)
    np.testing.assert_array_equal(X[:, 0, 0], [0, 3, 6])
    np.testing.assert_array_equal(X[1], [[3, 103], [4, 104]])
    np.testing.assert_array_equal(Y[:, 0], [102, 105, 108])


def test_make_windows_rejects_too_short_series():
    with pytest.raises(ValueError, match="no window of lookback 8"):
        ts.make_windows(np.arange(10.0), lookback=8, horizon=3)
    with pytest.raises(ValueError, match="target column 2"):
        ts.make_windows(np.zeros((10, 2)), 2, 1, target=2)


# ---- split and scaler -------------------------------------------------------------------------


def test_chronological_split_keeps_order_without_overlap():
    train, val, test = ts.chronological_split(100, train=0.7, val=0.15)
    np.testing.assert_array_equal(train, np.arange(70))
    np.testing.assert_array_equal(val, np.arange(70, 85))
    np.testing.assert_array_equal(test, np.arange(85, 100))
    everything = np.concatenate([train, val, test])
    np.testing.assert_array_equal(everything, np.arange(100))  # in order, no overlap, no loss


def test_chronological_split_counts_and_gap():
    train, val, test = ts.chronological_split(50, train=20, val=10, gap=4)
    np.testing.assert_array_equal(train, np.arange(20))
    np.testing.assert_array_equal(val, np.arange(24, 34))
    np.testing.assert_array_equal(test, np.arange(38, 50))
    assert train.max() < val.min() - 4 + 1 and val.max() < test.min() - 4 + 1
    with pytest.raises(ValueError, match="non-empty test"):
        ts.chronological_split(10, train=0.9, val=0.1)


def test_windows_split_with_gap_share_no_target_step():
    horizon = 4
    X, Y = ts.make_windows(np.arange(60.0), lookback=5, horizon=horizon)
    parts = ts.chronological_split(len(X), 0.6, 0.2, gap=horizon - 1)
    targets = [set(Y[p].ravel()) for p in parts]
    assert not targets[0] & targets[1] and not targets[1] & targets[2]


def test_series_scaler_fits_on_train_only_and_round_trips():
    series = np.concatenate([np.linspace(0, 10, 80), np.linspace(10, 30, 20)])
    scaler = ts.SeriesScaler("minmax").fit(series[:80])
    scaled = scaler.transform(series)
    assert scaled[:80].min() == 0.0 and scaled[:80].max() == pytest.approx(1.0)
    assert scaled[-1] == pytest.approx(3.0)  # the test period is not squeezed into [0, 1]
    np.testing.assert_allclose(scaler.inverse_transform(scaled), series)
    # any shape of target values: a (N, horizon) forecast
    np.testing.assert_allclose(
        scaler.inverse_transform(scaled[:12].reshape(3, 4)), series[:12].reshape(3, 4)
    )


def test_series_scaler_standard_multivariate_inverts_the_target_column():
    rng = np.random.default_rng(0)
    series = rng.normal([5.0, -3.0], [2.0, 0.5], size=(200, 2))
    scaler = ts.SeriesScaler("standard", target=1).fit(series[:150])
    scaled = scaler.transform(series)
    np.testing.assert_allclose(scaled[:150].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled[:150].std(axis=0), 1)
    np.testing.assert_allclose(scaler.inverse_transform(scaled[:, 1]), series[:, 1])
    with pytest.raises(RuntimeError, match="not fitted"):
        ts.SeriesScaler().transform(series)


# ---- data -------------------------------------------------------------------------------------


def test_airline_passengers_integrity():
    y = ts.airline_passengers()
    assert y.shape == (144,) and y.dtype == np.float64
    assert y.sum() == 40363
    np.testing.assert_array_equal(y[:6], [112, 118, 132, 129, 121, 135])
    np.testing.assert_array_equal(y[-3:], [461, 390, 432])
    assert y.min() == 104 and y.max() == 622  # November 1949, July 1960
    assert y.argmax() == 138


def test_synthetic_seed_series_is_reproducible_and_matches_the_formula():
    a, b = ts.synthetic_seed_series(1000, seed=0), ts.synthetic_seed_series(1000, seed=0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, ts.synthetic_seed_series(1000, seed=1))
    t = np.arange(1000)
    clean = (
        100 + 0.02 * t + 10 * np.sin(2 * np.pi * t / 365.25) + 5 * np.sin(2 * np.pi * t / 30.4)
        + 3 * np.sin(2 * np.pi * t / 7)
    )  # fmt: skip
    noise = a - clean
    assert abs(noise.mean()) < 0.2 and noise.std() == pytest.approx(2.0, abs=0.1)
    # the seed's own code after np.random.seed(0): the legacy generator's draw
    np.testing.assert_allclose(noise, np.random.RandomState(0).normal(0, 2, 1000), atol=1e-12)


# ---- baselines and metrics --------------------------------------------------------------------


def test_naive_and_seasonal_naive_on_a_hand_series():
    X = np.array([[1.0, 2, 3, 4, 5, 6]])  # one window, lookback 6
    np.testing.assert_array_equal(fc.naive_forecast(X, 3), [[6, 6, 6]])
    np.testing.assert_array_equal(fc.seasonal_naive_forecast(X, 5, period=3), [[4, 5, 6, 4, 5]])
    np.testing.assert_array_equal(fc.seasonal_naive_forecast(X[:, :, None], 2, period=6), [[1, 2]])
    with pytest.raises(ValueError, match="period 7"):
        fc.seasonal_naive_forecast(X, 2, period=7)


def test_seasonal_naive_is_exact_on_a_periodic_series():
    series = np.tile([3.0, 1.0, 4.0, 1.0, 5.0], 8)
    X, Y = ts.make_windows(series, lookback=10, horizon=7)
    np.testing.assert_array_equal(fc.seasonal_naive_forecast(X, 7, period=5), Y)
    assert fc.forecast_errors(Y, fc.naive_forecast(X, 7))["rmse"] > 1


def test_forecast_errors_and_horizon_rmse():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[2.0, 2.0], [3.0, 0.0]])
    errors = fc.forecast_errors(y, p)
    assert errors["mae"] == pytest.approx(5 / 4)
    assert errors["rmse"] == pytest.approx(np.sqrt(17 / 4))
    np.testing.assert_allclose(fc.horizon_rmse(y, p), [np.sqrt(1 / 2), np.sqrt(16 / 2)])


# ---- model forecasts --------------------------------------------------------------------------


class NextIsSumOfLastTwo:
    """A one-step 'model': x_{t+1} = x_t + x_{t-1} (Fibonacci), on (N, lookback, 1)."""

    def predict(self, X):
        X = np.asarray(X)
        return (X[:, -1, 0] + X[:, -2, 0])[:, None]


def test_recursive_forecast_feeds_its_own_predictions():
    out = fc.recursive_forecast(NextIsSumOfLastTwo(), np.array([0.0, 1.0, 1.0]), steps=5)
    np.testing.assert_array_equal(out, [2, 3, 5, 8, 13])
    batch = fc.recursive_forecast(NextIsSumOfLastTwo(), np.array([[1.0, 1.0], [2.0, 5.0]]), 3)
    np.testing.assert_array_equal(batch, [[2, 3, 5], [7, 12, 19]])
    with pytest.raises(ValueError, match="univariate"):
        fc.recursive_forecast(NextIsSumOfLastTwo(), np.zeros((2, 3, 2)), 1)


def test_direct_forecast_and_relative_forecaster():
    def twice_the_last(X):  # a 'model' of relative windows: forecasts 2 steps
        return np.repeat(X[:, -2:-1, 0], 2, axis=1)

    X = np.array([[[1.0], [3.0], [4.0]], [[0.0], [10.0], [20.0]]])
    X_rel, _, anchor = ts.relative_to_last(X)
    np.testing.assert_array_equal(X_rel[:, :, 0], [[-3, -1, 0], [-20, -10, 0]])
    np.testing.assert_array_equal(anchor, [4, 20])
    np.testing.assert_array_equal(fc.direct_forecast(twice_the_last, X), [[3, 3], [10, 10]])
    # relative model: last-but-one minus last, added back to the last value
    out = fc.RelativeForecaster(twice_the_last).predict(X)
    np.testing.assert_array_equal(out, [[3, 3], [10, 10]])


def test_timestep_importance_finds_the_one_step_that_matters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8, 1))

    def uses_step_5(X):
        return 3.0 * np.asarray(X)[:, 5, :]

    y = uses_step_5(X)
    for method in ("permute", "noise", "mean"):
        imp = fc.timestep_importance(uses_step_5, X, y, method=method, n_repeats=2, rng=1)
        assert imp.shape == (8,)
        assert np.argmax(imp) == 5 and imp[5] > 1.0, method
        np.testing.assert_array_equal(np.delete(imp, 5), 0.0)  # the others change nothing
    # the seed's score (no targets): mean |prediction change| when step 5 becomes the mean
    seed_score = fc.timestep_importance(uses_step_5, X, method="mean")
    expected = np.mean(np.abs(3.0 * (X[:, 5] - X.mean(axis=1))))
    assert seed_score[5] == pytest.approx(expected)


def test_timestep_importance_transform_reports_original_units():
    X = np.random.default_rng(2).normal(size=(50, 4, 1))

    def last_step(X):
        return np.asarray(X)[:, -1, :]

    y = last_step(X)
    scaled = fc.timestep_importance(last_step, X, y, method="permute", rng=0)
    tenfold = fc.timestep_importance(
        last_step, X, y, method="permute", rng=0, transform=lambda v: 10 * v
    )
    np.testing.assert_allclose(tenfold, 10 * scaled)
