"""Keras-style weight regularizers: callables turning a weight Tensor into a scalar penalty.

The penalty is built from Tensor operations, so adding it to the loss puts its gradient into
the weight's ``.grad`` during ``backward()``. Formulas follow Keras (no 1/2 on the L2 term):

    L1(l1)(w)      = l1 * sum(|w|)
    L2(l2)(w)      = l2 * sum(w^2)          gradient 2 * l2 * w
    L1L2(l1, l2)(w) = l1 * sum(|w|) + l2 * sum(w^2)
"""

import math

from nnlab.autograd.tensor import Tensor


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar Tensor`` and ``get_config()``."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} does not define get_config()")

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``; a zero coefficient drops its term.

    Args:
        l1: the L1 coefficient (>= 0).
        l2: the L2 coefficient (>= 0).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _coefficient("l1", l1)
        self.l2 = _coefficient("l2", l2)

    def __call__(self, x: Tensor) -> Tensor:
        penalty = None
        if self.l1:
            penalty = self.l1 * x.abs().sum()
        if self.l2:
            term = self.l2 * (x * x).sum()
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else Tensor(0.0, dtype=x.dtype)

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w^2)`` (Keras: no factor 1/2, so the gradient is ``2 * l2 * w``)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


# Keras's lowercase spellings: keras.regularizers.l2(0.01)
l1 = L1
l2 = L2
l1_l2 = L1L2

_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}


def get(spec):
    """Resolve ``spec`` to a regularizer.

    Args:
        spec: None (returns None); a name (``'l1'``, ``'l2'``, ``'l1_l2'``, any case; default
            coefficients); a config dict ``{"class_name": "L2", "config": {"l2": 0.01}}``; a
            Regularizer or any other callable (returned as it is).
    """
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, str):
        return _lookup(spec)()
    if isinstance(spec, dict) and "class_name" in spec:
        return _lookup(spec["class_name"]).from_config(spec.get("config", {}))
    raise TypeError(
        f"could not interpret regularizer {spec!r} ({type(spec).__name__}); expected None, one of "
        f"{sorted(_NAMES)}, a config dict or a callable"
    )


def _lookup(name: str) -> type:
    cls = _NAMES.get(name.lower())
    if cls is None:
        raise ValueError(f"unknown regularizer {name!r}; known names: {sorted(_NAMES)}")
    return cls


def _coefficient(name: str, value) -> float:
    value = 0.0 if value is None else float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"regularizer coefficient {name} must be finite and >= 0, got {value}")
    return value
