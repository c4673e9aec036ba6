"""The forecasting experiments: quick runs beat the naive baseline, the seed's bugs are absent
(scaler fit on the training period, validation before the test period), nnlab's forecaster
trains step for step like its PyTorch twin, and the forecasting plots draw what they are given.
"""

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlab import plots_timeseries as pts
from nnlab.data import forecasting as fc
from nnlab.experiments import forecast_airline, forecast_seed

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_pngs(result: dict, expected: set) -> None:
    assert set(result["plots"]) == expected
    for path in result["plots"].values():
        content = Path(path).read_bytes()
        assert content[:8] == PNG_MAGIC and len(content) > 5000, path


# ---- the seed's forecaster --------------------------------------------------------------------


def test_seed_data_split_and_scaler_do_not_leak():
    data = forecast_seed.load_data(seed=0)
    train, val, test = data["train"], data["val"], data["test"]
    # the seed's test windows: the last 20% of the 931 windows
    assert len(data["X"]) == 931 and len(test) == 187 and test[0] == 744
    # targets of the three parts share no day, validation lies before the test period
    first_day = lambda idx: idx + forecast_seed.LOOKBACK  # noqa: E731
    assert first_day(train[-1]) + forecast_seed.HORIZON <= first_day(val[0])
    assert first_day(val[-1]) + forecast_seed.HORIZON <= first_day(test[0])
    # the scaler saw the training days only (min-max over exactly those days)
    days = data["train_days"]
    assert days == first_day(train[-1]) + forecast_seed.HORIZON
    scaler = data["scaler"].scaler
    assert scaler.data_min_[0] == data["series"][:days].min()
    assert scaler.data_max_[0] == data["series"][:days].max()
    assert data["series"][days:].max() > scaler.data_max_[0]  # the test period differs
    # baselines on the seed's test windows: seed 001 measured 5.68 and 5.33 over 3 seeds
    y = data["Y"][test]
    base = {k: fc.forecast_errors(y, v)["rmse"] for k, v in forecast_seed.baselines(data).items()}
    assert base["naive (last value)"] == pytest.approx(5.783, abs=1e-3)
    assert base["seasonal naive (30 days)"] == pytest.approx(5.345, abs=1e-3)
    assert base["noise-free signal (noise floor)"] == pytest.approx(1.910, abs=1e-3)


@pytest.fixture(scope="module")
def seed_quick(tmp_path_factory):
    return forecast_seed.run(tmp_path_factory.mktemp("forecast_seed"), quick=True, seed=0)


def test_seed_quick_beats_the_baselines(seed_quick):
    m = seed_quick["metrics"]
    # chosen on validation RMSE, never on the test windows
    assert m["chosen"] == min(forecast_seed.RECIPES, key=lambda k: np.mean(m[k]["val_rmses"]))
    naive = m["baselines"]["naive (last value)"]
    seasonal = m["baselines"]["seasonal naive (30 days)"]
    assert m["test_rmse"] < min(naive, seasonal)
    assert m["test_rmse"] < 3.3  # 12 epochs already beat the seed's 50-epoch 3.30
    assert m["test_rmse"] > m["baselines"]["noise-free signal (noise floor)"]
    assert all(r > 0 for k in forecast_seed.RECIPES for r in m[k]["test_rmses"])
    assert all(
        e <= forecast_seed.QUICK_EPOCHS for k in forecast_seed.RECIPES for e in m[k]["epochs_run"]
    )
    # importance: the most recent input day matters most
    importance = np.array(m["importance"])
    assert (
        importance.shape == (forecast_seed.LOOKBACK,)
        and importance.argmax() == forecast_seed.LOOKBACK - 1
    )
    assert len(seed_quick["summary"]) == 2
    assert_pngs(seed_quick, {"history", "forecast", "residuals", "horizon_rmse", "importance"})


def test_airline_quick_beats_the_naive_baseline(tmp_path):
    r = forecast_airline.run(tmp_path, quick=True, seed=0)
    m = r["metrics"]
    assert m["baselines"]["naive (last month)"] == pytest.approx(99.226, abs=1e-3)
    assert m["baselines"]["seasonal naive (same month last year)"] == pytest.approx(
        53.366, abs=1e-3
    )
    assert m["direct"]["test_rmse"] < m["baselines"]["naive (last month)"]
    assert m["recursive"]["test_rmse"] < m["baselines"]["naive (last month)"]
    assert_pngs(r, {"forecast", "residuals", "horizon_rmse", "history"})


def test_airline_periods_hold_whole_windows():
    for horizon in (12, 1):
        train, val, test = forecast_airline.window_parts(144, horizon)
        last_train_target = train[-1] + forecast_airline.LOOKBACK + horizon - 1
        assert last_train_target == forecast_airline.TRAIN_MONTHS - 1
        assert val[0] + forecast_airline.LOOKBACK == forecast_airline.TRAIN_MONTHS
        assert test[0] + forecast_airline.LOOKBACK == 120 and test[-1] + 24 + horizon == 144
    assert (len(train), len(val), len(test)) == (72, 24, 24)  # horizon 1


