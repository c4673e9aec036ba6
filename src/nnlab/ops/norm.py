"""Batch and layer normalization, each with its backward in closed form.

Both normalise x to x_hat = (x - mean) / sqrt(var + eps) (biased variance) and then apply
y = x_hat * weight + bias. With g = dL/dy over a group of n normalised values, the input
gradient is

    dL/dx = weight * inv_std * (g - sum(g) / n - x_hat * sum(g * x_hat) / n)

where the sums run over the normalised group; dL/dweight = sum(g * x_hat) and
dL/dbias = sum(g) over every other axis. Backward reuses x_hat and inv_std saved by forward.

Both ops work on a fixed-rank view (batch norm: (N, C, L); layer norm: (rows, features)),
so each reduction is over fixed axes, and sums of products go through ``einsum``, which
forms no temporary array for the product.
"""

import math

import numpy as np

from nnlab.autograd.function import Function
from nnlab.ops.reduce import channel_sums


def _affine(x_hat, weight, bias):
    """x_hat * weight + bias with either factor optional, in one new array."""
    if weight is None:
        return x_hat if bias is None else x_hat + bias
    out = x_hat * weight
    if bias is not None:
        out += bias
    return out


def _input_grad(g, x_hat, scale, mean_g, mean_gx):
    """scale * (g - mean_g - x_hat * mean_gx), with a single temporary array."""
    grad_x = x_hat * mean_gx
    np.subtract(g, grad_x, out=grad_x)
    grad_x -= mean_g
    grad_x *= scale
    return grad_x


def _row_means(x2: np.ndarray) -> np.ndarray:
    """(rows, 1) means of a (rows, features) array, as one matrix-vector product: NumPy's
    mean along a short contiguous axis is several times slower (36 vs 5 us for 1024 x 64)."""
    return (x2 @ np.full(x2.shape[1], 1.0 / x2.shape[1], x2.dtype))[:, None]


class BatchNorm(Function):
    """Batch normalization over every axis but axis 1 (channels), as ``torch.batch_norm``.

    Inputs x (N, C, *), weight (C,) or None, bias (C,) or None.

    Training: normalise with the batch mean and BIASED batch variance, and (if the running
    arrays are given) update them IN PLACE with
    running = (1 - momentum) * running + momentum * batch, using the UNBIASED variance for
    running_var (PyTorch's rule). Eval: normalise with running_mean / running_var.
    """

    def forward(
        self,
        x,
        weight=None,
        bias=None,
        running_mean=None,
        running_var=None,
        training=False,
        momentum=0.1,
        eps=1e-5,
        allow_single_value=False,
    ):
        if x.ndim < 2:
            raise ValueError(f"batch_norm expects input of shape (N, C, *), got {x.shape}")
        # (N, C, L): per-channel vectors are (C, 1). (L explicit: -1 is ambiguous for N = 0.)
        x3 = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        self.count = x3.shape[0] * x3.shape[2]
        if training:
            centered, var = self._batch_stats(
                x3, running_mean, running_var, momentum, allow_single_value
            )
        elif running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm in eval mode (training=False) needs running_mean and running_var"
            )
        else:
            centered = x3 - running_mean.astype(x.dtype)[:, None]
            var = running_var.astype(x.dtype)
        self.training, self.shape = training, x.shape
        self.inv_std = (1.0 / np.sqrt(var + eps))[:, None]
        self.weight = None if weight is None else weight[:, None]
        self.x_hat = centered
        self.x_hat *= self.inv_std
        out = _affine(self.x_hat, self.weight, None if bias is None else bias[:, None])
        return out.reshape(x.shape)

    def _batch_stats(self, x3, running_mean, running_var, momentum, allow_single_value):
        if x3.shape[0] == 0:  # an empty batch: nothing to normalise or learn from (as PyTorch)
            return x3.copy(), np.zeros(x3.shape[1], x3.dtype)
        if self.count < 2 and not allow_single_value:
            raise ValueError(
                f"batch_norm in training needs more than 1 value per channel, "
                f"got input of shape {x3.shape[:2] + (self.count // x3.shape[0],)} (N, C, L)"
            )
        mean = channel_sums(x3) / self.count
        centered = x3 - mean[:, None]
        var = np.einsum("ncl,ncl->c", centered, centered) / self.count
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1.0 - momentum
            unbiased = self.count / (self.count - 1) if self.count > 1 else 1.0  # 1 value: 0
            running_var += (momentum * unbiased) * var
        return centered, var  # x3 - mean, reused as x_hat's first step

    def backward(self, grad_out):
        g, x_hat = grad_out.reshape(self.x_hat.shape), self.x_hat
        sum_g = channel_sums(g)
        sum_gx = np.einsum("ncl,ncl->c", g, x_hat)
        scale = self.inv_std if self.weight is None else self.weight * self.inv_std
        grad_x = None
        if self.needs_input_grad[0]:
            if self.training and self.count:
                # The batch mean and variance depend on x: remove their share of the gradient.
                n = self.count
                grad_x = _input_grad(g, x_hat, scale, sum_g[:, None] / n, sum_gx[:, None] / n)
            else:
                grad_x = g * scale
            grad_x = grad_x.reshape(self.shape)
        grad_w = sum_gx if self.needs_input_grad[1] else None
        grad_b = sum_g if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class LayerNorm(Function):
    """Normalise over the trailing ``normalized_shape`` axes, then y = x_hat * weight + bias.

    Inputs x (*, *normalized_shape), weight and bias of shape normalized_shape (or None).
    """

    def forward(self, x, weight=None, bias=None, normalized_shape=(), eps=1e-5):
        k = len(normalized_shape)
        if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k :]) != tuple(normalized_shape):
            raise ValueError(
                f"layer_norm over normalized_shape {tuple(normalized_shape)} needs an input "
                f"whose last {k} dimension(s) are {tuple(normalized_shape)}, got {x.shape}"
            )
        # A (rows, features) view: every statistic is a reduction over the contiguous axis 1.
        features = int(np.prod(normalized_shape))
        x2 = x.reshape(-1, features)
        mean = _row_means(x2)
        self.x_hat = x2 - mean
        var = np.einsum("ij,ij->i", self.x_hat, self.x_hat)[:, None] / features
        self.inv_std = 1.0 / np.sqrt(var + eps)
        self.x_hat *= self.inv_std
        self.weight = None if weight is None else weight.reshape(-1)
        self.shape, self.normalized_shape = x.shape, tuple(normalized_shape)
        out = _affine(self.x_hat, self.weight, None if bias is None else bias.reshape(-1))
        return out.reshape(x.shape)

    def backward(self, grad_out):
        g2, x_hat = grad_out.reshape(self.x_hat.shape), self.x_hat
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            gh = g2 if self.weight is None else g2 * self.weight
            n = x_hat.shape[1]
            mean_g = _row_means(gh)
            mean_gx = np.einsum("ij,ij->i", gh, x_hat)[:, None] / n
            grad_x = _input_grad(gh, x_hat, self.inv_std, mean_g, mean_gx).reshape(self.shape)
        if self.needs_input_grad[1]:
            grad_w = np.einsum("ij,ij->j", g2, x_hat).reshape(self.normalized_shape)
        if self.needs_input_grad[2]:
            grad_b = (np.ones(len(g2), g2.dtype) @ g2).reshape(self.normalized_shape)
        return grad_x, grad_w, grad_b
