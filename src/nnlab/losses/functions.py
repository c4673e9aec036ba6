"""Keras-style per-sample loss functions by Keras name.

The functions take ``(y_true, y_pred)`` and return one loss per sample: as Keras, they average
(the categorical losses: sum) over the last axis, so (N, D) predictions give (N,) losses and
(N, T, C) give (N, T). 1-D predictions hold one value per sample and also give (N,) (Keras's
functions would return a scalar there; its Loss classes reduce to the same value). ``y_true``
is a constant (array or Tensor), cast to ``y_pred``'s dtype, with (N,) against (N, 1) aligned
as Keras does; integer class labels are accepted wherever one-hot targets are.

Differences from Keras, on purpose: binary cross-entropy on probabilities clamps each log at
-100 as PyTorch (Keras clips probabilities to [1e-7, 1 - 1e-7]); from logits it uses the fused,
exact sigmoid + BCE. The categorical losses on probabilities follow Keras exactly: normalise
each row to sum 1, clip to [EPSILON, 1 - EPSILON] with EPSILON = 1e-7, take the log.
"""

import numpy as np

from nnlab import functional as F
from nnlab.autograd.tensor import Tensor, apply
from nnlab.ops import cross_entropy as ce
from nnlab.ops import loss as lo

EPSILON = 1e-7  # keras.backend.epsilon(): the clip applied to probabilities

# ---- input handling -------------------------------------------------------------------------


def as_array(y):
    return y.data if isinstance(y, Tensor) else np.asarray(y)


def as_tensor(y_pred):
    return y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)


def _align(name, y_true, y_pred):
    """(y_true as an array of y_pred's dtype, y_pred as a Tensor), of one shape.

    As Keras's squeeze_or_expand_to_same_rank, a trailing axis of size 1 is added or dropped;
    1-D predictions become (N, 1) so that every sample keeps its own loss.
    """
    y_pred = as_tensor(y_pred)
    if y_pred.ndim == 1:
        y_pred = y_pred.reshape(-1, 1)
    y_true = as_array(y_true)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}"
        )
    return y_true.astype(y_pred.dtype, copy=False), y_pred


def _one_hot(labels, classes: int, dtype):
    """(..., ) integer labels as (..., classes) one-hot rows, with a range check."""
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(
            f"class label {bad} is out of range for {classes} classes (expected 0..{classes - 1})"
        )
    return np.eye(classes, dtype=dtype)[labels]


def _integer_labels(y_true, y_pred):
    """y_true's class indices, of shape y_pred.shape[:-1], when it holds integer labels."""
    y = as_array(y_true)
    lead = y_pred.shape[:-1]
    if y.dtype.kind not in "iu" or y.shape == y_pred.shape:
        return None
    if y.shape == lead:
        return y
    if y.shape == lead + (1,):
        return y.reshape(lead)
    return None


def _sparse_labels(name, y_true, y_pred):
    """Integer labels of shape y_pred.shape[:-1]; integral floats are accepted, as Keras."""
    y = as_array(y_true)
    lead = y_pred.shape[:-1]
    if y.ndim == len(y_pred.shape) and y.shape[-1:] == (1,):
        y = y[..., 0]
    if y.shape != lead:
        one_hot = y.shape == y_pred.shape
        hint = "; for one-hot targets use categorical_crossentropy" if one_hot else ""
        raise ValueError(
            f"{name} expects integer labels of shape {lead} for y_pred of shape {y_pred.shape}; "
            f"got {y.shape}{hint}"
        )
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{name} expects integer class labels; got non-integral values")
        y = y.astype(np.int64)
    return y


def _categorical_targets(name, y_true, y_pred, label_smoothing):
    """One-hot (or soft) targets of y_pred's shape and dtype, smoothed as Keras."""
    labels = _integer_labels(y_true, y_pred)
    if labels is not None:
        y_true = _one_hot(labels, y_pred.shape[-1], y_pred.dtype)
    else:
        y_true = as_array(y_true).astype(y_pred.dtype, copy=False)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{name} expects one-hot targets of shape {y_pred.shape} or integer labels of "
                f"shape {y_pred.shape[:-1]}; got {y_true.shape}"
            )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    return y_true


