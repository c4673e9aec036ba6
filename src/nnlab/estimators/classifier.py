"""``NeuralNetClassifier``: a multi-layer perceptron classifier as a scikit-learn estimator."""

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from nnlab import backend, losses
from nnlab.estimators.base import BaseNeuralNet


class NeuralNetClassifier(ClassifierMixin, BaseNeuralNet):
    """A multi-layer perceptron classifier trained with nnlab (a scikit-learn estimator).

    Two classes give one output unit trained with binary cross-entropy on its logit; more
    classes give a softmax output trained with sparse categorical cross-entropy (both fused
    with their sigmoid / softmax for stability; ``predict_proba`` applies it). Labels may be
    any values ``np.unique`` sorts (ints, strings); they are encoded with ``LabelEncoder``.

    Args: see ``BaseNeuralNet`` (the hyperparameters are shared with the regressor).

    Attributes:
        classes_: the class labels, sorted; ``predict_proba`` columns follow this order.
        model_: the trained ``nnlab.training.Sequential`` (output layer: logits).
        history_: ``History.history`` of the training run: 'loss', 'val_loss', ...
        loss_curve_: training loss per epoch; ``val_loss_curve_`` the validation loss (None
            without early stopping).
        n_iter_: epochs run.
        n_features_in_, feature_names_in_: as every scikit-learn estimator.

    Estimator checks (scikit-learn 1.9): every check of ``check_estimator`` passes but one,
    an expected failure:

    - ``check_sample_weight_equivalence_on_dense_data``: training runs in float32, so a fit
      with ``sample_weight=k`` and one with the rows repeated k times agree only to float32
      rounding (~2e-7 relative), above the check's ``rtol=1e-7``. In float64
      (``nnlab.set_default_dtype('float64')``) it passes: the weighting itself is exact.
    """

    def fit(self, X, y, sample_weight=None):
        """Train a new network on ``X`` (n_samples, n_features) and labels ``y``."""
        X, y = validate_data(self, X, y, dtype=backend.default_dtype())
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data "
                f"contains only one class: {self.classes_.tolist()[0]!r}"
            )
        codes = encoder.transform(y)
        dtype = backend.default_dtype()
        targets = codes.astype(dtype)[:, None] if self._binary else codes.astype(np.int64)
        return self._fit(X, targets, sample_weight, stratify=codes)

    @property
    def _binary(self) -> bool:
        return len(self.classes_) == 2

    def _output_units(self) -> int:
        return 1 if self._binary else len(self.classes_)

    def _loss(self):
        if self._binary:
            return losses.BinaryCrossentropy(from_logits=True)
        return losses.SparseCategoricalCrossentropy(from_logits=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in ``classes_`` order."""
        logits = self._forward(X).astype(np.float64)
        if logits.shape[1] == 1:
            positive = expit(logits[:, 0])
            return np.column_stack([1.0 - positive, positive])
        return softmax(logits, axis=1)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample, as a label from ``classes_``."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]
