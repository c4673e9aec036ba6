"""Keras's activation layers, with Keras's arguments: ReLU (capped, leaky or thresholded),
LeakyReLU, ELU and Softmax. ``Activation('relu')`` covers the plain cases."""

from nnlab import functional as F
from nnlab.layers.base import Layer
from nnlab.nn.module import register


@register
class ReLU(Layer):
    """Keras's ReLU: ``max_value`` for x >= max_value, x for threshold <= x < max_value,
    ``negative_slope * (x - threshold)`` below the threshold.

    Args:
        max_value: the cap (None: none; 6 gives ReLU6).
        negative_slope: the slope below the threshold (>= 0).
        threshold: where the linear part starts.
    """

    passes_mask = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **base):
        super().__init__(**base)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU max_value must be >= 0 or None, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU negative_slope must be >= 0, got {negative_slope}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

    def call(self, x):
        if self.negative_slope == 0 and self.threshold == 0:
            y = F.relu(x)
        else:
            below = (x - self.threshold) * self.negative_slope
            y = F.where(x.data >= self.threshold, x, below)
        return y if self.max_value is None else F.minimum(y, self.max_value)

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


@register
class LeakyReLU(Layer):
    """x for x > 0, else ``negative_slope * x`` (Keras's default slope 0.3; ``alpha`` is
    Keras 2's name for it)."""

    passes_mask = True

    def __init__(self, negative_slope=0.3, alpha=None, **base):
        super().__init__(**base)
        self.negative_slope = float(negative_slope if alpha is None else alpha)

    def call(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict:
        return {**self.base_config(), "negative_slope": self.negative_slope}


@register
class ELU(Layer):
    """x for x > 0, else ``alpha * (exp(x) - 1)``."""

    passes_mask = True

    def __init__(self, alpha=1.0, **base):
        super().__init__(**base)
        self.alpha = float(alpha)

    def call(self, x):
        return F.elu(x, self.alpha)

    def get_config(self) -> dict:
        return {**self.base_config(), "alpha": self.alpha}


@register
class Softmax(Layer):
    """Softmax along ``axis`` (default -1): each slice becomes a probability vector."""

    def __init__(self, axis=-1, **base):
        super().__init__(**base)
        self.axis = int(axis)

    def call(self, x):
        return F.softmax(x, self.axis)

    def get_config(self) -> dict:
        return {**self.base_config(), "axis": self.axis}
