"""The generated-digits judge: coverage, confidence and histogram by hand, the layouts it
accepts, and what it says of real digits, of one repeated digit and of noise."""

import numpy as np
import pytest

from nnlab.data import load_digits_images
from nnlab.evaluation.generative import (
    DigitsJudge,
    SampleJudgement,
    as_digit_rows,
    judge_probabilities,
)


@pytest.fixture(scope="module")
def judge():
    return DigitsJudge("logistic", seed=0)


def test_judge_probabilities_by_hand():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1], [0.2, 0.5, 0.3]])
    result = judge_probabilities(p, n_classes=3)
    assert result.predicted.tolist() == [0, 2, 0, 1]
    assert result.histogram.tolist() == [2, 1, 1]
    assert result.classes_covered == 3
    assert result.mean_confidence == pytest.approx((0.7 + 0.8 + 0.6 + 0.5) / 4)
    assert result.passes(3, 0.65) and not result.passes(3, 0.66) and not result.passes(4, 0.1)
    assert result.as_dict()["histogram"] == [2, 1, 1]
    assert "4 samples: 3 classes covered, mean confidence 0.650" in str(result)
    with pytest.raises(ValueError, match=r"shape \(N, 10\)"):
        judge_probabilities(np.ones((3, 4)))


def test_sample_layouts_are_equivalent_and_checked():
    x = np.random.default_rng(0).uniform(size=(3, 1, 8, 8))
    rows = as_digit_rows(x)
    np.testing.assert_array_equal(rows, as_digit_rows(x.reshape(3, 64)))
    np.testing.assert_array_equal(rows, as_digit_rows(x[:, 0]))
    assert as_digit_rows(np.full((1, 64), 1.5)).max() == 1.0  # clipped to the data range
    with pytest.raises(ValueError, match=r"8x8 digit samples .* got \(2, 1, 28, 28\)"):
        as_digit_rows(np.zeros((2, 1, 28, 28)))
    bad = np.zeros((2, 64))
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="1 NaN/inf values"):
        as_digit_rows(bad)
    with pytest.raises(ValueError, match="classifier must be one of"):
        DigitsJudge("forest")


def test_real_digits_pass_and_collapsed_or_noisy_samples_fail(judge):
    assert judge.test_accuracy > 0.94
    real = judge.real_judgement
    assert isinstance(real, SampleJudgement) and real.n_samples == 100
    assert real.classes_covered == 10 and real.mean_confidence > 0.8
    x_test, y_test = load_digits_images()[1], load_digits_images()[3]
    collapsed = judge.judge(np.repeat(x_test[:1], 100, axis=0))
    assert collapsed.classes_covered == 1 and collapsed.histogram[y_test[0]] == 100
    noise = judge.judge(np.random.default_rng(0).uniform(size=(100, 64)))
    assert noise.mean_confidence < real.mean_confidence - 0.2
    np.testing.assert_allclose(judge.predict_proba(x_test[:5]).sum(axis=1), 1.0)
