"""Softmax cross-entropy on logits, fused with its closed-form backward."""

import numpy as np

from nnlab.ops.loss import ReducedLoss, check_reduction


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


def check_target(logits, target, ignore_index, op="cross_entropy"):
    """Raise a clear ValueError unless ``target`` holds valid indices or probabilities."""
    index_shape, accepted = _ce_shapes(logits.shape)
    kind = target.dtype.kind
    if kind == "f" and target.shape == index_shape and target.shape != logits.shape:
        raise ValueError(
            f"{op}: class indices must be integers, got dtype {target.dtype} "
            f"(convert with target.astype(np.int64))"
        )
    if kind not in "iuf":
        raise ValueError(
            f"{op}: target must hold integer class indices or float probabilities, "
            f"got dtype {target.dtype}"
        )
    if target.shape != (index_shape if kind in "iu" else logits.shape):
        flat = target.shape == index_shape + (1,)
        hint = "; flatten (N, 1) labels with .reshape(-1)" if flat else ""
        raise ValueError(f"{op} expects {accepted}; got {target.shape}{hint}")
    if kind in "iu" and target.size:
        classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
        if 0 <= target.min() and target.max() < classes:
            return
        used = target if ignore_index is None else target[target != ignore_index]
        if used.size and (used.min() < 0 or used.max() >= classes):
            bad = used.min() if used.min() < 0 else used.max()
            ignored = "" if ignore_index is None else f", or ignore_index={ignore_index}"
            raise ValueError(
                f"{op}: class index {bad} is out of range for {classes} classes "
                f"(expected 0 <= index < {classes}{ignored})"
            )


class CrossEntropy(ReducedLoss):
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
        check_target(logits, target, ignore_index)
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
