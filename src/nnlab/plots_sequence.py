"""Figures of sequence models: test accuracy against sequence length, one line per model.

As ``nnlab.plots``: the function builds a ``matplotlib.figure.Figure`` without pyplot
(headless, no global state), returns it and saves it when given ``path``; matplotlib is
imported inside ``_figure``.
"""

import numpy as np

from nnlab.plots import _figure, _finish


def plot_accuracy_vs_length(
    accuracies, lengths, path=None, title=None, chance=None, solved=None, labels=None
):
    """Test accuracy against sequence length (log-scaled length axis), one line per model.

    Args:
        accuracies: {model name: accuracies}, one accuracy per entry of ``lengths``.
        lengths: the sequence lengths, increasing.
        path: optional file to save the figure to.
        title: the figure title.
        chance: accuracy of guessing, drawn as a dotted line (optional).
        solved: the accuracy that counts as solving the task, drawn dashed (optional).
        labels: optional {model name: legend label} (e.g. with parameter counts).

    Returns:
        The Figure.
    """
    lengths = np.asarray(lengths, dtype=float)
    if not accuracies:
        raise ValueError("plot_accuracy_vs_length needs at least one model's accuracies")
    for name, values in accuracies.items():
        if len(values) != len(lengths):
            raise ValueError(
                f"plot_accuracy_vs_length: {name!r} has {len(values)} accuracies for "
                f"{len(lengths)} lengths; give one accuracy per length"
            )
    fig, (ax,) = _figure(1, panel_size=(6.5, 4.5))
    for k, (name, values) in enumerate(accuracies.items()):
        label = (labels or {}).get(name, name)
        ax.plot(lengths, values, marker="o", color=f"C{k % 10}", label=label)
    if solved is not None:
        ax.axhline(solved, color="0.3", linestyle="--", linewidth=1, label=f"solved ({solved})")
    if chance is not None:
        ax.axhline(chance, color="0.5", linestyle=":", linewidth=1, label=f"chance ({chance})")
    ax.set_xscale("log")
    ax.set_xticks(lengths, [f"{t:g}" for t in lengths])
    ax.set_xticks([], minor=True)
    ax.set_ylim(-0.02, 1.02)
    ax.set(
        xlabel="sequence length T",
        ylabel="test accuracy",
        title=title or "Accuracy against sequence length",
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left")
    return _finish(fig, path)
