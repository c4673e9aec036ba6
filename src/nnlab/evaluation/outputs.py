"""A model's outputs: calling anything that predicts, batch by batch, and reading a
classifier's outputs as class probabilities and labels.

A "model" here is anything that predicts: an object with ``predict_proba(X)`` (preferred for
classifiers), one with ``predict(X)``, or a plain callable ``f(X)``. Classifier outputs may be
(N, C) class probabilities, (N,) or (N, 1) positive-class probabilities (one sigmoid output),
or integer class labels.
"""

import numpy as np

from nnlab.autograd import no_grad

# Probabilities computed in float32 can stray from [0, 1] and from a row sum of 1 by rounding.
_PROB_ATOL = 1e-3


def predict_outputs(model, X, batch_size: int = 256, prefer: str = "predict_proba") -> np.ndarray:
    """The raw outputs of ``model`` on ``X``, computed ``batch_size`` samples at a time.

    Args:
        model: an object with ``predict_proba`` and/or ``predict``, or a plain callable.
        X: inputs, first axis the samples.
        batch_size: samples per call, so that large inputs fit in memory.
        prefer: 'predict_proba' (classifiers) or 'predict' (regressors): the method tried first.

    Returns:
        One array, the batches' outputs concatenated along the first axis.
    """
    predict = _predict_function(model, prefer)
    X = np.asarray(X)
    if len(X) == 0:
        raise ValueError("cannot evaluate a model on 0 samples: X is empty")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    # no_grad: a callable nnlab Module would otherwise record a graph it never needs
    with no_grad():
        outputs = [np.asarray(predict(X[i : i + batch_size])) for i in range(0, len(X), batch_size)]
    return np.concatenate(outputs)


def _predict_function(model, prefer: str):
    order = ("predict_proba", "predict") if prefer == "predict_proba" else ("predict",)
    for name in order:
        method = getattr(model, name, None)
        if callable(method):
            return method
    if callable(model):
        return model
    raise ValueError(
        f"cannot get predictions from a {type(model).__name__}: the model needs a "
        f"{' or '.join(order)} method, or must itself be a callable returning predictions"
    )


def split_outputs(outputs: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Class probabilities (or None) and predicted labels from a classifier's outputs.

    Args:
        outputs: (N, C) class probabilities; (N,) or (N, 1) positive-class probabilities;
            or integer class labels, (N,) or (N, 1).

    Returns:
        ``(probabilities, labels)``: probabilities (N, C), one positive-class column becoming
        the two columns [1 - p, p], so that max(p, 1 - p) is the confidence and p > 0.5 the
        prediction; None when the outputs are labels. Labels (N,) are the argmax. A float
        column of only 0s and 1s reads as probabilities 0 and 1: the same labels.
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1):
        column = outputs.reshape(-1)
        if _are_labels(column):
            return None, column.astype(np.int64)
        _check_probabilities(column)
        probabilities = np.stack([1 - column, column], axis=1)
    elif outputs.ndim == 2:
        if outputs.dtype.kind in "iub":
            outputs = outputs.astype(np.float64)  # one-hot integer rows are probabilities too
        _check_probabilities(outputs)
        if not np.allclose(outputs.sum(axis=1), 1, atol=_PROB_ATOL):
            raise ValueError(
                "model outputs are not probabilities: rows do not sum to 1 (logits?); "
                "apply softmax to the outputs, e.g. lambda X: F.softmax(module(X)).data"
            )
        probabilities = outputs
    else:
        raise ValueError(
            f"expected classifier outputs of shape (N, C) or (N,), got {outputs.shape}"
        )
    return probabilities, probabilities.argmax(axis=1)


def _are_labels(column: np.ndarray) -> bool:
    """Integer dtype, or floats that are whole numbers not all in {0, 1} (e.g. 2.0)."""
    if column.dtype.kind in "iub":
        return True
    whole = np.all(np.isfinite(column)) and np.all(column == np.round(column))
    return bool(whole and column.max() > 1)


def _check_probabilities(values: np.ndarray) -> None:
    if values.dtype.kind != "f" or values.min() < -_PROB_ATOL or values.max() > 1 + _PROB_ATOL:
        raise ValueError(
            f"model outputs are not probabilities: values range over "
            f"[{values.min():.4g}, {values.max():.4g}], expected [0, 1]; apply sigmoid/softmax "
            f"to logits first"
        )


def as_labels(y, n_samples: int, source: str = "X") -> np.ndarray:
    """Integer class labels from labels or one-hot rows, checked against the sample count."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)  # one-hot
    y = y.reshape(-1) if y.ndim == 2 else y
    if y.ndim != 1 or len(y) != n_samples:
        raise ValueError(
            f"{source} has {n_samples} samples but y has shape {y.shape}: "
            f"expected {n_samples} labels"
        )
    if n_samples == 0:
        raise ValueError("cannot evaluate a model on 0 samples: X and y are empty")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError("y must hold integer class labels (or one-hot rows), got fractions")
    if y.dtype.kind not in "iubf" or y.min() < 0:
        raise ValueError("y must hold class indices 0..C-1 (or one-hot rows)")
    return y.astype(np.int64)
