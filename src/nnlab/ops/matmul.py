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

    x may have any number of leading dimensions; they are flattened into one so that the
    product is a single 2-D GEMM (NumPy would otherwise run one small GEMM per leading
    index: 4x slower for a (32, 32, 64) input). b may be None.
    """

    def forward(self, x, weight, bias=None):
        self.x_shape, self.weight = x.shape, weight
        self.x2 = x.reshape(-1, x.shape[-1])
        out = self.x2 @ weight.T
        if bias is not None:
            out += bias
        return out.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad_out):
        g2 = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_x = (g2 @ self.weight).reshape(self.x_shape)
        if self.needs_input_grad[1]:
            grad_w = g2.T @ self.x2
        if self.needs_input_grad[2]:
            grad_b = np.ones(len(g2), g2.dtype) @ g2  # column sums as a GEMV: ~4x faster
        return grad_x, grad_w, grad_b
