"""Per-class weights turned into per-sample weights, as Keras's ``fit(class_weight=...)``."""

import numpy as np

from nnlab import backend
from nnlab.losses.functions import as_array

# ---- class weights --------------------------------------------------------------------------


def _class_labels(y):
    """Integer class per sample from labels (N,) / (N, 1) or one-hot / probability rows (N, C)."""
    y = as_array(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if y.ndim == 2:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"class weights need labels of shape (N,), (N, 1) or one-hot (N, C); got {y.shape}"
        )
    return np.round(y).astype(np.int64) if y.dtype.kind == "f" else y.astype(np.int64)


def class_weight_to_sample_weight(y, class_weight):
    """Per-sample weights from per-class weights, as Keras's ``fit(class_weight=...)``.

    Args:
        y: integer labels (N,) or (N, 1) (binary 0./1. floats are rounded), or one-hot /
            probability rows (N, C) (the argmax is the class).
        class_weight: a dict {class: weight} (classes missing from it weigh 1, as Keras), or
            'balanced': n_samples / (n_classes * count of the class), over the classes present
            (scikit-learn's ``compute_class_weight``).
    Returns: an (N,) array of the default float dtype.
    """
    labels = _class_labels(y)
    dtype = backend.default_dtype()
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be a dict {{class: weight}} or 'balanced'; got {class_weight!r}"
            )
        classes, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
        return (len(labels) / (len(classes) * counts)).astype(dtype)[index]
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"class_weight must be a dict {{class: weight}} or 'balanced'; got "
            f"{type(class_weight).__name__}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(f"class labels must be non-negative; got {labels.min()}")
    for key in class_weight:
        if not isinstance(key, int | np.integer) or key < 0:
            raise ValueError(f"class_weight keys must be non-negative integers; got {key!r}")
    size = max([int(labels.max()) + 1 if labels.size else 0, *(int(k) + 1 for k in class_weight)])
    table = np.ones(size, dtype)
    for key, weight in class_weight.items():
        table[int(key)] = weight
    return table[labels]
