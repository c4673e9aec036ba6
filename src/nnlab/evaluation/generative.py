"""Judging generated digits with a classifier trained separately on real ones.

A generator of 8x8 digits is good when a classifier that never saw its samples recognises
them: ``judge_samples`` reports how many of the 10 classes the samples cover (distinct
predicted classes), how confident the classifier is (mean of its largest class probability)
and the histogram of predicted classes. A generator that collapses onto a few modes covers
few classes; one that draws smudges gets low confidence.

``DigitsJudge`` is that classifier: scikit-learn's logistic regression (or a small MLP) on
the training split of ``nnlab.data.load_digits_images``, pixels / 16 in [0, 1], the scaling
every generator in nnlab's generative experiment works in. scikit-learn is imported inside
the functions that use it, so ``import nnlab`` stays fast.
"""

from dataclasses import dataclass

import numpy as np

N_CLASSES = 10
IMAGE_SIZE = 64  # 8x8 pixels
CLASSIFIERS = ("logistic", "mlp")


@dataclass
class SampleJudgement:
    """What a classifier makes of a batch of generated samples.

    Attributes:
        predicted: (N,) predicted class of each sample.
        confidence: (N,) the classifier's largest class probability for each sample.
        histogram: (n_classes,) how many samples fall in each predicted class.
    """

    predicted: np.ndarray
    confidence: np.ndarray
    histogram: np.ndarray

    @property
    def n_samples(self) -> int:
        return len(self.predicted)

    @property
    def classes_covered(self) -> int:
        """Number of distinct predicted classes."""
        return int(np.count_nonzero(self.histogram))

    @property
    def mean_confidence(self) -> float:
        return float(np.mean(self.confidence))

    def passes(self, min_classes: int, min_confidence: float) -> bool:
        """At least ``min_classes`` classes covered and mean confidence >= ``min_confidence``."""
        return self.classes_covered >= min_classes and self.mean_confidence >= min_confidence

    def as_dict(self) -> dict:
        return {
            "n_samples": self.n_samples,
            "classes_covered": self.classes_covered,
            "mean_confidence": self.mean_confidence,
            "histogram": self.histogram.tolist(),
        }

    def __str__(self) -> str:
        counts = " ".join(f"{c}:{n}" for c, n in enumerate(self.histogram))
        return (
            f"{self.n_samples} samples: {self.classes_covered} classes covered, mean "
            f"confidence {self.mean_confidence:.3f}; per class {counts}"
        )


def judge_probabilities(probabilities, n_classes: int = N_CLASSES) -> SampleJudgement:
    """Coverage, confidence and class histogram from (N, n_classes) class probabilities."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != n_classes or len(p) == 0:
        raise ValueError(
            f"expected class probabilities of shape (N, {n_classes}) with N >= 1, got {p.shape}"
        )
    predicted = p.argmax(axis=1)
    return SampleJudgement(
        predicted=predicted,
        confidence=p.max(axis=1),
        histogram=np.bincount(predicted, minlength=n_classes),
    )


def as_digit_rows(samples) -> np.ndarray:
    """Samples (N, 64), (N, 8, 8) or (N, 1, 8, 8) in [0, 1] as (N, 64) float64 rows.

    Values are clipped to [0, 1] (a Gaussian decoder's means may stray a little outside);
    NaN or inf is an error, since a generator that produced it has diverged.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim < 2 or x[0].size != IMAGE_SIZE:
        raise ValueError(
            f"expected 8x8 digit samples shaped (N, 64), (N, 8, 8) or (N, 1, 8, 8), got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"samples hold {np.count_nonzero(~np.isfinite(x))} NaN/inf values")
    return np.clip(x.reshape(len(x), IMAGE_SIZE), 0.0, 1.0)


class DigitsJudge:
    """A digits classifier trained on real 8x8 digits (pixels / 16), used to judge samples.

    Args:
        classifier: 'logistic' (scikit-learn LogisticRegression, C=1; the default: fast and
            not over-confident) or 'mlp' (MLPClassifier, one hidden layer of 128).
        seed: random_state of the classifier and of the train/test split.

    Attributes:
        test_accuracy: accuracy on the held-out 20% of real digits.
        real_judgement: the judgement of 100 real test digits, the reference a generator
            is measured against.
    """

    def __init__(self, classifier: str = "logistic", seed: int = 0):
        from nnlab.data import load_digits_images

        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
        x_train, x_test, y_train, y_test = load_digits_images(random_state=42)
        self.model = _make_classifier(classifier, seed)
        self.model.fit(as_digit_rows(x_train), y_train)
        self.test_accuracy = float(np.mean(self.predict(x_test) == y_test))
        self.real_judgement = self.judge(x_test[:100])

    def predict_proba(self, samples) -> np.ndarray:
        """(N, 10) class probabilities of samples in any of ``as_digit_rows``' layouts."""
        return self.model.predict_proba(as_digit_rows(samples))

    def predict(self, samples) -> np.ndarray:
        return self.predict_proba(samples).argmax(axis=1)

    def judge(self, samples) -> SampleJudgement:
        """Coverage, confidence and class histogram of ``samples``."""
        return judge_probabilities(self.predict_proba(samples))


def _make_classifier(kind: str, seed: int):
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(128,), max_iter=500, random_state=seed)
