"""Tensor: an ndarray that records the Functions applied to it, and ``apply``, which does so."""

import numpy as np

from nnlab import backend
from nnlab.autograd.graph import is_grad_enabled, run_backward
from nnlab.ops import elementwise as ew
from nnlab.ops import matmul as mm
from nnlab.ops import reduce as rd
from nnlab.ops import shape as sh


def _as_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    if array.dtype.kind in "fiub":
        # Python floats and lists of them get the default dtype; float arrays keep theirs.
        if not isinstance(data, np.ndarray | np.generic) and array.dtype.kind == "f":
            array = array.astype(backend.default_dtype())
        return array
    raise TypeError(f"cannot make a Tensor from {type(data).__name__} of dtype {array.dtype}")


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Args:
        data: array-like. Python numbers and lists become the default float dtype (float32);
            NumPy arrays keep their dtype.
        requires_grad: record operations on this tensor so ``backward`` can reach it.
        dtype: optional dtype to convert ``data`` to.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_out_index", "__weakref__")
    __array_ufunc__ = None  # make `ndarray <op> Tensor` defer to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._out_index = 0
        if self.requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only float tensors can require grad, got dtype {self.data.dtype}")

    # ---- basic properties -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._ctx is None)

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        # NumPy's rule: one value is true or false, more are ambiguous (ValueError). Without
        # this, Python would fall back on len() and call any non-empty tensor true.
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())  # a single value, e.g. float(loss)

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        return f"tensor({body}, dtype={self.data.dtype}{grad})"

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut off from the graph."""
        return Tensor(self.data)

    def clone(self) -> "Tensor":
        """A copy in fresh memory that stays in the graph (gradients flow back to this one)."""
        return apply(ew.Copy, self)

    def argmax(self, axis=None, keepdims=False) -> np.ndarray:
        """Indices of the largest values along ``axis`` (e.g. predicted classes,
        ``logits.argmax(1)``), as a NumPy integer array: indices have no gradient, and an
        array compares elementwise with integer labels."""
        return np.argmax(self.data, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False) -> np.ndarray:
        """Indices of the smallest values along ``axis``, as ``argmax``."""
        return np.argmin(self.data, axis=axis, keepdims=keepdims)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = bool(requires_grad)
        return self

    def astype(self, dtype) -> "Tensor":
        """A differentiable cast to ``dtype``."""
        return apply(ew.Cast, self, dtype=np.dtype(dtype))

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            grad: d(loss)/d(self); may be omitted when this tensor holds a single value.
            retain_graph: keep the saved values so backward can run through the graph again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran inside no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a single-value tensor, got shape "
                    f"{self.shape}; pass grad= with the same shape, or reduce first (.sum())"
                )
            grad = np.ones_like(self.data)
        else:
            grad = _as_array(grad, self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"grad has shape {grad.shape}, expected {self.shape}")
        if self._ctx is None:
            self.grad = grad if self.grad is None else self.grad + grad
            return
        run_backward(self, grad, retain_graph)

    # ---- arithmetic -------------------------------------------------------------------------
    def __add__(self, other):
        return apply(ew.Add, self, other)

    def __radd__(self, other):
        return apply(ew.Add, other, self)

    def __sub__(self, other):
        return apply(ew.Sub, self, other)

    def __rsub__(self, other):
        return apply(ew.Sub, other, self)

    def __mul__(self, other):
        return apply(ew.Mul, self, other)

    def __rmul__(self, other):
        return apply(ew.Mul, other, self)

    def __truediv__(self, other):
        return apply(ew.Div, self, other)

    def __rtruediv__(self, other):
        return apply(ew.Div, other, self)

    def __pow__(self, other):
        return apply(ew.Pow, self, other)

    def __rpow__(self, other):
        return apply(ew.Pow, other, self)

    def __neg__(self):
        return apply(ew.Neg, self)

    def __matmul__(self, other):
        return apply(mm.MatMul, self, other)

    def __rmatmul__(self, other):
        return apply(mm.MatMul, other, self)

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    __hash__ = object.__hash__

    def exp(self):
        return apply(ew.Exp, self)

    def log(self):
        return apply(ew.Log, self)

    def sqrt(self):
        return apply(ew.Sqrt, self)

    def abs(self):
        return apply(ew.Abs, self)

    def clip(self, min=None, max=None):
        return apply(ew.Clip, self, low=min, high=max)

    def maximum(self, other):
        return apply(ew.Maximum, self, other)

    def minimum(self, other):
        return apply(ew.Minimum, self, other)

    # ---- reductions -------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return apply(rd.Sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return apply(rd.Mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return apply(rd.Max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return apply(rd.Min, self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        return apply(rd.Var, self, axis=axis, keepdims=keepdims, correction=correction)

    def std(self, axis=None, keepdims=False, correction=1):
        return apply(rd.Std, self, axis=axis, keepdims=keepdims, correction=correction)

    def logsumexp(self, axis=None, keepdims=False):
        return apply(rd.LogSumExp, self, axis=axis, keepdims=keepdims)

    # ---- shape ------------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return apply(sh.Reshape, self, shape=tuple(shape))

    view = reshape

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else axes
        return apply(sh.Transpose, self, axes=tuple(axes) or None)

    permute = transpose

    @property
    def T(self):
        return apply(sh.Transpose, self, axes=None)

    def squeeze(self, axis=None):
        return apply(sh.Squeeze, self, axis=axis)

    def unsqueeze(self, axis):
        return apply(sh.Unsqueeze, self, axis=axis)

    def flatten(self, start_axis=0, end_axis=-1):
        return apply(sh.Flatten, self, start_axis=start_axis, end_axis=end_axis)

    def broadcast_to(self, shape):
        return apply(sh.BroadcastTo, self, shape=tuple(shape))

    def __getitem__(self, index):
        return apply(sh.GetItem, self, index=_index_data(index))


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _index_data(index):
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def apply(fn_cls, *inputs, **params):
    """Run ``fn_cls().forward`` on the inputs' arrays and, if any input needs a gradient,
    record the call in the graph. Non-tensor inputs are constants, converted to the dtype of
    the first tensor input (so ``x * 2.0`` stays float32)."""
    dtype = next((x.data.dtype for x in inputs if isinstance(x, Tensor)), None)
    arrays = [x.data if isinstance(x, Tensor) else _constant(x, dtype) for x in inputs]
    needs = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
    record = any(needs) and is_grad_enabled()
    fn = fn_cls()
    # Set before forward, so a forward whose result will never be differentiated (no_grad,
    # constants) can skip saving what backward would need.
    fn.needs_input_grad = needs if record else (False,) * len(needs)
    out = fn.forward(*arrays, **params)
    if not record:
        if isinstance(out, tuple):
            return tuple(Tensor(o) for o in out)
        return Tensor(out)
    fn.parents = tuple(x if isinstance(x, Tensor) else None for x in inputs)
    if isinstance(out, tuple):
        fn.n_outputs = len(out)
        fn.output_meta = tuple((o.shape, o.dtype) for o in out)
        return tuple(_graph_output(o, fn, i) for i, o in enumerate(out))
    return _graph_output(out, fn, 0)


def _constant(x, dtype):
    if x is None or isinstance(x, np.ndarray):
        return x
    if dtype is not None and isinstance(x, int | float):
        return np.asarray(x, dtype=dtype)
    return np.asarray(x)


def _graph_output(array, fn, index) -> Tensor:
    t = Tensor.__new__(Tensor)
    t.data = array
    t.grad = None
    t.requires_grad = array.dtype.kind == "f"
    t._ctx = fn if t.requires_grad else None
    t._out_index = index
    return t
