"""Loss functions as fused ops, with PyTorch's semantics and closed-form backward passes.

Each op computes the per-element loss, reduces it ('mean', 'sum' or 'none') and, in backward,
writes the input gradient in one expression instead of chaining the primitives' backwards.
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


class _Reduced(Function):
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


class MSELoss(_Reduced):
    """Squared error (input - target)^2 per element, then reduced. Shape: input = target."""

    def forward(self, input, target, reduction="mean"):  # noqa: A002
        check_reduction("mse_loss", reduction)
        self.dtype = input.dtype
        self.diff = input - _like_input("mse_loss", input, target)
        return self.reduce(self.diff * self.diff, reduction)

    def backward(self, grad_out):
        grad_x = 2 * self.diff * self.per_element(grad_out)
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


class L1Loss(_Reduced):
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


class HuberLoss(_Reduced):
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


def _rows(a):
    """Classes last, one row per prediction: (N, C, d1, ...) -> (N d1 ..., C); (C,) -> (1, C)."""
    if a.ndim == 1:
        return a[None]
    if a.ndim == 2:
        return a
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(rows, shape):
    """Inverse of ``_rows`` for an array of the logits' ``shape``."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    n, c, *rest = shape
    return np.moveaxis(rows.reshape(n, *rest, c), -1, 1)


def _ce_shapes(shape):
    """(index shape, description of the accepted target shapes) for logits of ``shape``."""
    if len(shape) == 1:
        return (), f"a class index of shape () or probabilities of shape (C,) = {shape}"
    if len(shape) == 2:
        return shape[:1], f"class indices of shape (N,) or probabilities of shape (N, C) = {shape}"
    return shape[:1] + shape[2:], (
        f"class indices of shape (N, d1, ...) or probabilities of shape (N, C, d1, ...) = {shape}"
    )


def _check_ce_target(logits, target, ignore_index):
    """Raise a clear ValueError unless ``target`` holds valid indices or probabilities."""
    index_shape, accepted = _ce_shapes(logits.shape)
    kind = target.dtype.kind
    if kind == "f" and target.shape == index_shape and target.shape != logits.shape:
        raise ValueError(
            f"cross_entropy: class indices must be integers, got dtype {target.dtype} "
            f"(convert with target.astype(np.int64))"
        )
    if kind not in "iuf":
        raise ValueError(
            f"cross_entropy: target must hold integer class indices or float probabilities, "
            f"got dtype {target.dtype}"
        )
    if target.shape != (index_shape if kind in "iu" else logits.shape):
        flat = target.shape == index_shape + (1,)
        hint = "; flatten (N, 1) labels with .reshape(-1)" if flat else ""
        raise ValueError(f"cross_entropy expects {accepted}; got {target.shape}{hint}")
    if kind in "iu" and target.size:
        classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
        if 0 <= target.min() and target.max() < classes:
            return
        used = target if ignore_index is None else target[target != ignore_index]
        if used.size and (used.min() < 0 or used.max() >= classes):
            bad = used.min() if used.min() < 0 else used.max()
            ignored = "" if ignore_index is None else f", or ignore_index={ignore_index}"
            raise ValueError(
                f"cross_entropy: class index {bad} is out of range for {classes} classes "
                f"(expected 0 <= index < {classes}{ignored})"
            )


