"""The long-range experiment: its two generated tasks, the figure, and the quick run."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nnlab.experiments import long_range
from nnlab.experiments.long_range import (
    MODELS,
    NEGATIVE,
    NOT,
    POSITIVE,
    first_token_task,
    sentiment_task,
)
from nnlab.plots_sequence import plot_accuracy_vs_length


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_first_token_task_layout():
    ids, labels = first_token_task(400, 12, rng=0)
    assert ids.shape == (400, 12) and labels.shape == (400,)
    np.testing.assert_array_equal(ids[:, 0], labels + 1)
    assert set(np.unique(labels)) == {0, 1} and 0.4 < labels.mean() < 0.6
    assert ids[:, 1:].min() == 3 and ids[:, 1:].max() == 10  # distractors only
    again, _ = first_token_task(400, 12, rng=0)
    np.testing.assert_array_equal(again, ids)
    with pytest.raises(ValueError, match="length >= 2"):
        first_token_task(3, 1, rng=0)


def _reference_label(row) -> int:
    """The majority polarity of one sentence, read token by token."""
    score = 0
    for i, token in enumerate(row):
        if token in POSITIVE or token in NEGATIVE:
            polarity = 1 if token in POSITIVE else -1
            score += -polarity if i > 0 and row[i - 1] == NOT else polarity
    return int(score > 0)


def test_sentiment_task_labels_follow_negation():
    ids, labels = sentiment_task(300, rng=1)
    assert ids.shape == (300, 20) and 0.4 < labels.mean() < 0.6
    lengths = (ids != 0).sum(axis=1)
    assert lengths.min() >= 6 and lengths.max() <= 20
    for row, length in zip(ids, lengths, strict=True):
        np.testing.assert_array_equal(row[length:], 0)  # right-padded
        assert np.isin(row, np.concatenate([POSITIVE, NEGATIVE])).sum() == 3
    assert [_reference_label(row) for row in ids] == labels.tolist()
    negated = (ids == NOT).sum()
    assert 0.2 < negated / (3 * len(ids)) < 0.4  # NEGATION_RATE = 0.3


def test_plot_accuracy_vs_length(tmp_path):
    path = tmp_path / "acc.png"
    fig = plot_accuracy_vs_length(
        {"a": [1.0, 0.5], "b": [1.0, 1.0]}, [10, 20], path=path, chance=0.5, solved=0.99
    )
    assert path.stat().st_size > 0
    lines = fig.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 0.5])
    with pytest.raises(ValueError, match="'a' has 1 accuracies for 2 lengths"):
        plot_accuracy_vs_length({"a": [1.0]}, [10, 20])


def test_quick_run(tmp_path, capsys):
    result = long_range.run(out_dir=tmp_path, quick=True, seed=0)
    out = capsys.readouterr().out
    assert "first-token task: test accuracy" in out and "sentiment with negation" in out
    metrics = result["metrics"]
    for t in long_range.QUICK_LENGTHS:
        assert metrics["long_range"][f"Transformer@{t}"]["accuracy"] >= 0.99
        for name in MODELS:
            r = metrics["long_range"][f"{name}@{t}"]
            assert 0.0 <= r["accuracy"] <= 1.0 and r["steps"] == 16 * r["rounds"]
            assert 8000 < r["params"] < 10000  # similar sizes
    assert metrics["longest_solved"]["Transformer"] == long_range.QUICK_LENGTHS[-1]
    assert metrics["sentiment"]["bag of words (logistic regression)"] < 0.8
    assert (tmp_path / "accuracy_vs_length.png").exists()
