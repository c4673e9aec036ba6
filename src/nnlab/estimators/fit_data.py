"""The data of one fit: a single Generator from scikit-learn's ``random_state``, checked and
normalised sample weights, and the shuffled (stratified) train/validation split used for
early stopping."""

import numbers

import numpy as np
from sklearn.model_selection import train_test_split

from nnlab import backend


def generator_from(random_state) -> np.random.Generator:
    """One Generator for everything random in a fit, from scikit-learn's ``random_state``
    conventions (None: drawn from nnlab's library Generator, never NumPy's global state)."""
    if random_state is None:
        return np.random.default_rng(backend.get_generator().integers(2**63 - 1))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise ValueError(
        f"random_state must be None, an int, a numpy RandomState or Generator, got {random_state!r}"
    )


def checked_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    weights = np.array(sample_weight, dtype=np.float64)  # a copy: the caller's stays intact
    if weights.ndim == 0:
        weights = np.full(n, float(weights))
    if weights.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},) to match the {n} samples, got {weights.shape}"
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if not weights.sum() > 0:
        raise ValueError("sample_weight sums to zero: no sample would be trained on")
    return weights


def normalised(weights):
    """Weights scaled to mean 1, so each batch's loss is a weighted mean over samples."""
    if weights is None:
        return None
    total = weights.sum()
    if not total > 0:
        raise ValueError(
            "sample_weight is zero on every sample of the training or validation split; "
            "give weight to more samples or disable early_stopping"
        )
    return (weights * (len(weights) / total)).astype(backend.default_dtype())


def train_validation_split(arrays, fraction, stratify, rng):
    """Shuffled train/validation split (stratified when possible), unlike Keras's
    ``validation_split``, which takes the last rows and so breaks on sorted data."""
    seed = int(rng.integers(np.iinfo(np.int32).max))
    present = [a for a in arrays if a is not None]
    try:
        parts = train_test_split(*present, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError:
        if stratify is None:
            raise
        parts = train_test_split(*present, test_size=fraction, random_state=seed)
    train, val, it = [], [], iter(range(0, len(parts), 2))
    for a in arrays:
        if a is None:
            train.append(None)
            val.append(None)
        else:
            i = next(it)
            train.append(parts[i])
            val.append(parts[i + 1])
    return tuple(train), tuple(val)
