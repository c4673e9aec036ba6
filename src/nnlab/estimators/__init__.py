"""scikit-learn estimators over nnlab: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

Each wraps a ``Sequential`` of ``layers.Dense`` (and ``layers.Dropout``) built in ``fit`` from
the data, so they work wherever scikit-learn estimators do: ``Pipeline``, ``GridSearchCV``,
``cross_val_score``, ``clone`` and pickling. They pass scikit-learn's ``check_estimator``
(one documented expected failure, see ``NeuralNetClassifier``).

scikit-learn is imported here, not by ``import nnlab``; this package needs scikit-learn >= 1.6
(``validate_data`` and ``__sklearn_tags__``).

The package: ``fit_data`` (random state, sample weights, validation split), ``base`` (the
shared ``BaseNeuralNet``), ``classifier`` and ``regressor``, each importing only the ones
before it.
"""

from nnlab.estimators.classifier import NeuralNetClassifier
from nnlab.estimators.regressor import NeuralNetRegressor

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]
