"""Keras-style normalization layers over the fused batch-norm and layer-norm ops."""

import numpy as np

from nnlab import functional as F
from nnlab.layers.base import Layer
from nnlab.layers.masks import get_mask
from nnlab.nn.module import Parameter, register


@register
class BatchNormalization(Layer):
    """Batch normalization with Keras's arguments.

    Momentum: Keras's ``momentum`` m keeps m of the old running statistic,
    running = m * running + (1 - m) * batch, so Keras 0.99 equals PyTorch's momentum 0.01
    (PyTorch's ``momentum`` is the weight of the new batch). Like PyTorch, the running
    variance is updated with the unbiased batch variance; training normalises with the biased.
    A batch with one value per feature (fit's last batch holding one sample) is normalised as
    Keras does, not refused as PyTorch does: its variance is 0, so the output is ``beta``.
    On a masked sequence (``Embedding(mask_zero=True)``, ``Masking``) the training statistics
    come from the real steps only, as in Keras 3, and the mask is passed on.

    Args:
        axis: the feature axis. Default 1: features of (N, F) inputs and channels of NCHW images
            (nnlab is channels-first). For (N, T, F) sequences pass ``axis=-1``.
        momentum, epsilon: Keras meanings and defaults (0.99, 1e-3).
        center, scale: learn the shift ``beta`` / the scale ``gamma``.
    """

    passes_mask = True

    def __init__(self, axis=1, momentum=0.99, epsilon=1e-3, center=True, scale=True, **base):
        super().__init__(**base)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1], got {momentum}")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = center, scale

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"BatchNormalization '{self.name}' needs a batch axis and a feature axis, "
                f"got input of shape {input_shape}"
            )
        n = input_shape[self.axis]
        self.gamma = Parameter(np.ones(n, self.dtype)) if self.scale else None
        self.beta = Parameter(np.zeros(n, self.dtype)) if self.center else None
        self.register_buffer("moving_mean", np.zeros(n, self.dtype))
        self.register_buffer("moving_variance", np.ones(n, self.dtype))

    def call(self, x):
        axis = self.axis % x.ndim
        mask = get_mask(x)
        if self.training and mask is not None and axis >= 2 and mask.any():
            return self._masked(x, mask, axis)
        if axis != 1:  # the fused op normalises per entry of axis 1
            x = x.transpose(_swap(x.ndim, axis))
        out = F.batch_norm(
            x,
            self.moving_mean,
            self.moving_variance,
            self.gamma,
            self.beta,
            training=self.training,
            momentum=1.0 - self.momentum,
            eps=self.epsilon,
            allow_single_value=True,  # as Keras: a last batch of one sample must not stop fit
        )
        return out.transpose(_swap(x.ndim, axis)) if axis != 1 else out

    def _masked(self, x, mask, axis):
        """Training on padded sequences (N, T, ..., features) as Keras 3: the batch statistics
        come from the real steps only; every step is normalised with them."""
        keep = mask.reshape(mask.shape + (1,) * (x.ndim - 2)).astype(x.dtype)
        axes = tuple(a for a in range(x.ndim) if a != axis)
        count = float(np.broadcast_to(keep, x.shape).sum()) / x.shape[axis]
        mean = F.sum(x * keep, axis=axes, keepdims=True) / count
        centered = x - mean
        var = F.sum(centered * centered * keep, axis=axes, keepdims=True) / count
        out = centered / F.sqrt(var + self.epsilon)
        feature_shape = [1] * x.ndim
        feature_shape[axis] = x.shape[axis]
        if self.gamma is not None:
            out = out * F.reshape(self.gamma, feature_shape)
        if self.beta is not None:
            out = out + F.reshape(self.beta, feature_shape)
        unbiased = count / (count - 1) if count > 1 else 1.0  # the running rule of call()
        new = 1.0 - self.momentum
        self.moving_mean *= self.momentum
        self.moving_mean += new * mean.data.reshape(-1)
        self.moving_variance *= self.momentum
        self.moving_variance += new * unbiased * var.data.reshape(-1)
        return out

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }


def _swap(ndim: int, axis: int) -> tuple:
    order = list(range(ndim))
    order[1], order[axis] = order[axis], order[1]
    return tuple(order)


@register
class LayerNormalization(Layer):
    """Layer normalization over the trailing axes (Keras defaults: axis -1, epsilon 1e-3)."""

    passes_mask = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, **base):
        super().__init__(**base)
        self.axis = [axis] if isinstance(axis, int) else list(axis)
        self.epsilon, self.center, self.scale = float(epsilon), center, scale

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = sorted(a % ndim for a in self.axis)
        if axes != list(range(ndim - len(axes), ndim)):
            raise ValueError(
                f"LayerNormalization '{self.name}' normalises trailing axes only; got axis="
                f"{self.axis} for input of shape {input_shape}. Move those axes last first."
            )
        self.normalized_shape = tuple(input_shape[a] for a in axes)
        self.gamma = Parameter(np.ones(self.normalized_shape, self.dtype)) if self.scale else None
        self.beta = Parameter(np.zeros(self.normalized_shape, self.dtype)) if self.center else None

    def call(self, x):
        return F.layer_norm(x, self.normalized_shape, self.gamma, self.beta, eps=self.epsilon)

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }
