"""Check analytic gradients against float64 central differences.

For inputs with at most ``full_jacobian_limit`` elements every Jacobian entry is checked;
larger inputs are probed along random directions: the directional derivative of a random
projection of the output, (f(x + eps v) - f(x - eps v)) / 2 eps, must equal <grad, v>.
"""

import numpy as np

from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    full_jacobian_limit: int = 64,
    directions: int = 8,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Return True when ``fn``'s backward agrees with finite differences for every input.

    Args:
        fn: callable taking the tensors in ``inputs`` and returning one Tensor.
        inputs: tensors (float64, ``requires_grad=True`` for those to check) or constants.
        eps, atol, rtol: step and tolerances (PyTorch's defaults).
        full_jacobian_limit: inputs with at most this many elements get the full Jacobian.
        directions: random directions probed for larger inputs.
        raise_exception: raise AssertionError with details instead of returning False.
    """
    rng = np.random.default_rng(seed)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs, got {t.dtype}: use .double()")
    out = fn(*inputs)
    projection = rng.standard_normal(out.shape)  # turns any output into a scalar
    for t in checked:
        t.grad = None
    out.backward(projection)
    analytic = [t.grad if t.grad is not None else np.zeros_like(t.data) for t in checked]

    def scalar() -> float:
        with no_grad():
            return float(np.sum(fn(*inputs).data * projection))

    for k, (t, grad) in enumerate(zip(checked, analytic, strict=True)):
        numeric, expected = _probe(t, grad, scalar, eps, full_jacobian_limit, directions, rng)
        if not np.allclose(numeric, expected, atol=atol, rtol=rtol):
            worst = np.max(np.abs(numeric - expected))
            message = (
                f"gradient of input {k} (shape {t.shape}) disagrees with finite differences: "
                f"max abs error {worst:.3g}\nnumeric:  {numeric}\nanalytic: {expected}"
            )
            if raise_exception:
                raise AssertionError(message)
            return False
    return True


def _probe(t, grad, scalar, eps, full_limit, directions, rng):
    """(numeric, analytic) derivatives of ``scalar`` w.r.t. ``t``: per element or per direction."""
    original = t.data.copy()
    if t.size <= full_limit:
        numeric = np.zeros(t.size)
        flat = t.data.reshape(-1)
        for i in range(t.size):
            numeric[i] = _central_difference(t, flat, i, eps, scalar, original)
        return numeric, grad.reshape(-1)
    numeric, expected = np.zeros(directions), np.zeros(directions)
    for d in range(directions):
        v = rng.standard_normal(t.shape)
        t.data = original + eps * v
        plus = scalar()
        t.data = original - eps * v
        minus = scalar()
        numeric[d] = (plus - minus) / (2 * eps)
        expected[d] = np.sum(grad * v)
    t.data = original
    return numeric, expected


def _central_difference(t, flat, i, eps, scalar, original) -> float:
    flat[i] = original.reshape(-1)[i] + eps
    plus = scalar()
    flat[i] = original.reshape(-1)[i] - eps
    minus = scalar()
    flat[i] = original.reshape(-1)[i]
    return (plus - minus) / (2 * eps)
