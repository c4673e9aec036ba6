"""Keras-style Loss classes: weight per-sample losses by ``sample_weight`` and reduce them
('sum_over_batch_size', 'sum' or 'none'); ``get`` resolves names, and ``serialize`` /
``deserialize`` go through a closed table of known classes."""

import numpy as np

from nnlab.losses.functions import (
    as_array,
    as_tensor,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    hinge,
    huber,
    kl_divergence,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from nnlab.ops import loss as lo

# ---- Loss classes ---------------------------------------------------------------------------

LOSS_REDUCTIONS = ("sum_over_batch_size", "sum", "none")


def _sample_weighted(losses, sample_weight):
    """losses * sample_weight, the weight aligned to the losses' rank as Keras does."""
    weight = as_array(sample_weight).astype(losses.dtype, copy=False)
    while weight.ndim > losses.ndim and weight.shape[-1] == 1:
        weight = weight[..., 0]
    weight = weight.reshape(weight.shape + (1,) * (losses.ndim - weight.ndim))
    try:
        fits = np.broadcast_shapes(weight.shape, losses.shape) == losses.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"sample_weight of shape {as_array(sample_weight).shape} does not match the "
            f"per-sample losses of shape {losses.shape}"
        )
    return losses * weight


class Loss:
    """Base of the Keras-style losses: per-sample losses from ``call``, then weights and a
    reduction.

    Args:
        reduction: 'sum_over_batch_size' (default: the sum of the weighted per-sample losses
            divided by their number), 'sum', or 'none' / None (the weighted losses).
        name: a name for logs; defaults to the Keras name.
    """

    def __init__(self, reduction="sum_over_batch_size", name=None):
        reduction = "none" if reduction is None else reduction
        lo.check_reduction(type(self).__name__, reduction, LOSS_REDUCTIONS)
        self.reduction = reduction
        self.name = name or type(self).__name__

    def call(self, y_true, y_pred):
        """Per-sample losses; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define call()")

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss. ``sample_weight`` (N,) multiplies each sample's loss."""
        losses = self.call(y_true, y_pred)
        if sample_weight is not None:
            losses = _sample_weighted(losses, sample_weight)
        if self.reduction == "sum":
            return losses.sum()
        if self.reduction == "sum_over_batch_size":
            return losses.mean()
        return losses

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A Loss over a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    ``get`` wraps custom callables in it; a wrapped custom function cannot be saved in a
    config (only the built-in losses can).
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"))
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        # A custom function gets y_true as a constant of y_pred's float dtype, so that mixing
        # a float64 target into float32 predictions cannot promote the loss to float64.
        y_pred, y_true = as_tensor(y_pred), as_array(y_true)
        if y_true.dtype.kind == "f":
            y_true = y_true.astype(y_pred.dtype, copy=False)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict:
        config = {**super().get_config(), **self.fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        return config

    @classmethod
    def from_config(cls, config: dict):
        if cls is not LossFunctionWrapper:
            return cls(**config)
        config = dict(config)
        fn = _FUNCTIONS.get(config.pop("fn", None))
        if fn is None:
            raise ValueError(
                "cannot rebuild a loss that wraps a custom function from its config; "
                "subclass Loss and give it get_config() instead"
            )
        return cls(fn, **config)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis, then reduced (see ``mean_squared_error``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, reduction, name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction, name)


class Huber(LossFunctionWrapper):
    """Huber loss (quadratic within ``delta``, linear beyond), see ``huber``."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(huber, reduction, name, delta=delta)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy on probabilities or logits, see ``binary_crossentropy``."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
    ):
        kwargs = dict(from_logits=from_logits, label_smoothing=label_smoothing)
        super().__init__(binary_crossentropy, reduction, name, **kwargs)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy against one-hot targets or integer labels, see
    ``categorical_crossentropy``."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
    ):
        kwargs = dict(from_logits=from_logits, label_smoothing=label_smoothing)
        super().__init__(categorical_crossentropy, reduction, name, **kwargs)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy against integer labels, see ``sparse_categorical_crossentropy``."""

    def __init__(
        self,
        from_logits=False,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
    ):
        super().__init__(sparse_categorical_crossentropy, reduction, name, from_logits=from_logits)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal loss, see ``binary_focal_crossentropy``."""

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
    ):
        kwargs = dict(
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        super().__init__(binary_focal_crossentropy, reduction, name, **kwargs)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal loss, see ``categorical_focal_crossentropy``."""

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
    ):
        kwargs = dict(
            alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing
        )
        super().__init__(categorical_focal_crossentropy, reduction, name, **kwargs)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence, see ``kl_divergence``."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence"):
        super().__init__(kl_divergence, reduction, name)


class Hinge(LossFunctionWrapper):
    """Hinge loss, see ``hinge``."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge"):
        super().__init__(hinge, reduction, name)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss, see ``squared_hinge``."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge"):
        super().__init__(squared_hinge, reduction, name)


# ---- lookup and serialisation ---------------------------------------------------------------

_FUNCTIONS = {
    f.__name__: f
    for f in (
        mean_squared_error,
        mean_absolute_error,
        huber,
        binary_crossentropy,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
        binary_focal_crossentropy,
        categorical_focal_crossentropy,
        kl_divergence,
        hinge,
        squared_hinge,
    )
}

_CLASSES = {
    cls.__name__: cls
    for cls in (
        LossFunctionWrapper,
        MeanSquaredError,
        MeanAbsoluteError,
        Huber,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        BinaryFocalCrossentropy,
        CategoricalFocalCrossentropy,
        KLDivergence,
        Hinge,
        SquaredHinge,
    )
}

# Keras's function names and short aliases -> the class that wraps them.
_NAMES = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "focal": BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
}


def get(identifier):
    """Resolve a loss: a name ('mse', 'categorical_crossentropy', 'MeanSquaredError', ...), a
    Loss instance or class, a per-sample callable (wrapped), or a ``serialize`` dict.

    Returns a Loss instance (None for None), so callers can always write
    ``loss(y_true, y_pred, sample_weight)`` and get a reduced value.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier) or _NAMES.get(identifier.lower())
        if cls is None or cls is LossFunctionWrapper:
            raise ValueError(
                f"unknown loss {identifier!r}; known losses: {', '.join(sorted(_NAMES))} "
                f"(or a class name: {', '.join(sorted(_CLASSES))})"
            )
        return cls()
    if callable(identifier):
        named = _NAMES.get(getattr(identifier, "__name__", ""))
        if named is not None and _FUNCTIONS.get(identifier.__name__) is identifier:
            return named()
        return LossFunctionWrapper(identifier)
    raise TypeError(
        f"cannot interpret {identifier!r} as a loss: expected a name, a Loss, a callable "
        "or a config dict"
    )


def serialize(loss: Loss) -> dict:
    """{'class_name': ..., 'config': ...}: JSON-ready, rebuilt by ``deserialize``."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict) -> Loss:
    """Rebuild a loss from ``serialize``'s dict; only the built-in classes are known."""
    name = config.get("class_name")
    cls = _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown loss class {name!r} in config; known: {sorted(_CLASSES)}")
    return cls.from_config(config.get("config", {}))
