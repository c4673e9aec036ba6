"""Shape ops: reshape, transpose, indexing, concat/stack, pad, broadcast, squeeze."""

import math

import numpy as np

from nnlab.autograd.function import Function, unbroadcast


class Reshape(Function):
    def forward(self, a, shape=()):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad_out):
        return grad_out.reshape(self.in_shape)


class Transpose(Function):
    """Permute axes (reverse them when ``axes`` is None)."""

    def forward(self, a, axes=None):
        self.axes = axes
        return np.transpose(a, axes)

    def backward(self, grad_out):
        inverse = None if self.axes is None else np.argsort(self.axes)
        return np.transpose(grad_out, inverse)


class Squeeze(Function):
    def forward(self, a, axis=None):
        self.in_shape = a.shape
        return np.squeeze(a, axis)

    def backward(self, grad_out):
        return grad_out.reshape(self.in_shape)


class Unsqueeze(Function):
    def forward(self, a, axis=0):
        self.in_shape = a.shape
        return np.expand_dims(a, axis)

    def backward(self, grad_out):
        return grad_out.reshape(self.in_shape)


class Flatten(Function):
    """Merge axes ``start_axis`` .. ``end_axis`` (inclusive) into one."""

    def forward(self, a, start_axis=0, end_axis=-1):
        self.in_shape = a.shape
        if a.ndim == 0:
            return a.reshape(1)
        start, end = start_axis % a.ndim, end_axis % a.ndim
        merged = math.prod(a.shape[start : end + 1])  # not -1: ambiguous for an empty array
        return a.reshape(a.shape[:start] + (merged,) + a.shape[end + 1 :])

    def backward(self, grad_out):
        return grad_out.reshape(self.in_shape)


class BroadcastTo(Function):
    def forward(self, a, shape=()):
        self.in_shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, grad_out):
        return unbroadcast(grad_out, self.in_shape)


def _is_basic(index) -> bool:
    """True when indexing makes a view (ints, slices, None, Ellipsis): no repeated elements."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, int | np.integer | slice) for i in items)


class GetItem(Function):
    """a[index] with slices, integers and integer or boolean arrays (NumPy semantics)."""

    def forward(self, a, index=None):
        self.in_shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad_out):
        grad = np.zeros(self.in_shape, grad_out.dtype)
        if _is_basic(self.index):
            grad[self.index] = grad_out
        else:  # an integer array may pick an element twice: accumulate, don't overwrite
            np.add.at(grad, self.index, grad_out)
        return grad


class Concat(Function):
    """Join arrays along an existing axis."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad_out):
        return tuple(np.split(grad_out, self.splits, axis=self.axis))


class Unbind(Function):
    """The slices along ``axis`` as separate outputs (``torch.unbind``), each a view.

    Backward stacks their gradients (zeros for unused outputs) into one array: one copy,
    where indexing each slice would zero-fill and then sum a full-size gradient per slice.
    """

    def forward(self, a, axis=0):
        self.axis = axis
        return tuple(np.moveaxis(a, axis, 0))

    def backward(self, grads):
        return np.stack(grads, axis=self.axis)


class Stack(Function):
    """Join arrays along a new axis."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad_out):
        n = grad_out.shape[self.axis]
        return tuple(np.take(grad_out, i, axis=self.axis) for i in range(n))


class Pad(Function):
    """Constant padding; ``pad_width`` as in ``numpy.pad``."""

    def forward(self, a, pad_width=0, value=0.0):
        width = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (a.ndim, 2))
        if (width < 0).any():
            raise ValueError(f"pad widths must be non-negative, got {pad_width}")
        self.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(width, a.shape, strict=True))
        return np.pad(a, width, constant_values=value)

    def backward(self, grad_out):
        return grad_out[self.inner]
