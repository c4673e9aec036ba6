"""LSTM forecasts of the airline passengers (Box & Jenkins Series G: 144 monthly totals,
1949-1960), a year ahead from the last two years, against the naive and seasonal-naive
(12 months) baselines.

The series grows about 12% a year and its seasonal swing grows with it, so the network works
on the log scale (the swing becomes additive) with each window measured from its last month
(``relative_to_last``: the network forecasts growth and season, not the level, which in the
test years lies above anything seen in training). The log series is standardised with the
training years' statistics.

Periods, by the months forecast: training 1949-1956, validation 1957-1958 (early stopping),
test 1959-1960. A window belongs to a period when all its target months do, so the 61
training windows, 13 validation windows and 13 test windows (origins Dec 1958 to Dec 1959)
share no target month; inputs reach back into the period before, as they would in use.

Two ways to forecast 12 months, both a small LSTM(32):

- **direct**: the network outputs all 12 months at once (Dense(12));
- **recursive**: a one-step network (Dense(1)) fed its own forecasts 12 times
  (``recursive_forecast``), trained and early-stopped on one-step windows of the same periods.
"""

import time

import numpy as np

import nnlab
from nnlab import optim
from nnlab.data import forecasting as fc
from nnlab.data import timeseries as ts
from nnlab.experiments.common import mean_sd, one_blas_thread, output_dir, summary_row, table
from nnlab.layers import LSTM, Dense
from nnlab.training import Sequential
from nnlab.training.callbacks import EarlyStopping

LOOKBACK, HORIZON, PERIOD = 24, 12, 12
TRAIN_MONTHS, VAL_MONTHS = 96, 24  # 1949-1956 and 1957-1958; the test months are 1959-1960
UNITS, LR, BATCH_SIZE = 32, 3e-3, 16
EPOCHS, QUICK_EPOCHS, PATIENCE = 300, 60, 40
N_SEEDS, QUICK_SEEDS = 5, 1


def window_parts(n_months: int, horizon: int) -> tuple:
    """(train, val, test) window indices: a window is in a period when all its targets are."""
    n = n_months - LOOKBACK - horizon + 1
    first_target = np.arange(n) + LOOKBACK
    last_target = first_target + horizon - 1
    train = np.flatnonzero(last_target < TRAIN_MONTHS)
    val_end = TRAIN_MONTHS + VAL_MONTHS
    val = np.flatnonzero((first_target >= TRAIN_MONTHS) & (last_target < val_end))
    test = np.flatnonzero(first_target >= val_end)
    return train, val, test


def load_data(horizon: int = HORIZON) -> dict:
    """The series, its log standardised on the training years, and the windows.

    Returns a dict: 'series' (144,) passengers, 'scaled' (144,) standardised log, 'X', 'Y'
    windows in passengers, 'Xs', 'Ys' scaled, 'train', 'val', 'test' window indices, 'scaler'.
    """
    series = ts.airline_passengers()
    log = np.log(series)
    scaler = ts.SeriesScaler("standard").fit(log[:TRAIN_MONTHS])
    scaled = scaler.transform(log)
    X, Y = ts.make_windows(series, LOOKBACK, horizon)
    Xs, Ys = ts.make_windows(scaled, LOOKBACK, horizon)
    train, val, test = window_parts(len(series), horizon)
    return dict(
        series=series, scaled=scaled, X=X, Y=Y, Xs=Xs, Ys=Ys, train=train, val=val,
        test=test, scaler=scaler,
    )  # fmt: skip


def to_passengers(data: dict, scaled) -> np.ndarray:
    """Scaled log values back to passengers (thousands)."""
    return np.exp(data["scaler"].inverse_transform(scaled))


