"""Flatten and Unflatten: merge a range of axes into one, and split one axis into several."""

import numpy as np

from nnlab import functional as F
from nnlab.nn.module import Module, register


@register
class Flatten(Module):
    """Merge axes start_dim..end_dim (inclusive) into one, as ``torch.nn.Flatten``.

    Args:
        start_dim: first axis to merge (default 1: keep the batch axis).
        end_dim: last axis to merge (default -1).

    Shape:
        (N, C, H, W) -> (N, C*H*W) with the defaults. No parameters.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    @classmethod
    def from_config(cls, config: dict):
        renamed = {"start_axis": "start_dim", "end_axis": "end_dim"}  # keys of older files
        return cls(**{renamed.get(k, k): v for k, v in config.items()})

    def forward(self, x):
        ndim = len(np.shape(x))
        start, end = self.start_dim, self.end_dim
        if not (-ndim <= start < ndim and -ndim <= end < ndim) or start % ndim > end % ndim:
            raise ValueError(
                f"Flatten(start_dim={start}, end_dim={end}) got a {ndim}-D input: both axes "
                f"must lie in [-{ndim}, {ndim - 1}] with start before end; for a single sample "
                f"add the batch axis first (x[None]) or use Flatten(start_dim=0)"
            )
        return F.flatten(x, start, end)

    def get_config(self) -> dict:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


@register
class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``, as ``torch.nn.Unflatten``: the inverse of
    ``Flatten`` (e.g. a decoder's (N, C*H*W) output back to images). Keeps the dtype.

    Args:
        dim: the axis to split (default 1: the first axis after the batch).
        unflattened_size: the shape it becomes; its product must equal the axis's size.

    Shape:
        (N, C*H*W) -> (N, C, H, W) for ``Unflatten(1, (C, H, W))``. No parameters.
    """

    def __init__(self, dim=1, unflattened_size=()):
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)
        if not self.unflattened_size:
            raise ValueError("Unflatten needs the unflattened_size, e.g. Unflatten(1, (1, 8, 8))")

    def forward(self, x):
        shape = tuple(np.shape(x))
        dim = self.dim % len(shape) if -len(shape) <= self.dim < len(shape) else None
        if dim is None or shape[dim] != int(np.prod(self.unflattened_size)):
            raise ValueError(
                f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size}) got input "
                f"of shape {shape}: axis {self.dim} must exist and hold "
                f"{int(np.prod(self.unflattened_size))} values"
            )
        return F.reshape(x, shape[:dim] + self.unflattened_size + shape[dim + 1 :])

    def get_config(self) -> dict:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
