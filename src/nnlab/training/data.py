"""Turning user arrays into training batches: dtype conversion, the validation split, sample
weights from class weights, shuffled mini-batches, and batch-size-weighted running means."""

import numpy as np

from nnlab.autograd.tensor import Tensor
from nnlab.backend import default_dtype
from nnlab.losses import class_weight_to_sample_weight


def as_input(x, dtype) -> np.ndarray:
    """``x`` as an array: floats in the model's dtype, integers (token ids) kept as integers."""
    if isinstance(x, Tensor):
        x = x.data
    array = np.asarray(x)
    if array.dtype.kind in "iub":
        return array
    if array.dtype.kind != "f":
        if array.dtype == object and array.ndim == 0 and hasattr(x, "__next__"):
            raise TypeError(
                "fit takes arrays, or a re-iterable batch source with a length (such as "
                "ImageAugmenter.flow or nnlab.data.DataLoader); a generator has neither: "
                "make a list of its (x, y) batches, or train with train_on_batch(x, y)"
            )
        raise TypeError(f"model inputs must be numeric arrays, got dtype {array.dtype}")
    return array.astype(dtype, copy=False)


def as_target(y) -> np.ndarray | None:
    if y is None:
        return None
    return np.asarray(y.data if isinstance(y, Tensor) else y)


def check_lengths(**arrays) -> int:
    """The common number of samples; a clear error naming the arrays that disagree."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"inputs must have the same number of samples: {detail}")
    if not lengths or 0 in lengths.values():
        raise ValueError("no samples to train on: x is empty")
    return next(iter(lengths.values()))


def sample_weights(y, sample_weight=None, class_weight=None):
    """Per-sample weights from ``sample_weight`` and/or ``class_weight`` (multiplied), or None."""
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if class_weight is not None:
        if y is None:
            raise ValueError("class_weight needs targets y")
        from_classes = class_weight_to_sample_weight(y, class_weight)
        weights = from_classes if weights is None else weights * from_classes
    return weights


def split_validation(arrays: tuple, fraction: float):
    """Split off the LAST ``fraction`` of every array (before any shuffling), as Keras does."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {fraction}")
    n = len(arrays[0])
    n_val = int(round(n * fraction))
    if fraction and (n_val == 0 or n_val == n):
        raise ValueError(
            f"validation_split={fraction} of {n} samples leaves an empty training or "
            "validation set; use more data or another fraction"
        )
    cut = n - n_val
    train = tuple(None if a is None else a[:cut] for a in arrays)
    val = tuple(None if a is None else a[cut:] for a in arrays)
    return train, val


def is_batch_source(x) -> bool:
    """True for an object that yields whole batches (e.g. ``ImageAugmenter.flow``) rather
    than an array of samples."""
    return (
        hasattr(x, "__iter__")
        and hasattr(x, "__len__")
        and not hasattr(x, "shape")
        and (not isinstance(x, list | tuple))
    )


class ArrayBatches:
    """Mini-batches (x, y, sample_weight) of arrays, reshuffled every epoch when asked."""

    def __init__(self, arrays: tuple, batch_size: int, shuffle: bool, rng: np.random.Generator):
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.arrays, self.batch_size, self.shuffle, self.rng = arrays, batch_size, shuffle, rng
        self.n = len(arrays[0])

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for start in range(0, self.n, self.batch_size):
            index = order[start : start + self.batch_size]
            yield tuple(None if a is None else a[index] for a in self.arrays)


class SourceBatches:
    """A user's batch source, each batch normalised to (x, y, sample_weight) arrays."""

    def __init__(self, source, dtype, class_weight=None):
        if isinstance(class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs all labels up front; with a batch source pass "
                "a dict {class: weight}"
            )
        self.source, self.dtype, self.class_weight = source, dtype, class_weight

    def __len__(self) -> int:
        return len(self.source)

    def __iter__(self):
        for batch in self.source:
            if not isinstance(batch, tuple | list) or len(batch) not in (2, 3):
                raise ValueError(
                    f"a batch source must yield (x, y) or (x, y, sample_weight), got "
                    f"{type(batch).__name__}"
                )
            x, y, *rest = batch
            y = as_target(y)
            weights = sample_weights(y, rest[0] if rest else None, self.class_weight)
            yield as_input(x, self.dtype), y, weights


class RunningMeans:
    """Means of per-batch values, each batch weighted by its number of samples."""

    def __init__(self):
        self.totals, self.count = {}, 0

    def update(self, values: dict, n: int) -> None:
        for name, value in values.items():
            self.totals[name] = self.totals.get(name, 0.0) + float(value) * n
        self.count += n

    def result(self) -> dict:
        return {name: total / self.count for name, total in self.totals.items()}


def validation_tuple(validation_data) -> tuple:
    """``fit``'s ``validation_data`` checked and converted to (x, y, sample_weight or None)."""
    if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)")
    x, y, *rest = validation_data
    x, y = as_input(x, default_dtype()), as_target(y)
    weights = np.asarray(rest[0]) if rest and rest[0] is not None else None
    check_lengths(x_val=x, y_val=y, val_sample_weight=weights)
    return x, y, weights
