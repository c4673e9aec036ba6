"""What the two estimators share: their hyperparameters, training, prediction and pickling.

scikit-learn is imported here, not by ``import nnlab``; this package needs scikit-learn >= 1.6
(``validate_data`` and ``__sklearn_tags__``).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from nnlab import backend, layers, optim, regularizers
from nnlab.estimators.fit_data import (
    checked_sample_weight,
    generator_from,
    normalised,
    train_validation_split,
)
from nnlab.nn.module import registered
from nnlab.training import Sequential
from nnlab.training.callbacks import EarlyStopping

# scikit-learn's activation names that nnlab spells differently.
_ACTIVATION_ALIASES = {"logistic": "sigmoid", "identity": "linear"}

# Rows per forward pass at prediction time: big enough to amortise Python overhead.
_PREDICT_BATCH = 1024


class BaseNeuralNet(BaseEstimator):
    """Shared hyperparameters, training and pickling of the two estimators.

    Args:
        hidden_layer_sizes: units of each hidden Dense layer, e.g. ``(100,)`` or ``(64, 32)``;
            an int is one layer; ``()`` gives a linear / logistic model.
        activation: activation of the hidden layers: an nnlab name ('relu', 'tanh', 'gelu',
            ...) or scikit-learn's 'logistic' and 'identity'.
        optimizer: an optimizer name ('adam', 'sgd', 'momentum', 'rmsprop', 'adagrad', 'adamw',
            'nadam') or an ``nnlab.optim.Optimizer`` subclass.
        learning_rate: the optimizer's learning rate.
        epochs: passes over the training data (fewer when early stopping stops training).
        batch_size: samples per update, or 'auto' for ``min(200, n_samples)`` as scikit-learn.
        alpha: L2 penalty ``alpha * sum(W**2)`` on every kernel, added to each batch's loss
            (Keras's ``kernel_regularizer=L2(alpha)``).
        dropout: rate of a Dropout layer after every hidden layer (0 adds none).
        early_stopping: hold out ``validation_fraction`` of the data (stratified for the
            classifier) and stop when the validation loss has not improved for ``patience``
            epochs, restoring the weights of the best epoch.
        validation_fraction: fraction held out when ``early_stopping``.
        patience: epochs without improvement of the validation loss before stopping
            (scikit-learn's ``n_iter_no_change``).
        shuffle: reshuffle the training data every epoch.
        random_state: None, an int, a ``numpy.random.RandomState`` or a
            ``numpy.random.Generator``; seeds weight initialisation, dropout, shuffling and
            the validation split. The same int gives the same fitted model (same machine and
            thread count).
        verbose: 0 silent, 1 progress bar, 2 one line per epoch.

    Sample weights are normalised to mean 1 over the training set, so each batch's loss is a
    weighted mean and a weight of 2 acts like repeating the sample (up to batching).
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        optimizer="adam",
        learning_rate=0.001,
        epochs=200,
        batch_size=32,
        alpha=0.0,
        dropout=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        shuffle=True,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose

    # ---- what the subclasses define ---------------------------------------------------------
    def _output_units(self) -> int:
        raise NotImplementedError

    def _loss(self):
        raise NotImplementedError

    # ---- fitting ----------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, stratify):
        """Train a new network on validated ``X`` and encoded targets ``y`` (both in the
        default float dtype, float32 unless changed; class indices stay integers)."""
        self._check_hyperparameters()
        weights = checked_sample_weight(sample_weight, len(X))
        rng = generator_from(self.random_state)
        train, val = (X, y, weights), None
        if self.early_stopping:
            train, val = train_validation_split(train, self.validation_fraction, stratify, rng)
        train = train[:2] + (normalised(train[2]),)
        val = None if val is None else val[:2] + (normalised(val[2]),)
        self.model_ = self._build_model(X.shape[1], rng)
        callbacks = []
        if self.early_stopping:
            callbacks.append(
                EarlyStopping(
                    monitor="val_loss",
                    patience=self.patience,
                    restore_best_weights=True,
                    verbose=int(bool(self.verbose)),
                )
            )
        n_train = len(train[0])
        batch_size = min(200, n_train) if self.batch_size == "auto" else int(self.batch_size)
        history = self.model_.fit(
            train[0],
            train[1],
            batch_size=batch_size,
            epochs=int(self.epochs),
            verbose=self.verbose,
            callbacks=callbacks,
            validation_data=val,
            shuffle=self.shuffle,
            sample_weight=train[2],
        )
        self.history_ = {key: list(values) for key, values in history.history.items()}
        self.loss_curve_ = self.history_["loss"]
        self.val_loss_curve_ = self.history_.get("val_loss")
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _build_model(self, n_features: int, rng) -> Sequential:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
        activation = _ACTIVATION_ALIASES.get(self.activation, self.activation)
        regularizer = regularizers.L2(self.alpha) if self.alpha else None
        stack = []
        for i, units in enumerate(sizes):
            stack.append(
                layers.Dense(
                    int(units),
                    activation=activation,
                    kernel_regularizer=regularizer,
                    name=f"hidden_{i}",
                    rng=rng,
                )
            )
            if self.dropout:
                stack.append(layers.Dropout(self.dropout, name=f"dropout_{i}", rng=rng))
        stack.append(
            layers.Dense(
                self._output_units(), kernel_regularizer=regularizer, name="output", rng=rng
            )
        )
        model = Sequential(stack, input_shape=(n_features,), name=type(self).__name__, seed=rng)
        return self._compile(model)

    def _compile(self, model: Sequential) -> Sequential:
        model.compile(optimizer=self._make_optimizer(), loss=self._loss())
        return model

    def _make_optimizer(self):
        spec = self.optimizer
        if not isinstance(spec, str) and not (
            isinstance(spec, type) and issubclass(spec, optim.Optimizer)
        ):
            raise ValueError(
                f"optimizer must be an optimizer name such as 'adam' or an nnlab Optimizer "
                f"class, got {spec!r}; the estimator makes a fresh optimizer at every fit"
            )
        return optim.get(spec, lr=float(self.learning_rate))

    def _check_hyperparameters(self) -> None:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = (None,)
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a positive int or a sequence of positive ints, "
                f"got {self.hidden_layer_sizes!r}"
            )
        if not isinstance(self.activation, str):
            raise ValueError(
                f"activation must be an activation name such as 'relu', got {self.activation!r}"
            )
        _check_number("learning_rate", self.learning_rate, low=0.0, low_open=True)
        _check_number("alpha", self.alpha, low=0.0)
        _check_number("dropout", self.dropout, low=0.0, high=1.0)
        _check_number(
            "validation_fraction", self.validation_fraction, low=0.0, high=1.0, low_open=True
        )
        _check_int("epochs", self.epochs, low=1)
        _check_int("patience", self.patience, low=0)
        if self.batch_size != "auto":
            _check_int("batch_size", self.batch_size, low=1, extra="or 'auto'")

    # ---- predicting -------------------------------------------------------------------------
    def _forward(self, X) -> np.ndarray:
        """The network's outputs for ``X`` after the fitted-and-valid checks scikit-learn
        expects, in this order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=backend.default_dtype())
        return self.model_.predict(X, batch_size=_PREDICT_BATCH)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags

    # ---- pickling ---------------------------------------------------------------------------
    def __getstate__(self):
        """Pickle the network as its layer config and weights (plain dicts and arrays), not
        as live objects; the optimizer state is not kept."""
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        if "model_" in state:
            state["model_"] = {
                "config": self.model_.get_config(),
                "weights": self.model_.state_dict(),
            }
        return state

    def __setstate__(self, state):
        saved = state.get("model_")
        if isinstance(saved, dict):
            state = {**state, "model_": _rebuild(saved["config"], saved["weights"])}
        super().__setstate__(state)
        if isinstance(saved, dict):
            self._compile(self.model_)


# ---- helpers --------------------------------------------------------------------------------
def _rebuild(config: dict, weights: dict) -> Sequential:
    """A Sequential from its config with ``weights`` loaded. Layers get a private Generator
    for the throw-away initial values, so unpickling never advances nnlab's library one."""
    rng = np.random.default_rng(0)
    stack = [
        registered(item["class_name"]).from_config({**item["config"], "rng": rng})
        for item in config["layers"]
    ]
    model = Sequential(stack, input_shape=config["input_shape"], name=config["name"], seed=rng)
    model.load_state_dict(weights)
    return model


def _check_number(name, value, low=None, high=None, low_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high
    if not ok:
        bounds = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")


def _check_int(name, value, low, extra=""):
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low):
        suffix = f" {extra}" if extra else ""
        raise ValueError(f"{name} must be an int >= {low}{suffix}, got {value!r}")
