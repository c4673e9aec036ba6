"""Attention heatmaps: one panel per head (and a layers x heads grid), the weights drawn
as given, token labels on the axes, files written, clear errors for mismatched labels."""

import numpy as np
import pytest

from nnlab.data.seq2seq_tasks import Vocabulary
from nnlab.plots_attention import plot_attention_heads, plot_attention_layers, token_labels

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _weights(heads, queries, keys, seed=0):
    w = np.random.default_rng(seed).random((heads, queries, keys))
    return w / w.sum(axis=-1, keepdims=True)


def _heatmap_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_one_panel_per_head_with_the_weights_and_token_labels(tmp_path):
    weights = _weights(3, 4, 5)
    path = tmp_path / "heads.png"
    fig = plot_attention_heads(
        weights, list("2026"), ["N", "o", "v", " ", "5"], path=path, title="cross"
    )
    axes = _heatmap_axes(fig)
    assert len(axes) == 3
    for h, ax in enumerate(axes):
        np.testing.assert_allclose(ax.images[0].get_array(), weights[h])
        assert ax.images[0].get_clim() == (0.0, 1.0)
        assert ax.get_title() == f"head {h}"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["N", "o", "v", "␣", "5"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "0", "2", "6"]
    assert fig._suptitle.get_text() == "cross"
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_a_single_matrix_is_one_head_and_labels_default_to_positions():
    weights = _weights(1, 2, 3)[0]
    fig = plot_attention_heads(weights, head_titles=["Bahdanau"])
    (ax,) = _heatmap_axes(fig)
    np.testing.assert_allclose(ax.images[0].get_array(), weights)
    assert ax.get_title() == "Bahdanau"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]


def test_layer_grid_has_a_row_per_layer():
    layers = [_weights(2, 3, 4, seed=k) for k in range(3)]
    fig = plot_attention_layers(layers, list("abc"), list("wxyz"))
    axes = _heatmap_axes(fig)
    assert [ax.get_title() for ax in axes] == [
        f"layer {k}, head {h}" for k in range(3) for h in range(2)
    ]
    np.testing.assert_allclose(axes[3].images[0].get_array(), layers[1][1])


def test_mismatched_labels_and_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="key_labels has 2 labels for 5 key positions"):
        plot_attention_heads(_weights(1, 4, 5), list("abcd"), ["x", "y"])
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2, 2\)"):
        plot_attention_heads(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="same \\(heads, queries, keys\\)"):
        plot_attention_layers([_weights(2, 3, 4), _weights(1, 3, 4)])
    with pytest.raises(ValueError, match="at least one layer"):
        plot_attention_layers([])


def test_token_labels_show_specials_and_spaces():
    vocab = Vocabulary([" ", "a"])
    assert token_labels(vocab, [1, 4, 3, 2, 0]) == ["<bos>", "a", "␣", "<eos>", "<pad>"]
    assert token_labels(vocab, [1, 4, 2], keep_specials=False) == ["", "a", ""]
