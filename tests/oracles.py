"""Test helpers: one line checks an op's forward against NumPy and its gradient against
float64 finite differences; another compares against PyTorch."""

import numpy as np
import pytest

from nnlab import Tensor, gradcheck

from conftest import IN_CI


def random_inputs(shapes, seed=0, low=-2.0, high=2.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def check_op(fn, reference, shapes, *, seed=0, low=-2.0, high=2.0, grad=True, atol=1e-5, rtol=1e-5):
    """Check ``fn`` (on Tensors) against ``reference`` (on float64 arrays).

    Forward: float32 and float64 results against the float64 reference. Backward: float64
    gradcheck on every input. ``shapes`` lists the input shapes.
    """
    arrays = random_inputs(shapes, seed, low, high)
    expected = reference(*arrays)
    out64 = fn(*[Tensor(a) for a in arrays])
    np.testing.assert_allclose(out64.data, expected, rtol=1e-10, atol=1e-10)
    assert out64.dtype == np.float64
    out32 = fn(*[Tensor(a.astype(np.float32)) for a in arrays])
    assert out32.dtype == np.float32, f"float32 inputs gave {out32.dtype}"
    np.testing.assert_allclose(out32.data, expected, rtol=rtol, atol=atol)
    if grad:
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        assert gradcheck(fn, tensors)


def torch_module():
    """Import torch; outside CI a missing torch skips the test, inside CI it fails it."""
    if IN_CI:
        import torch
    else:
        torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch
