"""Shared input handling and the streaming Metric base classes (Metric, Mean, MeanMetricWrapper)."""

import numpy as np

from nnlab.autograd.tensor import Tensor


def as_array(y) -> np.ndarray:
    return y.data if isinstance(y, Tensor) else np.asarray(y)


def same_rank(y_true: np.ndarray, y_pred: np.ndarray):
    """Drop a trailing axis of size 1 from the higher-rank array, or add one to the lower, so
    (N,) targets pair with (N, 1) outputs (Keras's squeeze_or_expand_to_same_rank)."""
    if y_true.ndim == y_pred.ndim + 1:
        return (y_true[..., 0], y_pred) if y_true.shape[-1] == 1 else (y_true, y_pred[..., None])
    if y_pred.ndim == y_true.ndim + 1:
        return (y_true, y_pred[..., 0]) if y_pred.shape[-1] == 1 else (y_true[..., None], y_pred)
    return y_true, y_pred


def per_sample(values: np.ndarray) -> np.ndarray:
    """One value per sample: the mean over every axis but the first."""
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1).mean(axis=1) if values.ndim > 1 else values


def weights_like(sample_weight, shape: tuple) -> np.ndarray:
    """``sample_weight`` (N,), (N, 1), ... broadcast to ``shape``, as float64."""
    weight = np.asarray(as_array(sample_weight), dtype=np.float64)
    while weight.ndim > len(shape) and weight.shape[-1] == 1:
        weight = weight[..., 0]
    weight = weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim))
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {np.shape(as_array(sample_weight))} does not match the "
            f"metric values of shape {shape}; give one weight per sample"
        ) from None


def one_hot_if_sparse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Integer labels (N,) or (N, 1) against (N, k > 1) predictions become one-hot rows."""
    if y_pred.ndim >= 1 and y_pred.shape[-1] > 1:
        if y_true.ndim == y_pred.ndim - 1 or (y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1):
            labels = y_true.reshape(y_pred.shape[:-1]).astype(np.int64)
            return np.eye(y_pred.shape[-1], dtype=np.float64)[labels]
    return y_true


def divide(a, b):
    """a / b, 0 where b is 0 (Keras's divide_no_nan)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0)


# ---- the classes ----------------------------------------------------------------------------


class Metric:
    """Base of the streaming metrics.

    Subclasses define ``update_state``, ``result`` and ``reset_state``; calling a metric
    updates it and returns the result.

    Args:
        name: the name the metric logs under; defaults to the Keras name.
    """

    default_name = "metric"

    def __init__(self, name=None):
        self.name = name or self.default_name
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define update_state()")

    def result(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not define result()")

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define reset_state()")

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4f}>"


class Mean(Metric):
    """The (weighted) mean of every value given to ``update_state(values, sample_weight)``.

    Values with more than one axis are first averaged per sample (over all but the first
    axis); each sample then counts with its weight: ``sum(w_i * v_i) / sum(w_i)``.
    """

    default_name = "mean"

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        """Add ``values`` (a number or an array of per-sample values) to the mean.

        Args:
            values: numbers to average; an array's first axis is the batch.
            sample_weight: one weight per sample (None: all 1).
        """
        values = np.asarray(as_array(values), dtype=np.float64)
        if sample_weight is None:
            means = per_sample(values)
            self.total += float(means.sum())
            self.count += float(means.size)
            return
        weight = weights_like(sample_weight, values.shape)
        self.total += float(per_sample(values * weight).sum())
        self.count += float(per_sample(weight).sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)``, a function giving per-sample values.

    Args:
        fn: ``fn(y_true, y_pred) -> array of per-sample values``.
        name: the log name; defaults to ``fn.__name__``.
        **kwargs: passed to ``fn`` on every call (e.g. ``threshold``).
    """

    def __init__(self, fn, name=None, **kwargs):
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(
            self.fn(as_array(y_true), as_array(y_pred), **self.fn_kwargs), sample_weight
        )

    def get_config(self) -> dict:
        return {"name": self.name, **self.fn_kwargs}
