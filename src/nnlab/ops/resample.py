"""Upsampling of (N, C, H, W) images by an integer factor: nearest and bilinear
(align_corners=False, as PyTorch), each backward the transpose of its interpolation."""

import numpy as np

from nnlab.autograd.function import Function
from nnlab.ops.pool import axis_view, check_image


def bilinear_sources(size: int, scale: int) -> tuple:
    """For each of size*scale outputs: the two source indices and their weights, with
    PyTorch's align_corners=False rule src = max((dst + 0.5) / scale - 0.5, 0)."""
    src = np.maximum((np.arange(size * scale) + 0.5) / scale - 0.5, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, size - 1)
    w1 = src - i0
    return i0, i1, 1.0 - w1, w1


def _interpolate(x: np.ndarray, axis: int, scale: int) -> np.ndarray:
    i0, i1, w0, w1 = bilinear_sources(x.shape[axis], scale)
    w0, w1 = (axis_view(w.astype(x.dtype), axis) for w in (w0, w1))
    return np.take(x, i0, axis=axis) * w0 + np.take(x, i1, axis=axis) * w1


def _interpolate_grad(g: np.ndarray, axis: int, size: int, scale: int) -> np.ndarray:
    i0, i1, w0, w1 = bilinear_sources(size, scale)
    weights = np.zeros((size * scale, size))  # (out, in): the forward as a matrix
    rows = np.arange(size * scale)
    np.add.at(weights, (rows, i0), w0)
    np.add.at(weights, (rows, i1), w1)
    weights = weights.astype(g.dtype)
    return g @ weights if axis == -1 else np.matmul(weights.T, g)


class Upsample(Function):
    """Resize by integer factors (sh, sw).

    'nearest': y[h, w] = x[h // sh, w // sw] (PyTorch's nearest rule for integer factors).
    'bilinear' (align_corners=False): interpolate along W, then along H, between the two
    source pixels around src = (dst + 0.5) / s - 0.5, clamped at 0.
    """

    def forward(self, x, scale_factor=2, mode="nearest"):
        check_image(x, "upsample")
        factors = np.broadcast_to(np.asarray(scale_factor), (2,))
        if not np.all(factors == np.round(factors)) or factors.min() < 1:
            raise ValueError(
                f"upsample supports positive integer scale factors only, got {scale_factor!r}"
            )
        sh, sw = (int(f) for f in factors)
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"upsample mode must be 'nearest' or 'bilinear', got {mode!r}")
        self.scale, self.mode, self.in_size = (sh, sw), mode, x.shape[-2:]
        h, w = self.in_size
        if mode == "nearest":
            expanded = np.broadcast_to(x[..., :, None, :, None], x.shape[:-2] + (h, sh, w, sw))
            return expanded.reshape(x.shape[:-2] + (h * sh, w * sw))
        return _interpolate(_interpolate(x, -1, sw), -2, sh)

    def backward(self, grad_out):
        (sh, sw), (h, w) = self.scale, self.in_size
        if self.mode == "nearest":
            split = grad_out.reshape(grad_out.shape[:-2] + (h, sh, w, sw))
            return (split.sum(axis=(-3, -1)),)
        return (_interpolate_grad(_interpolate_grad(grad_out, -2, h, sh), -1, w, sw),)
