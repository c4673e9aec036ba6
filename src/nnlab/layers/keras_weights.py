"""Keras <-> PyTorch weights of recurrent layers.

Keras keeps ``kernel`` (features, G*units), ``recurrent_kernel`` (units, G*units) and one bias
(GRU with reset_after: (2, 3*units), input and recurrent); PyTorch keeps ``weight_ih``
(G*units, features), ``weight_hh`` (G*units, units), ``bias_ih`` and ``bias_hh``. LSTM gate
blocks are in the same order (Keras i, f, c, o = PyTorch i, f, g, o); GRU's first two are
swapped (Keras z, r, h; PyTorch r, z, n). See reference/reliability.md, "RNN gate
conventions".
"""

import numpy as np

from nnlab.nn.recurrent import RNNBase

_GATES = {"SimpleRNN": 1, "RNN": 1, "LSTM": 4, "GRU": 3}


def _gru_swap(a, axis: int):
    """Swap the first two of three gate blocks along ``axis``: Keras z, r, h <-> PyTorch r, z,
    n (the swap is its own inverse)."""
    z, r, rest = np.split(np.asarray(a), 3, axis=axis)
    return np.concatenate([r, z, rest], axis=axis)


def keras_to_torch(kind: str, kernel, recurrent_kernel, bias=None, reset_after=True) -> dict:
    """Keras weights of a SimpleRNN/LSTM/GRU layer as PyTorch's ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh`` (Keras's single bias goes to ``bias_ih``, ``bias_hh`` is zero).

    A Keras GRU with ``reset_after=False`` has no PyTorch equivalent (its reset gate acts
    before W_hn); its weights still convert, with ``bias_hh`` None, for nnlab's own GRU layer.
    """
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {sorted(_GATES)}, got {kind!r}")
    kernel, recurrent = np.asarray(kernel), np.asarray(recurrent_kernel)
    units = recurrent.shape[0]
    if recurrent.shape != (units, _GATES[kind] * units) or kernel.shape[1] != recurrent.shape[1]:
        raise ValueError(
            f"Keras {kind} weights do not fit together: kernel {kernel.shape}, recurrent_kernel "
            f"{recurrent.shape} (expected (features, {_GATES[kind]}*units) and (units, "
            f"{_GATES[kind]}*units))"
        )
    bias_ih = bias_hh = None
    if bias is not None:
        bias = np.asarray(bias)
        if kind == "GRU" and reset_after:
            bias_ih, bias_hh = bias[0], bias[1]
        else:
            bias_ih, bias_hh = bias, np.zeros_like(bias)
    if kind == "GRU":
        kernel, recurrent = _gru_swap(kernel, 1), _gru_swap(recurrent, 1)
        bias_ih = None if bias_ih is None else _gru_swap(bias_ih, 0)
        bias_hh = None if bias_hh is None or not reset_after else _gru_swap(bias_hh, 0)
    return {
        "weight_ih": np.ascontiguousarray(kernel.T),
        "weight_hh": np.ascontiguousarray(recurrent.T),
        "bias_ih": bias_ih,
        "bias_hh": bias_hh,
    }


def torch_to_keras(
    kind: str, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reset_after=True
) -> list:
    """PyTorch-layout weights as Keras's [kernel, recurrent_kernel(, bias)]: SimpleRNN and LSTM
    fold the two biases into one; GRU stacks them as (2, 3*units), or with
    ``reset_after=False`` (no recurrent bias) gives the input bias (3*units,)."""
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {sorted(_GATES)}, got {kind!r}")
    w_ih, w_hh = np.asarray(weight_ih), np.asarray(weight_hh)
    if kind == "GRU":
        w_ih, w_hh = _gru_swap(w_ih, 0), _gru_swap(w_hh, 0)
    weights = [np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T)]
    if bias_ih is None and bias_hh is None:
        return weights
    b_ih = np.zeros(w_ih.shape[0], w_ih.dtype) if bias_ih is None else np.asarray(bias_ih)
    b_hh = np.zeros_like(b_ih) if bias_hh is None else np.asarray(bias_hh)
    if kind == "GRU" and reset_after:
        return weights + [np.stack([_gru_swap(b_ih, 0), _gru_swap(b_hh, 0)])]
    if kind == "GRU":
        if bias_hh is not None:
            raise ValueError("a GRU with reset_after=False has no recurrent bias")
        return weights + [_gru_swap(b_ih, 0)]
    return weights + [b_ih + b_hh]


def import_keras_weights(target, weights, layer: int = 0, reverse: bool = False) -> None:
    """Load Keras-layout weights [kernel, recurrent_kernel(, bias)] into ``target``: a
    Keras-style layer of this module (its ``set_weights``) or one layer and direction of an
    ``nnlab.nn`` RNN/LSTM/GRU (PyTorch equations; a Keras GRU must use reset_after=True)."""
    kind = type(target).__name__
    if not isinstance(target, RNNBase):
        if not hasattr(target, "set_weights"):
            raise TypeError(f"cannot load Keras recurrent weights into {kind}")
        target.set_weights(weights)  # a Keras-style layer
        return
    converted = keras_to_torch(kind, *weights)
    tag = f"l{layer}{'_reverse' if reverse else ''}"
    state = {f"{k}_{tag}": v for k, v in converted.items() if v is not None}
    if not target.bias:
        state = {k: v for k, v in state.items() if not k.startswith("bias")}
    elif len(weights) < 3:
        raise ValueError(f"{kind} has biases: pass [kernel, recurrent_kernel, bias]")
    current = target.state_dict()
    missing = [k for k in state if k not in current]
    if missing:
        raise ValueError(f"{kind} has no parameters {missing} (layer={layer}, reverse={reverse})")
    current.update(state)
    target.load_state_dict(current)
