"""Elementwise arithmetic and math: each op's backward sits under its forward."""

import numpy as np

from nnlab.autograd.function import Function, unbroadcast


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad_out):
        sa, sb = self.shapes
        return unbroadcast(grad_out, sa), unbroadcast(grad_out, sb)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad_out):
        sa, sb = self.shapes
        grad_b = -unbroadcast(grad_out, sb) if self.needs_input_grad[1] else None
        return unbroadcast(grad_out, sa), grad_b


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad_out):
        a, b = self.a, self.b
        grad_a = unbroadcast(grad_out * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad_out * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad_out):
        a, b = self.a, self.b
        grad_q = grad_out / b
        grad_a = unbroadcast(grad_q, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad_q * a / b, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Function):
    """a ** b; d/da = b a^(b-1), d/db = a^b log a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad_out):
        a, b = self.a, self.b
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad_out * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = unbroadcast(grad_out * self.out * np.log(a), b.shape)
        return grad_a, grad_b


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad_out):
        return -grad_out


class Exp(Function):
    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, grad_out):
        return grad_out * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, grad_out):
        return grad_out / self.a


class Sqrt(Function):
    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, grad_out):
        with np.errstate(divide="ignore"):  # sqrt'(0) is inf, as in PyTorch
            return grad_out / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, grad_out):
        return grad_out * np.sign(self.a)  # abs'(0) = 0


class _Extremum(Function):
    """maximum/minimum: the winner takes the gradient; a tie splits it evenly (as PyTorch)."""

    pick = None

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.pick(a, b)

    def backward(self, grad_out):
        a, b = self.a, self.b
        wins_a = (a == self.pick(a, b)).astype(grad_out.dtype)
        wins_b = (b == self.pick(a, b)).astype(grad_out.dtype)
        share = grad_out / (wins_a + wins_b)
        grad_a = unbroadcast(share * wins_a, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(share * wins_b, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Maximum(_Extremum):
    pick = staticmethod(np.maximum)


class Minimum(_Extremum):
    pick = staticmethod(np.minimum)


class Where(Function):
    """where(condition, a, b); the condition is a constant boolean array."""

    def forward(self, condition, a, b):
        self.condition = np.asarray(condition, dtype=bool)
        self.shapes = a.shape, b.shape
        return np.where(self.condition, a, b)

    def backward(self, grad_out):
        zero = np.zeros((), grad_out.dtype)
        sa, sb = self.shapes
        grad_a = unbroadcast(np.where(self.condition, grad_out, zero), sa)
        grad_b = unbroadcast(np.where(self.condition, zero, grad_out), sb)
        return None, grad_a, grad_b


class Clip(Function):
    """Clamp to [low, high] (either may be None); gradient 1 on the boundary, as PyTorch."""

    def forward(self, a, low=None, high=None):
        self.inside = np.ones(a.shape, bool)
        if low is not None:
            self.inside &= a >= low
        if high is not None:
            self.inside &= a <= high
        return np.clip(a, low, high)

    def backward(self, grad_out):
        return grad_out * self.inside


class Copy(Function):
    """The identity into fresh memory (``Tensor.clone``): writing to the copy's array leaves
    the original alone; the gradient passes through unchanged."""

    def forward(self, a):
        return a.copy()

    def backward(self, grad_out):
        return grad_out


class Cast(Function):
    def forward(self, a, dtype=None):
        self.dtype = a.dtype
        return a.astype(dtype, copy=False)

    def backward(self, grad_out):
        return grad_out.astype(self.dtype, copy=False)