@one_blas_thread
def train(data: dict, outputs: int, seed: int = 0, epochs: int = EPOCHS):
    """An LSTM(32) + Dense(outputs) fitted on relative training windows with early stopping
    on the validation windows; returns (forecaster of scaled windows, history, seconds)."""
    nnlab.manual_seed(seed)
    model = Sequential([LSTM(UNITS), Dense(outputs)], name=f"airline_{outputs}", seed=seed)
    model.compile(optim.Adam(lr=LR, eps=1e-7), "mse")
    arrays = {}
    for part in ("train", "val"):
        x, y, _ = ts.relative_to_last(data["Xs"][data[part]], data["Ys"][data[part]])
        arrays[part] = (x.astype(np.float32), y.astype(np.float32))
    stop = EarlyStopping("val_loss", patience=PATIENCE, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(
        *arrays["train"], batch_size=BATCH_SIZE, epochs=epochs, validation_data=arrays["val"],
        callbacks=[stop], verbose=0,
    )  # fmt: skip
    history.best_epoch = stop.best_epoch
    return fc.RelativeForecaster(model), history, time.perf_counter() - start


def run_seed(direct_data: dict, step_data: dict, seed: int, epochs: int) -> dict:
    """Train the direct and the one-step network; forecast the test windows both ways."""
    direct, direct_history, direct_s = train(direct_data, HORIZON, seed, epochs)
    step, step_history, step_s = train(step_data, 1, seed, epochs)
    test = direct_data["test"]
    preds = {}
    for name, model in (("direct", direct), ("recursive", step)):
        xs = direct_data["Xs"][test]
        scaled = (
            fc.direct_forecast(model, xs)
            if name == "direct"
            else fc.recursive_forecast(model, xs, HORIZON)
        )
        preds[name] = to_passengers(direct_data, scaled)
    val = direct_data["val"]
    val_direct = to_passengers(direct_data, fc.direct_forecast(direct, direct_data["Xs"][val]))
    return {
        "preds": preds,
        "errors": {k: fc.forecast_errors(direct_data["Y"][test], v) for k, v in preds.items()},
        "val_rmse": fc.forecast_errors(direct_data["Y"][val], val_direct)["rmse"],
        "histories": {"direct": direct_history, "recursive": step_history},
        "seconds": {"direct": direct_s, "recursive": step_s},
    }


def baselines(data: dict) -> dict:
    X = data["X"][data["test"]]
    return {
        "naive (last month)": fc.naive_forecast(X, HORIZON),
        "seasonal naive (same month last year)": fc.seasonal_naive_forecast(X, HORIZON, PERIOD),
    }


def _plots(out, data: dict, first: dict) -> dict:
    from nnlab.plots import plot_history
    from nnlab.plots_timeseries import plot_forecast, plot_horizon_errors, plot_residuals

    test, y_test = data["test"], data["Y"][data["test"]]
    last = len(test) - 1  # forecasting 1960 from December 1959
    origin = int(test[last]) + LOOKBACK
    base = baselines(data)
    paths = {k: out / f"{k}.png" for k in ("forecast", "residuals", "horizon_rmse", "history")}
    plot_forecast(
        data["series"][:origin], y_test[last],
        {**{f"LSTM {k}": v[last] for k, v in first["preds"].items()},
         **{k: v[last] for k, v in base.items()}},
        start=origin, path=paths["forecast"],
        title="Airline passengers (thousands): 1960 forecast from December 1959",
    )  # fmt: skip
    plot_residuals(y_test, first["preds"]["direct"], bins=20, path=paths["residuals"],
                   title="Direct LSTM, test windows (passengers, thousands)")  # fmt: skip
    forecasts = {f"LSTM {k}": v for k, v in first["preds"].items()} | base
    plot_horizon_errors(y_test, forecasts, path=paths["horizon_rmse"])
    plot_history(first["histories"]["direct"], path=paths["history"])
    return {k: str(v) for k, v in paths.items()}


@one_blas_thread
def run(out_dir="outputs/forecast_airline", quick: bool = False, seed: int = 0) -> dict:
    """Train the direct and recursive LSTMs on seeds ``seed, seed + 1, ...``; print test MAE
    and RMSE (passengers, thousands) next to the baselines; plot the 1960 forecast."""
    out = output_dir(out_dir)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    seeds = list(range(seed, seed + (QUICK_SEEDS if quick else N_SEEDS)))
    start = time.perf_counter()
    data, step_data = load_data(HORIZON), load_data(1)
    runs = [run_seed(data, step_data, s, epochs) for s in seeds]
    y_test = data["Y"][data["test"]]
    base = {k: fc.forecast_errors(y_test, v) for k, v in baselines(data).items()}
    rows = [
        [f"LSTM({UNITS}) {name}", mean_sd([r["errors"][name]["mae"] for r in runs]),
         mean_sd([r["errors"][name]["rmse"] for r in runs])]
        for name in ("direct", "recursive")
    ] + [[name, e["mae"], e["rmse"]] for name, e in base.items()]  # fmt: skip
    print(
        table(
            f"forecast_airline: log, window-relative, lookback {LOOKBACK}, horizon {HORIZON}; "
            f"{len(data['train'])} train / {len(data['val'])} val / {len(data['test'])} test "
            f"windows (targets 1949-56 / 1957-58 / 1959-60); Adam {LR}, batch {BATCH_SIZE}, "
            f"<= {epochs} epochs, patience {PATIENCE}; seeds {seeds}; passengers (thousands)",
            ["forecaster", "test MAE", "test RMSE"],
            rows,
        )
    )
    for s, r in zip(seeds, runs, strict=True):
        h = r["histories"]
        print(
            f"  seed {s}: direct RMSE {r['errors']['direct']['rmse']:.2f} (best epoch "
            f"{h['direct'].best_epoch + 1}, {r['seconds']['direct']:.1f} s), recursive "
            f"{r['errors']['recursive']['rmse']:.2f} (best epoch "
            f"{h['recursive'].best_epoch + 1}, {r['seconds']['recursive']:.1f} s)"
        )
    plots = _plots(out, data, runs[0])
    seconds = time.perf_counter() - start
    print(f"  wall time {seconds:.1f} s")
    metrics = {
        name: {
            "test_rmse": float(np.mean([r["errors"][name]["rmse"] for r in runs])),
            "test_mae": float(np.mean([r["errors"][name]["mae"] for r in runs])),
            "test_rmses": [r["errors"][name]["rmse"] for r in runs],
        }
        for name in ("direct", "recursive")
    }
    metrics |= {
        "baselines": {k: v["rmse"] for k, v in base.items()},
        "val_rmses": [r["val_rmse"] for r in runs],
        "wall_seconds": seconds,
        "epochs": epochs,
        "seeds": seeds,
    }
    seasonal = base["seasonal naive (same month last year)"]["rmse"]
    summary = [
        summary_row(
            "airline LSTM direct: test RMSE", mean_sd(metrics["direct"]["test_rmses"]),
            "not in the seeds", f"seasonal naive {seasonal:.2f}",
        )
    ]  # fmt: skip
    return {"name": "forecast_airline", "metrics": metrics, "summary": summary, "plots": plots}


def main() -> None:
    run()


if __name__ == "__main__":
    main()
