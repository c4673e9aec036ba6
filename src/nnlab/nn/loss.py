"""PyTorch-style loss modules: thin Modules over the fused losses of ``nnlab.functional``.

Called as ``criterion(input, target)``, with ``torch.nn``'s names and defaults. Class weights
and ``pos_weight`` are buffers, so they appear in ``state_dict`` as in PyTorch.
"""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.autograd.tensor import Tensor
from nnlab.nn.module import Module, register
from nnlab.ops.loss import REDUCTIONS, check_reduction


def _float_array(values):
    """Optional weights as a float array; None stays None. Floats keep their precision (a list
    from a config holds float32 values exactly as float64), integers get the default dtype;
    the loss casts the weights to the input's dtype anyway."""
    if values is None:
        return None
    array = np.asarray(values.data if isinstance(values, Tensor) else values)
    return array if array.dtype.kind == "f" else array.astype(backend.default_dtype())


def _as_list(array):
    return None if array is None else np.asarray(array).tolist()


class _Loss(Module):
    """Shared by every loss module: the reduction, checked when the module is built."""

    allowed = REDUCTIONS

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction, self.allowed)

    def get_config(self) -> dict:
        return {"reduction": self.reduction}

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


@register
class MSELoss(_Loss):
    """Mean squared error. Shape: input, target (*) -> scalar, or (*) for 'none'."""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


@register
class L1Loss(_Loss):
    """Mean absolute error. Shape: input, target (*) -> scalar, or (*) for 'none'."""

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


@register
class HuberLoss(_Loss):
    """Huber loss: 0.5 d^2 where |d| <= delta, delta (|d| - delta / 2) beyond.

    Args:
        reduction: 'mean', 'sum' or 'none'.
        delta: where the loss turns from quadratic to linear (> 0).
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = float(delta)

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


@register
class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits, fused.

    Args:
        weight: optional per-class weights (C,); 'mean' then divides by the summed weights of
            the targets (index targets).
        reduction: 'mean', 'sum' or 'none'.
        label_smoothing: mix the target with the uniform distribution: (1 - eps) y + eps / C.
        ignore_index: index targets equal to it add nothing to the loss or its mean (e.g. the
            padding of token sequences); PyTorch's default -100, None ignores none.
    Shape: input (N, C) logits; target (N,) class indices or (N, C) probabilities.
    """

    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.register_buffer("weight", _float_array(weight))

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            self.weight,
            self.reduction,
            label_smoothing=self.label_smoothing,
            ignore_index=self.ignore_index,
        )

    def get_config(self) -> dict:
        return {
            "weight": _as_list(self.weight),
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "ignore_index": self.ignore_index,
        }


@register
class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under log-probabilities (put a
    ``LogSoftmax`` before it; together they are ``CrossEntropyLoss``).

    Args:
        weight: optional per-class weights (C,); 'mean' divides by the summed weights of the
            targets.
        reduction: 'mean', 'sum' or 'none'.
        ignore_index: targets equal to it add nothing (PyTorch's default -100; None: none).
    Shape: input (N, C) or (N, C, d1, ...) log-probabilities; target (N,) or (N, d1, ...).
    """

    def __init__(self, weight=None, reduction="mean", ignore_index=-100):
        super().__init__(reduction)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.register_buffer("weight", _float_array(weight))

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def get_config(self) -> dict:
        return {
            "weight": _as_list(self.weight),
            **super().get_config(),
            "ignore_index": self.ignore_index,
        }


@register
class BCELoss(_Loss):
    """Binary cross-entropy on probabilities in [0, 1] (logs clamped at -100, as PyTorch).

    Args:
        weight: optional weight broadcast to the input's shape.
        reduction: 'mean', 'sum' or 'none'.
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _float_array(weight))

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)

    def get_config(self) -> dict:
        return {"weight": _as_list(self.weight), **super().get_config()}


@register
class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy fused, finite for any logit.

    Args:
        weight: optional weight broadcast to the input's shape.
        reduction: 'mean', 'sum' or 'none'.
        pos_weight: optional weight of the positive examples, e.g. (C,) for C labels per
            sample: n_negative / n_positive balances a rare label.
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _float_array(weight))
        self.register_buffer("pos_weight", _float_array(pos_weight))

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, pos_weight=self.pos_weight
        )

    def get_config(self) -> dict:
        return {
            "weight": _as_list(self.weight),
            **super().get_config(),
            "pos_weight": _as_list(self.pos_weight),
        }


@register
class KLDivLoss(_Loss):
    """KL(target || exp(input)) with ``input`` log-probabilities.

    Args:
        reduction: 'mean' (over elements, as PyTorch's default), 'batchmean' (the true KL per
            sample), 'sum' or 'none'.
        log_target: the target holds log-probabilities too.
    """

    allowed = REDUCTIONS + ("batchmean",)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, input, target):  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def get_config(self) -> dict:
        return {**super().get_config(), "log_target": self.log_target}
