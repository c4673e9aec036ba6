"""DataLoader: mini-batches of NumPy arrays for hand-written training loops (PyTorch's
``DataLoader(TensorDataset(x, y), batch_size, shuffle)`` without the Dataset layer)."""

import numpy as np

from nnlab import backend
from nnlab.autograd.tensor import Tensor


class DataLoader:
    """Iterate over equal-length arrays in mini-batches, one tuple of slices per batch::

        for xb, yb in DataLoader(x, y, batch_size=32, shuffle=True, rng=0):
            loss = F.cross_entropy(model(xb), yb)

    Re-iterable: each pass is one epoch, reshuffled when ``shuffle``; ``len()`` is the number
    of batches. It is also a batch source for ``Model.fit``.

    Args:
        *arrays: NumPy arrays (or Tensors, read as arrays) with the same first axis.
        batch_size: samples per batch (PyTorch's default 1).
        shuffle: a fresh random order every epoch (from ``rng``).
        drop_last: skip the last batch when it is smaller than ``batch_size``.
        rng: Generator or seed for the order (default: a child of the library's).
    """

    def __init__(self, *arrays, batch_size=1, shuffle=False, drop_last=False, rng=None):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        self.arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            shapes = [a.shape for a in self.arrays]
            raise ValueError(f"DataLoader arrays must have the same length, got shapes {shapes}")
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.n, self.batch_size = lengths.pop(), int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.rng = backend.layer_generator(rng)

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for k in range(len(self)):
            index = order[k * self.batch_size : (k + 1) * self.batch_size]
            batch = tuple(a[index] for a in self.arrays)
            yield batch if len(batch) > 1 else batch[0]
