"""Forecasting figures: a forecast against what happened, with the history before it;
residuals; error by forecast step; and time-step importance.

Like ``nnlab.plots``, every function builds a ``matplotlib.figure.Figure`` without pyplot,
returns it, and saves it when given ``path``.
"""

import numpy as np

from nnlab.plots import _figure, _finish


def plot_forecast(
    history,
    actual=None,
    forecasts=None,
    start: int | None = None,
    show_history: int | None = None,
    title=None,
    path=None,
):
    """The last values of a series, what followed, and one or more forecasts of it.

    Args:
        history: (T,) the values up to the forecast origin.
        actual: (H,) what happened next, or None.
        forecasts: {name: (H,) forecast} (or one array).
        start: time index of the first forecast step (default ``len(history)``).
        show_history: plot only the last this many history values.
        title: the figure title.
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    history = np.asarray(history, dtype=float).reshape(-1)
    start = len(history) if start is None else int(start)
    if forecasts is None:
        forecasts = {}
    elif not isinstance(forecasts, dict):
        forecasts = {"forecast": forecasts}
    shown = history if show_history is None else history[-show_history:]
    fig, (ax,) = _figure(1, panel_size=(9, 4))
    ax.plot(np.arange(start - len(shown), start), shown, color="0.35", label="history")
    if actual is not None:
        actual = np.asarray(actual, dtype=float).reshape(-1)
        steps = np.arange(start, start + len(actual))
        # joined to the last observed value so the actual path reads as one line
        ax.plot(np.r_[start - 1, steps], np.r_[history[-1], actual], "k.-", label="actual")
    markers = "osd^v<>p*h"
    for i, (name, values) in enumerate(forecasts.items()):
        values = np.asarray(values, dtype=float).reshape(-1)
        steps = np.arange(start, start + len(values))
        ax.plot(steps, values, marker=markers[i % len(markers)], markersize=4, label=name)
    ax.axvline(start - 0.5, color="gray", linestyle=":", linewidth=1)
    ax.set(title=title or "Forecast", xlabel="Time step", ylabel="Value")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_residuals(y_true, y_pred, bins: int = 30, title=None, path=None):
    """Residuals (actual - forecast) of every window and step: against the forecast, and
    their histogram with the normal curve of the same mean and standard deviation.

    Args:
        y_true, y_pred: (N,) or (N, horizon), in the same units.
        bins: histogram bins.
        title: the figure title.
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values but y_pred has {y_pred.size}")
    residuals = y_true - y_pred
    fig, (scatter, hist) = _figure(2, panel_size=(5, 3.8))
    scatter.scatter(y_pred, residuals, s=8, alpha=0.4)
    scatter.axhline(0, color="red", linestyle="--", linewidth=1)
    scatter.set(title="Residuals against forecast", xlabel="Forecast", ylabel="Actual - forecast")
    scatter.grid(True, alpha=0.3)
    hist.hist(residuals, bins=bins, density=True, alpha=0.7, label="residuals")
    mean, sd = residuals.mean(), residuals.std()
    if sd > 0:
        x = np.linspace(residuals.min(), residuals.max(), 200)
        density = np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        hist.plot(x, density, color="black", label=f"normal ({mean:.2f}, {sd:.2f})")
    hist.set(title="Residual distribution", xlabel="Actual - forecast", ylabel="Density")
    hist.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_horizon_errors(y_true, forecasts: dict, title=None, path=None):
    """RMSE at each forecast step (1 = next), one line per forecaster.

    Args:
        y_true: (N, horizon) actual values.
        forecasts: {name: (N, horizon) forecasts}, same units.
        title: the figure title.
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    y_true = np.asarray(y_true, dtype=float)
    fig, (ax,) = _figure(1, panel_size=(7, 4))
    steps = np.arange(1, y_true.shape[1] + 1)
    for name, pred in forecasts.items():
        rmse = np.sqrt(np.mean((np.asarray(pred, dtype=float) - y_true) ** 2, axis=0))
        ax.plot(steps, rmse, marker="o", markersize=4, label=name)
    ax.set(title=title or "Error by forecast step", xlabel="Steps ahead", ylabel="RMSE")
    ax.set_xticks(steps)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_timestep_importance(importances, title=None, ylabel=None, path=None):
    """Importance of each input step as bars, labelled by how many steps before the
    forecast origin it lies (1 = the most recent).

    Args:
        importances: (lookback,), oldest step first (as ``timestep_importance`` returns).
        title, ylabel: texts of the figure.
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    values = np.asarray(importances, dtype=float).reshape(-1)
    lags = np.arange(len(values), 0, -1)  # oldest step has the largest lag
    fig, (ax,) = _figure(1, panel_size=(9, 3.8))
    colours = np.where(values >= 0, "tab:blue", "tab:red")
    ax.bar(lags, values, color=colours, width=0.8)
    ax.invert_xaxis()  # time runs left to right: oldest step on the left
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.set(
        title=title or "Time-step importance",
        xlabel="Steps before the forecast origin",
        ylabel=ylabel or "Error increase when perturbed",
    )
    ax.grid(True, axis="y", alpha=0.3)
    return _finish(fig, path)
