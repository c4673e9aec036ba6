"""Matrix products: batched matmul with broadcasting, and the fused linear map x W^T + b."""

import numpy as np

from nnlab.autograd.function import Function, unbroadcast


class MatMul(Function):
    """a @ b with NumPy/PyTorch semantics (1-D operands, broadcast batch dimensions)."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        # Lift 1-D operands to matrices so backward needs a single code path.
        self.a = a[None, :] if a.ndim == 1 else a
        self.b = b[:, None] if b.ndim == 1 else b
        return a @ b

    def backward(self, grad_out):
        a, b = self.a, self.b
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        grad_out = grad_out.reshape(batch + (a.shape[-2], b.shape[-1]))  # undo 1-D squeezing
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad_out @ np.swapaxes(b, -1, -2), a.shape).reshape(self.a_shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(np.swapaxes(a, -1, -2) @ grad_out, b.shape).reshape(self.b_shape)
        return grad_a, grad_b


class Linear(Function):
    """y = x W^T + b with W of shape (out_features, in_features), as ``torch.nn.Linear``.

    x may have any number of leading dimensions; b may be None.
    """

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, grad_out):
        x, weight = self.x, self.weight
        g2 = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_out @ weight if self.needs_input_grad[0] else None
        grad_w = g2.T @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None
        grad_b = g2.sum(axis=0) if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
