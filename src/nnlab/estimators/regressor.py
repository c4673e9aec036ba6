"""``NeuralNetRegressor``: a multi-layer perceptron regressor as a scikit-learn estimator."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from nnlab import backend, losses
from nnlab.estimators.base import BaseNeuralNet


class NeuralNetRegressor(RegressorMixin, BaseNeuralNet):
    """A multi-layer perceptron regressor trained with nnlab (a scikit-learn estimator).

    A linear output layer with one unit per target, trained with mean squared error. Targets
    of shape (n_samples,) give predictions of that shape, (n_samples, n_targets) of that one.
    Targets are not rescaled: standardise large targets (e.g. ``TransformedTargetRegressor``
    with a ``StandardScaler``) as for any neural network.

    Args: see ``BaseNeuralNet`` (the hyperparameters are shared with the classifier).

    Attributes:
        n_outputs_: number of targets.
        model_, history_, loss_curve_, val_loss_curve_, n_iter_, n_features_in_,
        feature_names_in_: as ``NeuralNetClassifier``.

    Estimator checks: as ``NeuralNetClassifier`` (one expected failure,
    ``check_sample_weight_equivalence_on_dense_data``, for float32 rounding only).
    """

    def fit(self, X, y, sample_weight=None):
        """Train a new network on ``X`` (n_samples, n_features) and targets ``y``."""
        X, y = validate_data(
            self, X, y, dtype=backend.default_dtype(), multi_output=True, y_numeric=True
        )
        y = np.asarray(y, dtype=backend.default_dtype())
        self._y_ndim = y.ndim
        targets = y[:, None] if y.ndim == 1 else y
        self.n_outputs_ = targets.shape[1]
        return self._fit(X, targets, sample_weight, stratify=None)

    def _output_units(self) -> int:
        return self.n_outputs_

    def _loss(self):
        return losses.MeanSquaredError()

    def predict(self, X) -> np.ndarray:
        """Predicted targets, (n_samples,) or (n_samples, n_targets) as ``y`` was in fit."""
        out = self._forward(X).astype(np.float64)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