class CrossEntropy(_Reduced):
    """Softmax cross-entropy on logits, fused with its closed-form backward.

    Args (forward):
        logits: unnormalised scores, classes on axis 1 as PyTorch.
        target: integer class indices, or class probabilities of the logits' shape.
        weight: optional per-class weights (C,).
        reduction: 'mean', 'sum' or 'none'. With index targets 'mean' divides by the sum of
            the targets' weights (the count when unweighted); with probabilities, by N.
        label_smoothing: epsilon in [0, 1]; the target becomes (1 - eps) target + eps / C.
        ignore_index: index targets equal to it contribute nothing (PyTorch's default -100);
            None ignores none.
    Shape: logits (N, C), (C,) or (N, C, d1, ...); indices (N,), () or (N, d1, ...);
        output per row for 'none'.
    Formula: with q_i the weighted, smoothed target row, loss_i = sum_c q_ic (lse(x_i) - x_ic)
        and d loss_i / d x_i = (sum_c q_ic) softmax(x_i) - q_i.
    """

    def forward(
        self, logits, target, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=-100
    ):
        check_reduction("cross_entropy", reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        _check_ce_target(logits, target, ignore_index)
        self.dtype, self.shape = logits.dtype, logits.shape
        x = _rows(logits)
        classes = x.shape[1]
        if weight is not None:
            if weight.shape != (classes,):
                raise ValueError(
                    f"cross_entropy: weight must have shape (C,) = ({classes},); got {weight.shape}"
                )
            weight = weight.astype(self.dtype, copy=False)
        self.weight, self.eps = weight, float(label_smoothing)
        shifted = x - x.max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):  # exp of very negative logits is 0 on purpose
            exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        self.probs = exp / total
        log_total = np.log(total)
        if target.dtype.kind in "iu":
            target = target.reshape(-1)
            loss, denominator = self._index_loss(shifted, log_total, target, ignore_index)
        else:
            loss, denominator = self._prob_loss(shifted, log_total, _rows(target))
        index_shape, _ = _ce_shapes(self.shape)
        return self.reduce(loss.reshape(index_shape), reduction, denominator)

    def _index_loss(self, shifted, log_total, target, ignore_index):
        rows, classes = shifted.shape
        if ignore_index is None:
            valid = np.ones(rows, self.dtype)
        else:
            valid = (target != ignore_index).astype(self.dtype)
        safe = np.where(valid > 0, target, 0)
        weight = self.weight
        w_target = valid if weight is None else weight[safe] * valid
        # -log p[i, y_i] = lse_i - x[i, y_i], read straight from the shifted logits.
        loss = (1.0 - self.eps) * w_target * (log_total[:, 0] - shifted[np.arange(rows), safe])
        if self.eps:
            # The smoothing term -sum_c w_c log p_ic, without materialising log p.
            w_sum = classes if weight is None else weight.sum()
            dot = shifted.sum(axis=1) if weight is None else shifted @ weight
            loss = loss + (self.eps / classes) * valid * (w_sum * log_total[:, 0] - dot)
        self.index_target, self.valid, self.w_target = safe, valid, w_target
        return loss, w_target.sum()

    def _prob_loss(self, shifted, log_total, target):
        target = target.astype(self.dtype, copy=False)
        classes = target.shape[1]
        if self.eps:
            target = target * (1.0 - self.eps) + self.eps / classes
        self.q = target if self.weight is None else target * self.weight
        self.log_probs = shifted - log_total
        self.index_target = None
        return -(self.q * self.log_probs).sum(axis=1), len(self.q)

    def backward(self, grad_out):
        g = self.per_element(grad_out).reshape(-1, 1)
        if self.index_target is None:
            grad_rows = self.probs * (g * self.q.sum(axis=1, keepdims=True)) - self.q * g
        else:
            grad_rows = self._index_grad(g)
        grad_t = None
        if self.needs_input_grad[1] and self.index_target is None:
            w = 1.0 if self.weight is None else self.weight
            grad_t = _unrows(-(1.0 - self.eps) * w * self.log_probs * g, self.shape)
        return _unrows(grad_rows, self.shape), grad_t, None

    def _index_grad(self, g):
        """(sum_c q_ic) softmax_i - q_i, with q kept implicit: a weighted one-hot part and
        (when smoothing) the class weights spread over every row."""
        rows, classes = self.probs.shape
        w, smooth = self.weight, self.eps / classes
        q_sum = (1.0 - self.eps) * self.w_target
        if self.eps:
            q_sum = q_sum + smooth * (classes if w is None else w.sum()) * self.valid
        grad = self.probs * (g * q_sum[:, None])
        grad[np.arange(rows), self.index_target] -= (1.0 - self.eps) * self.w_target * g[:, 0]
        if self.eps:
            grad -= smooth * (g * self.valid[:, None]) * (1.0 if w is None else w)
        return grad


class BinaryCrossEntropy(_Reduced):
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


class BinaryCrossEntropyWithLogits(_Reduced):
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


class KLDiv(_Reduced):
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