# ---- against PyTorch ----------------------------------------------------------------------


def test_seed_forecaster_trains_step_for_step_like_torch():
    """Without dropout and with the same batches, nnlab's Keras-style 3xLSTM(50) stack and a
    torch twin with Keras's one-bias parametrisation follow the same Adam trajectory."""
    torch = pytest.importorskip("torch")
    from nnlab import optim
    from nnlab.autograd import Tensor

    data = forecast_seed.load_data(0, "standard")
    model = forecast_seed.build_model(0)
    for i in (1, 3, 5):  # the Dropout layers
        model.layers[i].rate = 0.0
    model.build((forecast_seed.LOOKBACK, 1))
    state = {k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()}
    lstm = torch.nn.LSTM(1, 50, num_layers=3, batch_first=True)
    fc1, fc2 = torch.nn.Linear(50, 25), torch.nn.Linear(25, 10)
    with torch.no_grad():
        for layer, key in enumerate(("0", "2", "4")):
            getattr(lstm, f"weight_ih_l{layer}").copy_(state[f"{key}.weight_ih"])
            getattr(lstm, f"weight_hh_l{layer}").copy_(state[f"{key}.weight_hh"])
            getattr(lstm, f"bias_ih_l{layer}").copy_(state[f"{key}.bias"])
            getattr(lstm, f"bias_hh_l{layer}").zero_().requires_grad_(False)
        for fc, key in ((fc1, "6"), (fc2, "7")):
            fc.weight.copy_(state[f"{key}.weight"])
            fc.bias.copy_(state[f"{key}.bias"])
    params = [p for m in (lstm, fc1, fc2) for p in m.parameters() if p.requires_grad]
    torch_opt = torch.optim.Adam(params, lr=3e-3, eps=1e-7)
    model.compile(optim.Adam(lr=3e-3, eps=1e-7), "mse")
    model._ensure_ready(data["Xs"][:1])
    for step in range(15):
        x, y = data["Xs"][32 * step : 32 * step + 32], data["Ys"][32 * step : 32 * step + 32]
        loss = model.compute_loss(y, model(Tensor(x)))
        model.optimizer.zero_grad()
        loss.backward()
        model.optimizer.step()
        out, _ = lstm(torch.from_numpy(x))
        torch_loss = torch.mean((fc2(fc1(out[:, -1])) - torch.from_numpy(y)) ** 2)
        torch_opt.zero_grad()
        torch_loss.backward()
        torch_opt.step()
        assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-4), step
    np.testing.assert_allclose(
        model.state_dict()["4.weight_hh"], lstm.weight_hh_l2.detach().numpy(), atol=1e-5
    )


# ---- plots ------------------------------------------------------------------------------------


def test_plot_forecast_draws_history_actual_and_forecasts():
    fig = pts.plot_forecast(
        np.arange(20.0), [20.0, 21.0, 22.0], {"model": [20.5, 21.5, 22.5], "naive": [19.0] * 3},
        show_history=10, title="t",
    )  # fmt: skip
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"history", "actual", "model", "naive"} <= set(lines)
    np.testing.assert_array_equal(lines["history"].get_xdata(), np.arange(10, 20))
    np.testing.assert_array_equal(lines["history"].get_ydata(), np.arange(10.0, 20.0))
    np.testing.assert_array_equal(lines["model"].get_xdata(), [20, 21, 22])
    np.testing.assert_array_equal(lines["actual"].get_ydata(), [19.0, 20.0, 21.0, 22.0])
    assert ax.get_title() == "t"


def test_plot_residuals_scatter_and_histogram(tmp_path):
    y = np.arange(12.0).reshape(4, 3)
    pred = y + np.array([1.0, -1.0, 0.5])
    fig = pts.plot_residuals(y, pred, bins=5, path=tmp_path / "r.png")
    assert isinstance(fig, Figure) and (tmp_path / "r.png").read_bytes()[:8] == PNG_MAGIC
    scatter, hist = fig.axes
    offsets = scatter.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 1], (y - pred).ravel())
    heights = [patch.get_height() for patch in hist.patches]
    assert len(heights) == 5 and sum(heights) > 0
    with pytest.raises(ValueError, match="12 values"):
        pts.plot_residuals(y, pred[:2])


def test_plot_horizon_errors_and_importance_bars():
    y = np.zeros((5, 3))
    fig = pts.plot_horizon_errors(y, {"a": np.ones((5, 3)), "b": np.tile([1.0, 2.0, 3.0], (5, 1))})
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    np.testing.assert_allclose(lines["a"], [1, 1, 1])
    np.testing.assert_allclose(lines["b"], [1, 2, 3])
    fig = pts.plot_timestep_importance([0.1, -0.2, 0.3, 2.0])
    (ax,) = fig.axes
    bars = sorted(ax.patches, key=lambda p: -p.get_x())  # lag 4 (oldest) ... lag 1 (latest)
    np.testing.assert_allclose([b.get_height() for b in bars], [0.1, -0.2, 0.3, 2.0])
    assert ax.xaxis_inverted()
