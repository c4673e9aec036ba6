"""Dropout: zero random elements during training, scaling the survivors to keep the mean."""

import numpy as np

from nnlab.autograd.function import Function


class Dropout(Function):
    """Inverted dropout: y = x * mask, mask = keep / (1 - p), keep ~ Bernoulli(1 - p).

    The mask is drawn from ``rng`` (a ``numpy.random.Generator``), so the same seed gives
    the same mask; backward multiplies by the same saved mask. p = 1 zeroes everything.
    """

    def forward(self, x, p=0.5, rng=None):
        # Draw uniforms in x's float type: half the bytes for float32, same decision rule.
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        keep = rng.random(x.shape, dtype=draw_dtype) >= p
        self.mask = keep.astype(x.dtype)
        if p < 1.0:
            self.mask *= 1.0 / (1.0 - p)
        return x * self.mask

    def backward(self, grad_out):
        return grad_out * self.mask


class Dropout2d(Function):
    """Channel dropout: y = x * mask, one mask value per (sample, channel) of (N, C, *),
    mask = keep / (1 - p), keep ~ Bernoulli(1 - p) drawn from ``rng`` as (N, C, 1, ...).

    Zeroing whole feature maps (Tompson et al., 2015) keeps neighbouring pixels, which are
    strongly correlated, from carrying a dropped activation through anyway.
    """

    def forward(self, x, p=0.5, rng=None):
        if x.ndim < 3:
            raise ValueError(
                f"dropout2d expects (N, C, H, W) or (N, C, L) input, got shape {x.shape}; "
                f"it drops whole channels (axis 1), so add the batch axis with x[None]"
            )
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
        keep = rng.random(mask_shape, dtype=draw_dtype) >= p
        self.mask = keep.astype(x.dtype)
        if p < 1.0:
            self.mask *= 1.0 / (1.0 - p)
        return x * self.mask

    def backward(self, grad_out):
        return (grad_out * self.mask,)
