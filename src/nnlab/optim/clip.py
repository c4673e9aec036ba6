"""Gradient clipping: by value, by each tensor's own norm, and by the global norm.

Two layers of API:

- ``clip_grad_norm_``, ``clip_grad_value_`` and ``clip_grad_norm_per_param_`` take parameters
  and rewrite their ``.grad`` in place, as ``torch.nn.utils`` does.
- ``clip_by_value``, ``clip_by_norm`` and ``clip_by_global_norm`` take a list of arrays and
  return new arrays, leaving the inputs untouched. Optimizers use these (their ``clipvalue``,
  ``clipnorm`` and ``global_clipnorm`` options) because ``step()`` must never change ``.grad``.

Keras names the two norm clippings differently from PyTorch:

- Keras ``clipnorm`` clips every gradient by its own norm: ``g * c / max(||g||, c)``
  (``clip_by_norm``, ``clip_grad_norm_per_param_``).
- Keras ``global_clipnorm`` scales all gradients together by their joint norm; nnlab uses
  PyTorch's formula ``g * min(c / (total + 1e-6), 1)`` for it, so ``global_clipnorm=c`` and
  ``clip_grad_norm_(params, c)`` give the same gradients (``clip_by_global_norm``).
"""

import math

import numpy as np

from nnlab.autograd.tensor import Tensor


def tensor_norm(array: np.ndarray, norm_type: float = 2.0) -> float:
    """The ``norm_type``-norm of ``array`` viewed as one vector (``inf`` gives max |x|)."""
    flat = array.reshape(-1)
    if flat.size == 0:
        return 0.0
    if norm_type == 2.0:
        with np.errstate(over="ignore"):
            total = float(np.dot(flat, flat))
        if math.isinf(total):  # float32 squares overflow long before the norm itself does
            wide = flat.astype(np.float64)
            total = float(np.dot(wide, wide))
        return math.sqrt(total)
    if math.isinf(norm_type):
        magnitudes = np.abs(flat)
        return float(magnitudes.max() if norm_type > 0 else magnitudes.min())
    if norm_type == 1.0:
        return float(np.abs(flat).sum(dtype=np.float64))
    return float(np.sum(np.abs(flat.astype(np.float64)) ** norm_type) ** (1.0 / norm_type))


def global_norm(arrays, norm_type: float = 2.0) -> float:
    """The norm of all ``arrays`` together, as if concatenated into one vector.

    Computed as PyTorch does: the norm of the vector of per-array norms.
    """
    norms = [tensor_norm(a, norm_type) for a in arrays]
    if not norms:
        return 0.0
    if math.isinf(norm_type):
        return max(norms) if norm_type > 0 else min(norms)
    if norm_type == 2.0:
        return math.sqrt(math.fsum(n * n for n in norms))
    return math.fsum(n**norm_type for n in norms) ** (1.0 / norm_type)


def global_clip_coefficient(total_norm: float, max_norm: float) -> float:
    """PyTorch's factor ``min(max_norm / (total_norm + 1e-6), 1)``; NaN when the norm is NaN."""
    coefficient = max_norm / (total_norm + 1e-6)
    return coefficient if math.isnan(coefficient) else min(coefficient, 1.0)


# ---- array API: returns new arrays, never writes to its inputs ----------------------------------
def clip_by_value(arrays, clip_value: float) -> list:
    """Each array clipped to ``[-clip_value, clip_value]`` (new arrays)."""
    clip_value = _nonnegative("clip_value", clip_value)
    return [np.clip(a, -clip_value, clip_value) for a in arrays]


def clip_by_norm(arrays, max_norm: float) -> list:
    """Each array scaled by ``max_norm / max(||a||, max_norm)`` (Keras ``clipnorm``).

    Arrays already within the norm are returned as they are, not copied.
    """
    max_norm = _nonnegative("max_norm", max_norm)
    out = []
    for a in arrays:
        norm = tensor_norm(a)
        out.append(a * (max_norm / norm) if norm > max_norm else a)
    return out


def clip_by_global_norm(arrays, max_norm: float, norm_type: float = 2.0):
    """(clipped arrays, total norm): all arrays scaled by one factor so that their joint norm
    is at most ``max_norm`` (PyTorch ``clip_grad_norm_`` formula; Keras ``global_clipnorm``).

    When no scaling is needed the input arrays are returned as they are, not copied.
    """
    max_norm = _nonnegative("max_norm", max_norm)
    arrays = list(arrays)
    total = global_norm(arrays, norm_type)
    coefficient = global_clip_coefficient(total, max_norm)
    if coefficient >= 1.0:
        return arrays, total
    return [a * coefficient for a in arrays], total


# ---- parameter API: rewrites .grad in place, like torch.nn.utils -------------------------------
def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Scale the gradients of ``parameters`` in place so their global norm is at most ``max_norm``.

    ``grad *= min(max_norm / (total_norm + 1e-6), 1)``, where ``total_norm`` is the norm of all
    gradients concatenated (PyTorch's ``clip_grad_norm_``; Keras calls it ``global_clipnorm``).

    Args:
        parameters: a Tensor or an iterable of Tensors; those whose ``grad`` is None are skipped.
        max_norm: the largest allowed norm.
        norm_type: the p of the p-norm; ``float('inf')`` for the max-norm.
        error_if_nonfinite: raise RuntimeError when the total norm is NaN or infinite. When
            False (default, as in PyTorch) the gradients are scaled anyway and become NaN.

    Returns:
        The total norm of the gradients before clipping, as a Python float.
    """
    grads = _grads(parameters)
    total = global_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot be "
            "clipped; look for NaN/inf in the loss (learning rate too high, log(0)), or pass "
            "error_if_nonfinite=False to scale them anyway"
        )
    coefficient = global_clip_coefficient(total, float(max_norm))
    if not coefficient >= 1.0:  # also true for NaN, which PyTorch propagates into the grads
        for g in grads:
            g *= coefficient
    return total


def clip_grad_norm_per_param_(parameters, max_norm: float) -> list:
    """Scale each gradient in place by its own norm: ``g *= max_norm / max(||g||, max_norm)``.

    This is Keras's ``clipnorm``; ``clip_grad_norm_`` is the global variant. Returns the list of
    per-parameter norms before clipping.
    """
    max_norm = _nonnegative("max_norm", max_norm)
    norms = []
    for g in _grads(parameters):
        norm = tensor_norm(g)
        if norm > max_norm:
            g *= max_norm / norm
        norms.append(norm)
    return norms


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``."""
    clip_value = _nonnegative("clip_value", clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _nonnegative(name: str, value) -> float:
    value = float(value)
    if not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value}")
    return value
