"""Attention heatmaps: one panel per head (self- or cross-attention), rows = queries (the
target or the sequence itself), columns = keys (the source), labelled with the tokens.

As ``nnlab.plots``: every function builds a ``matplotlib.figure.Figure`` without pyplot
(headless, no global state), returns it and saves it when given ``path``; matplotlib is
imported inside the functions.
"""

import numpy as np

from nnlab.plots import _figure, _finish

_VISIBLE = {" ": "␣"}  # a space would print as nothing


def token_labels(vocab, ids, keep_specials: bool = True) -> list:
    """Display labels of the token ids ``ids`` (1-D) with ``vocab`` (a ``Vocabulary``):
    a space shows as '␣'; PAD, BOS and EOS as '<pad>', '<bos>', '<eos>' (or '' with
    ``keep_specials=False``)."""
    labels = []
    for i in np.asarray(ids).reshape(-1).tolist():
        token = vocab.tokens[i] if keep_specials or i >= 3 else ""
        labels.append(_VISIBLE.get(token, token))
    return labels


def _as_heads(weights, name: str) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    if weights.ndim == 2:
        weights = weights[None]
    if weights.ndim != 3 or 0 in weights.shape:
        raise ValueError(
            f"{name} expects attention weights (heads, queries, keys) or (queries, keys), "
            f"got shape {weights.shape}"
        )
    return weights


def _check_labels(labels, size: int, which: str):
    if labels is None:
        return [str(i) for i in range(size)]
    labels = [_VISIBLE.get(str(label), str(label)) for label in labels]
    if len(labels) != size:
        raise ValueError(
            f"{which} has {len(labels)} labels for {size} {which.split('_')[0]} positions; "
            f"pass one label per position (slice the weights to the real tokens first)"
        )
    return labels


def _heatmap(ax, weights, query_labels, key_labels, title, xlabel, ylabel):
    image = ax.imshow(weights, vmin=0.0, vmax=1.0, cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(len(key_labels)), key_labels, fontsize=8)
    ax.set_yticks(range(len(query_labels)), query_labels, fontsize=8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return image


def plot_attention_heads(
    weights,
    query_labels=None,
    key_labels=None,
    path=None,
    title=None,
    head_titles=None,
    max_cols: int = 2,
    xlabel="key (source)",
    ylabel="query (target)",
):
    """Heatmaps of attention weights, one panel per head.

    Args:
        weights: (heads, queries, keys) or (queries, keys) weights, rows summing to 1
            (e.g. ``MultiheadAttention.last_weights[n]``).
        query_labels, key_labels: tokens of the rows and columns (default: positions).
        path: optional file to save the figure to.
        title: the figure title. head_titles: one title per panel (default 'head h').
        max_cols: panels per row.
        xlabel, ylabel: axis labels (self-attention: both the same sequence).

    Returns:
        The Figure.
    """
    weights = _as_heads(weights, "plot_attention_heads")
    heads, queries, keys = weights.shape
    query_labels = _check_labels(query_labels, queries, "query_labels")
    key_labels = _check_labels(key_labels, keys, "key_labels")
    head_titles = head_titles or [f"head {h}" for h in range(heads)]
    size = (1.2 + 0.28 * keys, 1.2 + 0.28 * queries)
    fig, axes = _figure(heads, panel_size=size, max_cols=max_cols)
    for h, ax in enumerate(axes):
        image = _heatmap(ax, weights[h], query_labels, key_labels, head_titles[h], xlabel, ylabel)
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_attention_layers(
    layers,
    query_labels=None,
    key_labels=None,
    path=None,
    title=None,
    xlabel="key (source)",
    ylabel="query (target)",
):
    """A grid of heatmaps: one row per layer, one column per head.

    Args:
        layers: a list of (heads, queries, keys) weights, one per layer (e.g. the
            'cross' entry of ``TransformerSeq2Seq.attention_maps`` for one example).
        query_labels, key_labels, path, title, xlabel, ylabel: as ``plot_attention_heads``.

    Returns:
        The Figure.
    """
    if not layers:
        raise ValueError("plot_attention_layers needs at least one layer of weights")
    stacked = [_as_heads(w, "plot_attention_layers") for w in layers]
    heads, queries, keys = stacked[0].shape
    if any(w.shape != stacked[0].shape for w in stacked):
        shapes = [w.shape for w in stacked]
        raise ValueError(f"every layer needs the same (heads, queries, keys), got {shapes}")
    query_labels = _check_labels(query_labels, queries, "query_labels")
    key_labels = _check_labels(key_labels, keys, "key_labels")
    size = (1.2 + 0.28 * keys, 1.2 + 0.28 * queries)
    fig, axes = _figure(len(stacked) * heads, panel_size=size, max_cols=heads)
    for k, ax in enumerate(axes):
        layer, h = divmod(k, heads)
        panel = f"layer {layer}, head {h}"
        image = _heatmap(ax, stacked[layer][h], query_labels, key_labels, panel, xlabel, ylabel)
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)
