"""Loss functions as fused ops, with PyTorch's semantics and closed-form backward passes.

Each op computes the per-element loss, reduces it ('mean', 'sum' or 'none') and, in backward,
writes the input gradient in one expression instead of chaining the primitives' backwards.
Softmax cross-entropy lives in ``ops.cross_entropy``.
Targets are usually constants; where PyTorch differentiates a float target too (regression
losses, soft-target cross-entropy, BCE, KL) so do these ops. Class weights and ``pos_weight``
never get a gradient. Every array is computed in the input's dtype.
"""

import numpy as np

from nnlab.autograd.function import Function

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name: str, reduction, allowed=REDUCTIONS) -> str:
    """Return ``reduction`` if it is one of ``allowed``; otherwise a ValueError naming them."""
    if reduction not in allowed:
        raise ValueError(
            f"{name}: reduction must be one of {', '.join(repr(r) for r in allowed)}; "
            f"got {reduction!r}"
        )
    return reduction


def _like_input(name: str, input, target, what: str = "target"):  # noqa: A002
    """``target`` as an array of the input's dtype and shape; a clear error if the shapes differ.

    Broadcasting is refused on purpose: (N, 1) predictions against (N,) targets would silently
    compare every prediction with every target.
    """
    if target.shape != input.shape:
        raise ValueError(
            f"{name} expects {what} of the same shape as input {input.shape}; got "
            f"{target.shape}. Reshape one of them (broadcasting would pair every prediction "
            "with every target)"
        )
    return target.astype(input.dtype, copy=False)


def _broadcast_weight(name: str, what: str, weight, input):  # noqa: A002
    """An optional per-element weight broadcast to the input's shape, in its dtype."""
    if weight is None:
        return None
    try:
        shape = np.broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise ValueError(
            f"{name}: {what} of shape {weight.shape} does not broadcast to input shape "
            f"{input.shape}"
        )
    return weight.astype(input.dtype, copy=False)


class ReducedLoss(Function):
    """Shared reduction: forward reduces the per-element loss, backward spreads grad_out."""

    def reduce(self, loss, reduction, denominator=None):
        """Reduce ``loss``; 'mean' divides by ``denominator`` (default: its element count)."""
        self.reduction = reduction
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return np.asarray(total)
        self.denominator = loss.size if denominator is None else denominator
        with np.errstate(invalid="ignore", divide="ignore"):  # empty input gives nan, as torch
            return np.asarray(total / self.denominator, dtype=loss.dtype)

    def per_element(self, grad_out):
        """d(output)/d(loss element) times grad_out: the per-element loss's shape for 'none',
        else one value that broadcasts against it (no array of copies is made)."""
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                return grad_out / self.denominator
        return grad_out


# ---- regression -----------------------------------------------------------------------------


class MSELoss(ReducedLoss):
    """Squared error (input - target)^2 per element, then reduced. Shape: input = target."""

    def forward(self, input, target, reduction="mean"):  # noqa: A002
        check_reduction("mse_loss", reduction)
        self.dtype = input.dtype
        self.diff = input - _like_input("mse_loss", input, target)
        return self.reduce(self.diff * self.diff, reduction)

    def backward(self, grad_out):
        grad_x = 2 * self.diff * self.per_element(grad_out)
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


class L1Loss(ReducedLoss):
    """Absolute error |input - target| per element, then reduced; gradient sign(diff), 0 at 0."""

    def forward(self, input, target, reduction="mean"):  # noqa: A002
        check_reduction("l1_loss", reduction)
        self.dtype = input.dtype
        diff = input - _like_input("l1_loss", input, target)
        self.sign = np.sign(diff)
        return self.reduce(np.abs(diff), reduction)

    def backward(self, grad_out):
        grad_x = self.sign * self.per_element(grad_out)
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


class HuberLoss(ReducedLoss):
    """Huber loss: quadratic near zero, linear beyond ``delta``.

    Formula: with d = input - target, loss = 0.5 d^2 if |d| <= delta else delta (|d| - delta/2);
    its gradient is d clipped to [-delta, delta].
    """

    def forward(self, input, target, reduction="mean", delta=1.0):  # noqa: A002
        check_reduction("huber_loss", reduction)
        if not delta > 0:
            raise ValueError(f"huber_loss: delta must be positive, got {delta}")
        delta = float(delta)
        self.dtype = input.dtype
        diff = input - _like_input("huber_loss", input, target)
        abs_diff = np.abs(diff)
        loss = np.where(abs_diff <= delta, 0.5 * diff * diff, delta * (abs_diff - 0.5 * delta))
        self.clipped = np.clip(diff, -delta, delta)
        return self.reduce(loss, reduction)

    def backward(self, grad_out):
        grad_x = self.clipped * self.per_element(grad_out)
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


# ---- classification -------------------------------------------------------------------------


