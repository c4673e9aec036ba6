"""The Function base class: one differentiable operation, forward and backward side by side.

A Function sees only NumPy arrays. ``forward(*arrays, **params)`` computes the output and keeps
on ``self`` exactly what ``backward`` needs; ``backward(grad_out)`` returns one gradient per
input (None where an input needs none). Functions never import Tensor: the graph machinery in
``autograd.tensor`` wraps them.
"""

import numpy as np


class Function:
    """Base class of every differentiable op.

    Attributes set by the graph:
        needs_input_grad: one bool per input, set before ``forward`` runs; backward may skip
            (return None for) the others, and when none is True (no_grad, constants) the
            result is never differentiated, so forward need not save anything.
        parents: the input tensors (None for constants); cleared when the graph is released.
    """

    needs_input_grad: tuple = ()
    parents: tuple | None = ()
    n_outputs: int = 1
    # Multi-output functions get zeros for outputs that received no gradient; one that
    # handles None itself (and saves the zeros' cost) sets this False.
    zero_fill_grads: bool = True

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def release(self) -> None:
        """Drop everything saved for backward so its memory is freed with the graph."""
        self.__dict__.clear()
        self.parents = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    This is the one place where broadcasting is undone for every op.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
