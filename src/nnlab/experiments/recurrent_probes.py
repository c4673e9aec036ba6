"""Probes of what a recurrent network remembers: how the loss gradient reaching each input
decays with distance from the prediction, and an LSTM's states and gates step by step."""

import numpy as np

from nnlab import functional as F
from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor


def input_gradient_norms(model, x, y) -> np.ndarray:
    """Mean over sequences of ||dL_n / dx_{n,t}|| for the squared error L_n of each
    sequence's last-step prediction, indexed by distance d = T - 1 - t from the last step.

    Returns:
        (T,) float64: element d is the mean gradient norm at the input d steps before the end.
    """
    training = model.training
    model.eval()
    try:
        inputs = Tensor(np.asarray(x, dtype=np.float32), requires_grad=True)
        loss = ((model(inputs) - Tensor(np.asarray(y, dtype=np.float32))) ** 2).sum()
        loss.backward()  # a sum of per-sequence losses: each x_n gets its own dL_n/dx_n
    finally:
        model.train(training)
    norms = np.sqrt((inputs.grad.astype(np.float64) ** 2).sum(axis=2)).mean(axis=0)
    return norms[::-1].copy()


def decay_distance(norms, ratio: float) -> int | None:
    """The first distance at which ``norms[d] / norms[0]`` falls below ``ratio`` (None if never)."""
    norms = np.asarray(norms, dtype=float)
    below = np.flatnonzero(norms < ratio * norms[0])
    return int(below[0]) if below.size else None


def lstm_trace(layer, x) -> dict:
    """An LSTM layer's hidden state, cell state and gates over one sequence, step by step.

    Each step recomputes the gate pre-activations from the layer's weights with
    ``nnlab.functional`` (PyTorch order i, f, g, o), so the gates, which the fused layer does
    not return, can be drawn; ``h`` is checked against the fused layer's output sequence.

    Args:
        layer: a built Keras-style ``nnlab.layers.LSTM`` (``weight_ih`` (4H, F), ``weight_hh``
            (4H, H), ``bias`` (4H,) or None; PyTorch's gate blocks i, f, g, o).
        x: (T, features), one sequence.

    Returns:
        {'h', 'c', 'i', 'f', 'g', 'o'} -> (T, units) float arrays.
    """
    x = np.asarray(x, dtype=layer.weight_ih.dtype)
    units = layer.weight_hh.shape[1]
    h = np.zeros((1, units), x.dtype)
    c = np.zeros((1, units), x.dtype)
    trace = {k: [] for k in "hcifgo"}
    with no_grad():
        for t in range(len(x)):
            pre = F.linear(x[t : t + 1], layer.weight_ih, layer.bias) + F.linear(h, layer.weight_hh)
            i, f, g, o = (pre[:, k * units : (k + 1) * units] for k in range(4))
            i, f, g, o = F.sigmoid(i), F.sigmoid(f), F.tanh(g), F.sigmoid(o)
            c = (f * c + i * g).data
            h = (o * F.tanh(Tensor(c))).data
            for key, value in zip("hcifgo", (h, c, i.data, f.data, g.data, o.data), strict=True):
                trace[key].append(value[0])
        fused = layer.run(Tensor(x[None]), None, None, False, False)[0].data[0]
    trace = {k: np.stack(v) for k, v in trace.items()}
    gap = float(np.abs(trace["h"] - fused).max())
    if gap > 1e-4:
        raise RuntimeError(f"step-by-step LSTM differs from the fused layer by {gap:.2e}")
    return trace
