"""Embedding lookup: rows of a weight table picked by integer indices."""

import numpy as np

from nnlab.autograd.function import Function


class Embedding(Function):
    """y = weight[indices]; the gradient of each row is the sum of the gradients of its uses.

    Inputs: indices (any shape, integers in [0, num_embeddings)), weight (num_embeddings, D).
    The row ``padding_idx`` (if not None) always gets a zero gradient.
    """

    def forward(self, indices, weight, padding_idx=None):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding indices must be integers, got dtype {indices.dtype}")
        rows = weight.shape[0]
        if indices.size and (indices.min() < 0 or indices.max() >= rows):
            bad = indices[(indices < 0) | (indices >= rows)].flat[0]
            raise IndexError(
                f"embedding index {bad} is out of range: indices must lie in [0, {rows - 1}] "
                f"for a table of {rows} rows"
            )
        self.indices, self.weight_shape, self.padding_idx = indices, weight.shape, padding_idx
        return weight.take(indices, axis=0)

    def backward(self, grad_out):
        rows, dim = self.weight_shape[0], int(np.prod(self.weight_shape[1:]))
        g2 = grad_out.reshape(-1, dim)
        # One bincount over flat (row, column) cells scatters all rows at once; measured
        # 1.5-3x faster than np.add.at and at least as fast as a sort + reduceat scatter
        # for 10k indices into a 1000 x 64 table (and faster for 50k-row tables).
        cells = (self.indices.reshape(-1, 1) * dim + np.arange(dim)).reshape(-1)
        sums = np.bincount(cells, weights=g2.reshape(-1), minlength=rows * dim)
        grad_w = sums.reshape(self.weight_shape).astype(grad_out.dtype, copy=False)
        if self.padding_idx is not None:
            grad_w[self.padding_idx] = 0
        return None, grad_w
