"""Dropout layer: random zeroing in training, the identity in eval."""

from nnlab import backend
from nnlab import functional as F
from nnlab.nn.activation import _check_inplace
from nnlab.nn.module import Module, register


@register
class Dropout(Module):
    """Inverted dropout: during training zero each element with probability ``p`` and
    scale the rest by 1 / (1 - p), so the expected output equals the input; in eval mode
    return the input unchanged.

    Args:
        p: probability of zeroing an element, in [0, 1] (default 0.5).
        rng: Generator or int seed for the masks (default: a child of the library's).
        inplace: accepted for PyTorch's code and ignored (the input is never overwritten).

    Shape:
        input (*) -> output (*), same shape. No parameters (nothing to initialize).
    """

    def __init__(self, p=0.5, rng=None, *, inplace=False):
        super().__init__()
        _check_inplace(inplace)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability p must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = backend.layer_generator(rng)

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training, rng=self.rng)

    def get_config(self) -> dict:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


@register
class Dropout2d(Module):
    """Channel dropout, as ``torch.nn.Dropout2d``: during training zero each whole channel
    (feature map) of a sample with probability ``p`` and scale the rest by 1 / (1 - p); in
    eval mode return the input unchanged.

    Args:
        p: probability of zeroing a channel, in [0, 1] (default 0.5).
        rng: Generator or int seed for the masks (default: a child of the library's).
        inplace: accepted for PyTorch's code and ignored (the input is never overwritten).

    Shape:
        (N, C, H, W) -> same; (N, C, L) is treated the same way (one draw per channel).
    """

    def __init__(self, p=0.5, rng=None, *, inplace=False):
        super().__init__()
        _check_inplace(inplace)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d probability p must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = backend.layer_generator(rng)

    def forward(self, x):
        return F.dropout2d(x, self.p, training=self.training, rng=self.rng)

    def get_config(self) -> dict:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"
