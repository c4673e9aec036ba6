"""The seq2seq experiment: its alignment score by hand, and the quick run end to end (every
model trained and scored, the tables' figures in range, the heatmaps written)."""

from pathlib import Path

import numpy as np
import pytest

from nnlab.experiments import seq2seq

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_alignment_accuracy_by_hand():
    # 1 sequence, 2 heads, 3 target steps, 4 source positions
    attention = np.array(
        [
            [[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]],
            [[0.1, 0.1, 0.1, 0.7], [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]],
        ]
    )[None]
    alignment = np.zeros((1, 2, 4), bool)  # only 2 steps have expectations (3rd: EOS)
    alignment[0, 0, 0] = True
    alignment[0, 1, [1, 2]] = True
    assert seq2seq.alignment_accuracy(attention, alignment, head=0) == 1.0
    assert seq2seq.alignment_accuracy(attention, alignment, head=1) == 0.5  # step 0 misses
    # averaged: step 0 -> [0.4, 0.1, 0.1, 0.4] argmax 0 (first), step 1 -> position 2
    assert seq2seq.alignment_accuracy(attention, alignment) == 1.0


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return seq2seq.run(out_dir=tmp_path_factory.mktemp("seq2seq"), quick=True, seed=0)


def test_quick_run_scores_every_model(quick_run):
    assert quick_run["name"] == "seq2seq"
    metrics = quick_run["metrics"]
    names = ["Transformer, reversal", "Transformer, sorting", "Transformer, dates"]
    names += ["GRU + bahdanau, dates", "GRU + general, dates"]
    assert set(names) <= set(metrics)
    for name in names:
        m = metrics[name]
        for key in ("exact_match", "greedy_subset", "beam_subset"):
            assert 0.0 <= m[key] <= 1.0
        assert m["params"] > 1000 and np.isfinite(m["final_loss"]) and m["final_loss"] < 3.0
    dates = metrics["Transformer, dates"]
    assert len(dates["alignment_heads"]) == seq2seq.TRANSFORMER["nhead"]
    assert len(dates["alignment_layers"]) == seq2seq.TRANSFORMER["num_decoder_layers"]
    assert 0.0 <= dates["alignment"] <= 1.0 and 0.0 <= metrics["GRU + general, dates"]["alignment"]
    # a few epochs on 600 pairs already sort well beyond chance (10^-6)
    assert metrics["Transformer, sorting"]["exact_match"] > 0.05


def test_quick_run_summary_and_heatmaps(quick_run):
    assert len(quick_run["summary"]) == 3
    for row in quick_run["summary"]:
        assert set(row) == {"experiment", "ours", "seed", "note"}
        assert row["note"] in ("meets", "below")
    expected = {"cross_heads", "cross_layers", "encoder_self", "decoder_self", "rnn"}
    expected = {f"dates_{k}" for k in expected} | {"reversal_cross_heads"}
    assert set(quick_run["plots"]) == expected
    for path in quick_run["plots"].values():
        content = Path(path).read_bytes()
        assert content[:8] == PNG_MAGIC and len(content) > 5000, path
