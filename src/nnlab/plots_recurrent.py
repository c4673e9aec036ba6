"""Figures of recurrent memory: gradient norm against distance in time, an LSTM's states and
gates over one sequence as heatmaps, and the table of which sequence lengths each cell solves.

As ``nnlab.plots``: every function builds a ``matplotlib.figure.Figure`` without pyplot
(headless, no global state), returns it and saves it when given ``path``; matplotlib is
imported inside the functions.
"""

import numpy as np

from nnlab.plots import _figure, _finish

LSTM_PANELS = (
    ("h", "hidden state h"),
    ("c", "cell state c"),
    ("i", "input gate i"),
    ("f", "forget gate f"),
    ("g", "candidate g"),
    ("o", "output gate o"),
)


def plot_gradient_norms(curves, path=None, title=None, normalize: bool = True):
    """Gradient norm of the last step's loss with respect to the input ``d`` steps earlier,
    one line per curve, on a log scale.

    Args:
        curves: {label: norms}, ``norms[d]`` the mean norm at distance ``d`` (0 = the last
            step); or {panel title: {label: norms}} for side-by-side panels (e.g. at
            initialisation and after training; a label keeps its colour across panels).
        path: optional file to save the figure to.
        title: the figure title.
        normalize: divide each curve by its value at distance 0, so cells with different
            output scales share one axis (the slope is what shows vanishing gradients).

    Returns:
        The Figure.
    """
    if not curves:
        raise ValueError("plot_gradient_norms needs at least one curve")
    panels = curves if all(isinstance(v, dict) for v in curves.values()) else {None: curves}
    fig, axes = _figure(len(panels), panel_size=(6, 4.5))
    labels = list(dict.fromkeys(label for group in panels.values() for label in group))
    colours = {label: f"C{k % 10}" for k, label in enumerate(labels)}
    for ax, (panel, group) in zip(axes, panels.items(), strict=True):
        for label, norms in group.items():
            norms = np.asarray(norms, dtype=float)
            if normalize and norms[0] > 0:
                norms = norms / norms[0]
            distances = np.arange(len(norms))
            positive = norms > 0  # a log axis cannot show exact zeros (underflow)
            ax.plot(distances[positive], norms[positive], label=label, color=colours[label])
        ax.set_yscale("log")
        ax.set(
            xlabel="distance d from the last step (time steps)",
            ylabel="||dL/dx_(T-d)|| / ||dL/dx_T||" if normalize else "||dL/dx_(T-d)||",
            title=panel or "Gradient norm against distance in time",
        )
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_lstm_states(trace, inputs=None, input_labels=None, path=None, title=None):
    """Heatmaps (units x time) of an LSTM's hidden state, cell state and gates (i, f, g, o)
    over one sequence.

    Args:
        trace: {'h', 'c', 'i', 'f', 'g', 'o'} -> (T, units) arrays (see
            ``nnlab.experiments.recurrent_probes.lstm_trace``).
        inputs: optional (T, features) input sequence, drawn as a strip above the heatmaps.
        input_labels: names of the input features.
        path: optional file to save the figure to.
        title: the figure title.

    Returns:
        The Figure.
    """
    from matplotlib.figure import Figure

    missing = [k for k, _ in LSTM_PANELS if k not in trace]
    if missing:
        raise ValueError(f"trace lacks {missing}; expected keys {[k for k, _ in LSTM_PANELS]}")
    steps, units = np.shape(trace["h"])
    n_rows = len(LSTM_PANELS) + (inputs is not None)
    ratios = ([0.5] if inputs is not None else []) + [1.0] * len(LSTM_PANELS)
    fig = Figure(figsize=(10, 1.6 * n_rows + 0.8), layout="constrained")
    axes = fig.subplots(n_rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    axes = list(np.atleast_1d(axes))
    extent = (-0.5, steps - 0.5, units - 0.5, -0.5)
    if inputs is not None:
        inputs = np.asarray(inputs, dtype=float).reshape(steps, -1)
        ax = axes.pop(0)
        ax.imshow(
            inputs.T,
            aspect="auto",
            cmap="Greys",
            interpolation="nearest",
            extent=(-0.5, steps - 0.5, inputs.shape[1] - 0.5, -0.5),
        )
        labels = input_labels or [f"x{j}" for j in range(inputs.shape[1])]
        ax.set_yticks(range(inputs.shape[1]), labels)
        ax.set_title("input")
    for ax, (key, name) in zip(axes, LSTM_PANELS, strict=True):
        gate = key in "ifo"
        values = np.asarray(trace[key], dtype=float).T
        limit = 1.0 if key in "hg" else max(float(np.abs(values).max()), 1e-6)
        norm = (
            dict(cmap="viridis", vmin=0, vmax=1)
            if gate
            else dict(cmap="RdBu_r", vmin=-limit, vmax=limit)
        )
        image = ax.imshow(values, aspect="auto", interpolation="nearest", extent=extent, **norm)
        fig.colorbar(image, ax=ax, pad=0.01, fraction=0.03)
        ax.set(ylabel="unit", title=name)
    axes[-1].set_xlabel("time step")
    fig.suptitle(title or "LSTM states and gates over one sequence")
    return _finish(fig, path)


def plot_memory_table(
    values, row_labels, col_labels, solved=None, path=None, title=None, value_label="test error"
):
    """A (cells x lengths) table as a heatmap, each square labelled with its value and a
    check mark where the task counts as solved.

    Args:
        values: (rows, cols) numbers (e.g. test MSE; lower is better), log-coloured.
        row_labels, col_labels: names of the rows (cells) and columns (lengths).
        solved: optional (rows, cols) bools.
        path: optional file to save the figure to.
        title: the axes title.
        value_label: the colour bar's label.

    Returns:
        The Figure.
    """
    from matplotlib.colors import LogNorm

    values = np.asarray(values, dtype=float)
    if values.shape != (len(row_labels), len(col_labels)):
        raise ValueError(
            f"values {values.shape} do not match {len(row_labels)} rows x {len(col_labels)} columns"
        )
    fig, (ax,) = _figure(1, panel_size=(1.6 * len(col_labels) + 2.5, 0.8 * len(row_labels) + 1.5))
    positive = values[values > 0]
    low = float(positive.min()) if positive.size else 1e-6
    image = ax.imshow(
        np.maximum(values, low),
        cmap="RdYlGn_r",
        aspect="auto",
        norm=LogNorm(vmin=low, vmax=max(float(values.max()), low * 10)),
    )
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            mark = " \u2713" if solved is not None and np.asarray(solved)[r, c] else ""
            ax.text(c, r, f"{values[r, c]:.3g}{mark}", ha="center", va="center", fontsize=10)
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    fig.colorbar(image, ax=ax, label=value_label)
    ax.set_title(title or "Which lengths each cell solves")
    return _finish(fig, path)
