"""Confidence analysis: how confident a classifier is, and how accurate at each confidence
level (the seeds' high / medium / low buckets)."""

import math
from dataclasses import dataclass

import numpy as np

from nnlab.evaluation.outputs import as_labels, split_outputs


@dataclass(frozen=True)
class ConfidenceBucket:
    """Predictions whose confidence (max class probability) falls in one range.

    ``accuracy`` is NaN when the bucket is empty.
    """

    name: str
    description: str
    count: int
    fraction: float
    accuracy: float


@dataclass(frozen=True)
class ConfidenceAnalysis:
    """How confident a classifier is, and how accurate at each confidence level.

    ``mean_correct`` / ``mean_incorrect`` are the mean confidences of the right and the wrong
    predictions (NaN when there are none).
    """

    buckets: tuple[ConfidenceBucket, ...]
    mean: float
    std: float
    min: float
    max: float
    mean_correct: float
    mean_incorrect: float

    def bucket(self, name: str) -> ConfidenceBucket:
        """The bucket called ``name`` ('high', 'medium' or 'low')."""
        for b in self.buckets:
            if b.name == name:
                return b
        raise KeyError(f"no confidence bucket {name!r}; have {[b.name for b in self.buckets]}")


def confidence_buckets(probabilities, y_true, high: float = 0.8, low: float = 0.5):
    """Split predictions by confidence and measure each part's accuracy (as in the seeds).

    The confidence of a prediction is its largest class probability; for one sigmoid output p
    it is max(p, 1 - p), which is never below 0.5, so the low bucket is then empty.

    Args:
        probabilities: (N, C) class probabilities, or (N,) / (N, 1) positive-class ones.
        y_true: (N,) integer labels or (N, C) one-hot rows.
        high: confidences above ``high`` are 'high'.
        low: confidences below ``low`` are 'low'; the rest, low..high inclusive, 'medium'.

    Returns:
        A ConfidenceAnalysis: three buckets (count, fraction, accuracy) and summary statistics.
    """
    if not 0 <= low <= high <= 1:
        raise ValueError(f"need 0 <= low <= high <= 1, got low={low}, high={high}")
    probs, y_pred = split_outputs(probabilities)
    if probs is None:
        raise ValueError("confidence_buckets needs probabilities, got integer class labels")
    y_true = as_labels(y_true, len(probs), source="probabilities")
    confidence = probs.max(axis=1)
    correct = y_pred == y_true
    masks = [
        ("high", f"> {high:.2f}", confidence > high),
        ("medium", f"{low:.2f}-{high:.2f}", (confidence >= low) & (confidence <= high)),
        ("low", f"< {low:.2f}", confidence < low),
    ]
    buckets = tuple(
        ConfidenceBucket(name, text, int(m.sum()), float(m.mean()), _mean(correct[m]))
        for name, text, m in masks
    )
    return ConfidenceAnalysis(
        buckets=buckets,
        mean=float(confidence.mean()),
        std=float(confidence.std()),
        min=float(confidence.min()),
        max=float(confidence.max()),
        mean_correct=_mean(confidence[correct]),
        mean_incorrect=_mean(confidence[~correct]),
    )


def _mean(values: np.ndarray) -> float:
    """The mean, or NaN (not a warning) for no values."""
    return float(values.mean()) if len(values) else math.nan


def confidence_text(analysis: ConfidenceAnalysis) -> str:
    """The analysis as lines of text, for ``ClassificationReport.summary``."""
    lines = [
        "Confidence (max class probability):",
        f"  mean {analysis.mean:.4f}  std {analysis.std:.4f}  "
        f"min {analysis.min:.4f}  max {analysis.max:.4f}",
        f"  mean when correct {analysis.mean_correct:.4f}, "
        f"when wrong {analysis.mean_incorrect:.4f}",
        f"  {'bucket':8}{'range':>12}{'count':>8}{'fraction':>10}{'accuracy':>10}",
    ]
    for b in analysis.buckets:
        accuracy = "-" if b.count == 0 else f"{b.accuracy:.4f}"
        lines.append(
            f"  {b.name:8}{b.description:>12}{b.count:>8}{b.fraction:>10.4f}{accuracy:>10}"
        )
    return "\n".join(lines)