def _clipped_probs(y_pred):
    """Rows normalised to sum 1, then clipped to [EPSILON, 1 - EPSILON] (Keras's recipe)."""
    return (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(EPSILON, 1.0 - EPSILON)


def _fused_ce(y_pred, target, label_smoothing):
    """Per-sample softmax CE on logits with classes last, through the fused op."""
    lead, classes = y_pred.shape[:-1], y_pred.shape[-1]
    if y_pred.ndim > 2:  # the op wants classes on axis 1: use one row per prediction
        y_pred = y_pred.reshape(-1, classes)
        target = target.reshape(-1) if target.ndim == len(lead) else target.reshape(-1, classes)
    options = dict(reduction="none", label_smoothing=label_smoothing, ignore_index=None)
    loss = apply(ce.CrossEntropy, y_pred, target, None, **options)
    return loss.reshape(lead) if len(lead) > 1 else loss


# ---- per-sample loss functions --------------------------------------------------------------


def mean_squared_error(y_true, y_pred):
    """Mean squared error per sample: mean((y_true - y_pred)^2, axis=-1).

    Shape: y_true, y_pred (N, ..., D) -> (N, ...); (N,) -> (N,).
    """
    y_true, y_pred = _align("mean_squared_error", y_true, y_pred)
    return apply(lo.MSELoss, y_pred, y_true, reduction="none").mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error per sample: mean(|y_true - y_pred|, axis=-1)."""
    y_true, y_pred = _align("mean_absolute_error", y_true, y_pred)
    return apply(lo.L1Loss, y_pred, y_true, reduction="none").mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss per sample: mean over the last axis of 0.5 d^2 if |d| <= delta, else
    delta (|d| - delta / 2), with d = y_pred - y_true."""
    y_true, y_pred = _align("huber", y_true, y_pred)
    return apply(lo.HuberLoss, y_pred, y_true, reduction="none", delta=delta).mean(axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Binary cross-entropy per sample, averaged over the last axis.

    Args:
        from_logits: y_pred holds logits (fused sigmoid + BCE, finite for any logit) instead of
            probabilities (each log clamped at -100, as PyTorch).
        label_smoothing: squeeze targets toward 0.5: y (1 - s) + s / 2.
    """
    y_true, y_pred = _align("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        loss = apply(lo.BinaryCrossEntropyWithLogits, y_pred, y_true, None, None, reduction="none")
    else:
        loss = apply(lo.BinaryCrossEntropy, y_pred, y_true, None, reduction="none")
    return loss.mean(axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Categorical cross-entropy per sample: -sum(y_true log p, axis=-1).

    Args:
        y_true: one-hot (or soft) targets of y_pred's shape, or integer labels (N,).
        from_logits: y_pred holds logits: fused softmax + CE. Otherwise probabilities,
            normalised and clipped to [1e-7, 1 - 1e-7] as Keras.
        label_smoothing: targets become y (1 - s) + s / C.
    Shape: y_pred (N, ..., C) -> (N, ...).
    """
    y_pred = as_tensor(y_pred)
    if from_logits:
        target = _integer_labels(y_true, y_pred)
        if target is None:
            target = _categorical_targets("categorical_crossentropy", y_true, y_pred, 0.0)
        return _fused_ce(y_pred, target, label_smoothing)
    y_true = _categorical_targets("categorical_crossentropy", y_true, y_pred, label_smoothing)
    return -(_clipped_probs(y_pred).log() * y_true).sum(axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Categorical cross-entropy per sample against integer labels (N,) or (N, 1).

    Args:
        from_logits: y_pred holds logits (fused softmax + CE) instead of probabilities
            (normalised and clipped to [1e-7, 1 - 1e-7] as Keras).
    Shape: y_true (N, ...), y_pred (N, ..., C) -> (N, ...).
    """
    y_pred = as_tensor(y_pred)
    labels = _sparse_labels("sparse_categorical_crossentropy", y_true, y_pred)
    if from_logits:
        return _fused_ce(y_pred, labels, 0.0)
    y_true = _one_hot(labels, y_pred.shape[-1], y_pred.dtype)
    return -(_clipped_probs(y_pred).log() * y_true).sum(axis=-1)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
):
    """Binary focal loss (Lin et al., 2017) per sample, averaged over the last axis.

    Formula: with p = y_pred (or sigmoid of it) and p_t = y p + (1 - y)(1 - p),
    loss = (1 - p_t)^gamma * BCE(y, p), times y alpha + (1 - y)(1 - alpha) when
    ``apply_class_balancing``. gamma = 0 gives plain binary cross-entropy.
    """
    y_true, y_pred = _align("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = apply(lo.BinaryCrossEntropyWithLogits, y_pred, y_true, None, None, reduction="none")
        p = F.sigmoid(y_pred)
    else:
        bce = apply(lo.BinaryCrossEntropy, y_pred, y_true, None, reduction="none")
        p = y_pred
    p_t = y_true * p + (1 - y_true) * (1 - p)
    focal = (1 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = focal * (y_true * alpha + (1 - y_true) * (1 - alpha))
    return focal.mean(axis=-1)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0
):
    """Categorical focal loss per sample, as Keras.

    Formula: with p the normalised, clipped probabilities (softmax of logits when
    ``from_logits``), loss = -sum_c alpha_c (1 - p_c)^gamma y_c log p_c; ``alpha`` is a scalar
    or one weight per class.
    """
    y_pred = as_tensor(y_pred)
    y_true = _categorical_targets("categorical_focal_crossentropy", y_true, y_pred, label_smoothing)
    if from_logits:
        y_pred = F.exp(y_pred - F.logsumexp(y_pred, axis=-1, keepdims=True))
    p = _clipped_probs(y_pred)
    alpha = np.asarray(alpha, dtype=y_pred.dtype)
    return -(alpha * (1 - p) ** gamma * (p.log() * y_true)).sum(axis=-1)


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence per sample: sum(t log(t / p), axis=-1), with both
    distributions clipped to [1e-7, 1] as Keras."""
    y_true, y_pred = _align("kl_divergence", y_true, y_pred)
    target = np.clip(y_true, EPSILON, 1)
    log_p = y_pred.clip(EPSILON, 1).log()
    return apply(lo.KLDiv, log_p, target, reduction="none").sum(axis=-1)


def _hinge_margin(name, y_true, y_pred):
    """max(1 - y y_pred, 0), with 0/1 labels turned into -1/1 first (as Keras)."""
    y_true, y_pred = _align(name, y_true, y_pred)
    if np.all((y_true == 0) | (y_true == 1)):
        y_true = 2 * y_true - 1
    z = 1 - y_pred * y_true
    return F.where(z.data > 0, z, 0.0)  # relu: no gradient at the kink


def hinge(y_true, y_pred):
    """Hinge loss per sample: mean(max(1 - y_true y_pred, 0), axis=-1); labels -1/1 or 0/1."""
    return _hinge_margin("hinge", y_true, y_pred).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """Squared hinge loss per sample: mean(max(1 - y_true y_pred, 0)^2, axis=-1)."""
    margin = _hinge_margin("squared_hinge", y_true, y_pred)
    return (margin * margin).mean(axis=-1)


mse = mean_squared_error
mae = mean_absolute_error
kld = kl_divergence
