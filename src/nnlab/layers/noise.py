"""GaussianNoise: a regularization layer that adds zero-mean noise while training (a
denoising autoencoder's corruption, or a guard against overfitting small data)."""

from nnlab.layers.base import Layer
from nnlab.nn.module import register


@register
class GaussianNoise(Layer):
    """Add N(0, stddev^2) noise to every input value while training; the identity in eval
    mode (``predict``, ``evaluate``). The gradient passes through unchanged.

    Args:
        stddev: the noise's standard deviation (>= 0).
        seed: seeds the layer's noise (Keras's argument; or ``rng``).
    """

    passes_mask = True

    def __init__(self, stddev, seed=None, **base):
        if seed is not None:
            base.setdefault("rng", seed)
        super().__init__(**base)
        if not stddev >= 0:
            raise ValueError(f"GaussianNoise stddev must be >= 0, got {stddev}")
        self.stddev, self.seed = float(stddev), seed

    def call(self, x):
        if not self.training or self.stddev == 0:
            return x
        return x + self.rng.normal(0.0, self.stddev, x.shape).astype(x.dtype)

    def get_config(self) -> dict:
        return {**self.base_config(), "stddev": self.stddev, "seed": self.seed}
