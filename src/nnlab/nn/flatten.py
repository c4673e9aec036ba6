"""Flatten: merge a range of axes into one."""

import numpy as np

from nnlab import functional as F
from nnlab.nn.module import Module, register


@register
class Flatten(Module):
    """Merge axes start_axis..end_axis (inclusive) into one, as ``torch.nn.Flatten``.

    Args:
        start_axis: first axis to merge (default 1: keep the batch axis).
        end_axis: last axis to merge (default -1).

    Shape:
        (N, C, H, W) -> (N, C*H*W) with the defaults. No parameters.
    """

    def __init__(self, start_axis=1, end_axis=-1):
        super().__init__()
        self.start_axis, self.end_axis = int(start_axis), int(end_axis)

    def forward(self, x):
        ndim = len(np.shape(x))
        start, end = self.start_axis, self.end_axis
        if not (-ndim <= start < ndim and -ndim <= end < ndim) or start % ndim > end % ndim:
            raise ValueError(
                f"Flatten(start_axis={start}, end_axis={end}) got a {ndim}-D input: both axes "
                f"must lie in [-{ndim}, {ndim - 1}] with start before end; for a single sample "
                f"add the batch axis first (x[None]) or use Flatten(start_axis=0)"
            )
        return F.flatten(x, start, end)

    def get_config(self) -> dict:
        return {"start_axis": self.start_axis, "end_axis": self.end_axis}

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"