class BinaryCrossEntropy(ReducedLoss):
    """Binary cross-entropy on probabilities, each log clamped at >= -100 as PyTorch.

    Formula: loss = -w [y log p + (1 - y) log(1 - p)]; the input gradient is
    w (p - y) / max(p (1 - p), 1e-12), PyTorch's guard against division by zero.
    Shape: input = target; weight broadcasts to the input.
    """

    def forward(self, input, target, weight=None, reduction="mean"):  # noqa: A002
        check_reduction("binary_cross_entropy", reduction)
        name = "binary_cross_entropy"
        if input.size and not (input.min() >= 0 and input.max() <= 1):
            raise ValueError(
                f"{name} expects probabilities in [0, 1]; got values in [{input.min()}, "
                f"{input.max()}]. Apply sigmoid first, or use binary_cross_entropy_with_logits"
            )
        self.dtype = input.dtype
        target = _like_input(name, input, target)
        weight = _broadcast_weight(name, "weight", weight, input)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped next
            self.log_p = np.maximum(np.log(input), -100)
            self.log_q = np.maximum(np.log1p(-input), -100)
        loss = -(target * self.log_p + (1 - target) * self.log_q)
        if weight is not None:
            loss = loss * weight
        self.input, self.target, self.weight = input, target, weight
        return self.reduce(loss, reduction)

    def backward(self, grad_out):
        g = self.per_element(grad_out)
        if self.weight is not None:
            g = g * self.weight
        p = self.input
        grad_x = g * (p - self.target) / np.maximum(p * (1 - p), 1e-12)
        # The loss is linear in the target: its slope is the difference of the clamped logs.
        grad_t = g * (self.log_q - self.log_p) if self.needs_input_grad[1] else None
        return grad_x, grad_t, None


class BinaryCrossEntropyWithLogits(ReducedLoss):
    """Sigmoid + binary cross-entropy fused, finite for any logit.

    Formula: loss = w [(1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))], with
    log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)) so nothing overflows; without pos_weight
    this is max(x, 0) - x y + log1p(exp(-|x|)). Gradient: w [(1 + (pw - 1) y) sigmoid(x) - pw y].
    Shape: input = target; weight and pos_weight broadcast to the input (pos_weight (C,)
    weighs the positives of each class along the last axis).
    """

    def forward(self, input, target, weight=None, pos_weight=None, reduction="mean"):  # noqa: A002
        name = "binary_cross_entropy_with_logits"
        check_reduction(name, reduction)
        self.dtype = input.dtype
        target = _like_input(name, input, target)
        weight = _broadcast_weight(name, "weight", weight, input)
        pos_weight = _broadcast_weight(name, "pos_weight", pos_weight, input)
        with np.errstate(under="ignore"):
            self.exp_neg_abs = np.exp(-np.abs(input))  # in (0, 1]: cannot overflow
        softplus_neg = np.maximum(-input, 0) + np.log1p(self.exp_neg_abs)  # log(1 + e^-x)
        if pos_weight is None:
            loss = (1 - target) * input + softplus_neg
        else:
            loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
        if weight is not None:
            loss = loss * weight
        self.input, self.target, self.weight = input, target, weight
        self.pos_weight, self.softplus_neg = pos_weight, softplus_neg
        return self.reduce(loss, reduction)

    def backward(self, grad_out):
        g = self.per_element(grad_out)
        if self.weight is not None:
            g = g * self.weight
        x, y, e, pw = self.input, self.target, self.exp_neg_abs, self.pos_weight
        sigmoid = np.where(x >= 0, 1, e) / (1 + e)  # stable on both sides
        if pw is None:
            grad_x = g * (sigmoid - y)
        else:
            grad_x = g * ((1 + (pw - 1) * y) * sigmoid - pw * y)
        grad_t = None
        if self.needs_input_grad[1]:
            slope = -x if pw is None else (pw - 1) * self.softplus_neg - x
            grad_t = g * slope
        return grad_x, grad_t, None, None


class KLDiv(ReducedLoss):
    """Kullback-Leibler divergence KL(target || exp(input)) with ``input`` log-probabilities.

    Formula: loss = target (log target - input), taken as 0 where target = 0; with
    ``log_target`` the target holds log-probabilities: exp(target) (target - input).
    'batchmean' divides the sum by the batch size (the true KL per sample); 'mean' divides
    by the element count, as PyTorch.
    Shape: input = target.
    """

    def forward(self, input, target, reduction="mean", log_target=False):  # noqa: A002
        check_reduction("kl_div", reduction, REDUCTIONS + ("batchmean",))
        self.dtype = input.dtype
        target = _like_input("kl_div", input, target)
        if log_target:
            self.p_target = np.exp(target)
            loss = self.p_target * (target - input)
        else:
            self.p_target = target
            # t log t is taken as 0 at t = 0 (its limit); log(1) = 0 keeps that free of nan.
            self.log_t = np.log(np.where(target > 0, target, 1))
            loss = target * self.log_t - target * input
        self.input, self.target, self.log_target = input, target, log_target
        if reduction == "batchmean":
            return self.reduce(loss, "mean", input.shape[0] if input.ndim else 1)
        return self.reduce(loss, reduction)

    def backward(self, grad_out):
        g = self.per_element(grad_out)
        grad_x = -self.p_target * g
        grad_t = None
        if self.needs_input_grad[1]:
            if self.log_target:
                grad_t = g * self.p_target * (self.target - self.input + 1)
            else:  # t log t has an infinite slope at t = 0
                log_t = np.where(self.target > 0, self.log_t, -np.inf)
                grad_t = g * (log_t + 1 - self.input)
        return grad_x, grad_t
