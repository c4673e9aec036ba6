"""Recurrent layers as ``torch.nn``: RNN, LSTM, GRU (stacked, bidirectional), and the
whole-sequence functions they are built on.

Each layer and direction is one fused op (``nnlab.ops.recurrent``): the input projections of
all time steps in one GEMM, one small GEMM per step, weight gradients in one GEMM after the
backward loop. Parameter names, shapes, gate orders and initialisation are PyTorch's, so a
``torch.nn.LSTM`` state dict loads directly; the default layout is batch first (N, T, F).
"""

import math

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.autograd.tensor import Tensor, apply
from nnlab.nn import init
from nnlab.nn.module import Module, Parameter, register
from nnlab.ops import gru, lstm
from nnlab.ops import recurrent as rec

# ---- functional form ----------------------------------------------------------------------


def rnn_sequence(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, **options):
    """One direction of an Elman RNN layer over a whole sequence.

    Args:
        x: (N, T, I). h0: (N, H) or None (zeros).
        weight_ih (H, I), weight_hh (H, H), bias_ih, bias_hh (H,) or None: PyTorch layout.
        **options: ``nonlinearity`` ('tanh' or 'relu'), ``reverse``, ``mask`` (bool (N, T)) or
            ``lengths`` (N,), ``zero_masked``, ``bptt_steps``: see ``nnlab.ops.recurrent``.

    Returns: (output (N, T, H), h_n (N, H)).
    """
    return apply(rec.RNNSequence, x, h0, weight_ih, weight_hh, bias_ih, bias_hh, **options)


def lstm_sequence(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, **options):
    """One direction of an LSTM layer over a whole sequence (gates i, f, g, o).

    Args: as ``rnn_sequence`` with c0 (N, H) or None, weights (4H, I), (4H, H), biases (4H,).

    Returns: (output (N, T, H), h_n (N, H), c_n (N, H)).
    """
    return apply(lstm.LSTMSequence, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, **options)


def gru_sequence(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, **options):
    """One direction of a GRU layer over a whole sequence (gates r, z, n).

    Args: as ``rnn_sequence`` with weights (3H, I), (3H, H), biases (3H,); option
        ``reset_after`` (default True, PyTorch's GRU; False: Keras's original GRU).

    Returns: (output (N, T, H), h_n (N, H)).
    """
    return apply(gru.GRUSequence, x, h0, weight_ih, weight_hh, bias_ih, bias_hh, **options)


# ---- modules ------------------------------------------------------------------------------


class RNNBase(Module):
    """Stacked, optionally bidirectional recurrent layers; subclasses pick the cell."""

    _gates = 1
    _has_cell = False

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=True,
        dropout=0.0,
        bidirectional=False,
        *,
        rng=None,
        dtype=None,
    ):
        super().__init__()
        name = type(self).__name__
        if int(input_size) <= 0 or int(hidden_size) <= 0 or int(num_layers) <= 0:
            raise ValueError(
                f"{name} needs positive input_size, hidden_size and num_layers, got "
                f"{input_size}, {hidden_size} and {num_layers}"
            )
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{name} dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self._rng = rng
        self._dropout_rng = backend.get_generator(rng)
        dtype = np.dtype(dtype or backend.default_dtype())
        gh = self._gates * self.hidden_size
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for suffix in self._suffixes():
                tag = f"l{layer}{suffix}"
                setattr(self, f"weight_ih_{tag}", Parameter(np.empty((gh, in_size), dtype)))
                setattr(self, f"weight_hh_{tag}", Parameter(np.empty((gh, hidden_size), dtype)))
                if self.bias:
                    setattr(self, f"bias_ih_{tag}", Parameter(np.empty(gh, dtype)))
                    setattr(self, f"bias_hh_{tag}", Parameter(np.empty(gh, dtype)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self, rng=None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (PyTorch)."""
        gen = backend.get_generator(rng if rng is not None else self._rng)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            p.data = init.random_uniform(p.shape, gen, p.dtype, -bound, bound)

    def _layer_params(self, layer: int, direction: int):
        tag = f"l{layer}{self._suffixes()[direction]}"
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        params = [getattr(self, f"{n}_{tag}") for n in names]
        return params + [None] * (4 - len(params))

    def _run(self, x, h0, c0, params, reverse, mask, lengths):
        raise NotImplementedError

    def forward(self, x, hx=None, *, lengths=None, mask=None):
        """Run the layers over ``x``.

        Args:
            x: (N, T, input_size) (or (T, N, input_size) with batch_first=False; (T, input_size)
                for one unbatched sequence).
            hx: initial states (num_layers * num_directions, N, hidden_size), zeros if None;
                for LSTM a pair (h0, c0).
            lengths: optional (N,) true lengths of right-padded sequences, or ``mask`` (N, T)
                bool of real steps: the state skips padded steps and the output is 0 there,
                as PyTorch's packed sequences.

        Returns:
            (output (N, T, num_directions * hidden_size), h_n) with h_n of shape
            (num_layers * num_directions, N, hidden_size); for LSTM (output, (h_n, c_n)).
        """
        unbatched = np.ndim(x) == 2
        x, h0, c0 = self._check_inputs(x, hx, unbatched)
        if not self.batch_first and not unbatched:
            x = F.transpose(x, (1, 0, 2))
        finals_h, finals_c, layer_input = [], [], x
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                h0_k = None if h0 is None else h0[k]
                c0_k = None if c0 is None else c0[k]
                params = self._layer_params(layer, d)
                out = self._run(layer_input, h0_k, c0_k, params, bool(d), mask, lengths)
                outputs.append(out[0])
                finals_h.append(out[1])
                finals_c.extend(out[2:])
            layer_input = outputs[0] if len(outputs) == 1 else F.concat(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, rng=self._dropout_rng)
        output, h_n = layer_input, F.stack(finals_h, axis=0)
        c_n = F.stack(finals_c, axis=0) if self._has_cell else None
        if unbatched:
            output, h_n = output[0], h_n[:, 0]
            c_n = None if c_n is None else c_n[:, 0]
        elif not self.batch_first:
            output = F.transpose(output, (1, 0, 2))
        return (output, (h_n, c_n)) if self._has_cell else (output, h_n)

    def _check_inputs(self, x, hx, unbatched):
        """Validated (x, h0, c0); unbatched inputs get a batch axis of 1."""
        name = type(self).__name__
        shape = np.shape(x)
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            raise ValueError(
                f"{name}(input_size={self.input_size}) expects input of shape (N, T, "
                f"{self.input_size}) (batch_first={self.batch_first}), got {tuple(shape)}"
            )
        if unbatched:
            x = F.unsqueeze(x, 0) if isinstance(x, Tensor) else np.asarray(x)[None]
        n = x.shape[0] if (self.batch_first or unbatched) else x.shape[1]
        if self._has_cell:
            if hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
                raise ValueError(f"{name} expects hx = (h0, c0), got {type(hx).__name__}")
            h0, c0 = (None, None) if hx is None else hx
        else:
            h0, c0 = hx, None
        expected = (self.num_layers * self.num_directions, n, self.hidden_size)
        states = [self._batched_state(s, unbatched) for s in (h0, c0)]
        for s in states:
            if s is not None and tuple(s.shape) != expected:
                raise ValueError(
                    f"{name} expects initial states of shape (num_layers * num_directions, "
                    f"N, hidden_size) = {expected}, got {tuple(s.shape)}"
                )
        return x, states[0], states[1]

    @staticmethod
    def _batched_state(s, unbatched):
        if s is None or not unbatched:
            return s
        return F.unsqueeze(s, 1) if isinstance(s, Tensor) else np.asarray(s)[:, None]

    def get_config(self) -> dict:
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": self.batch_first,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
            "dtype": self.weight_ih_l0.dtype.name,
        }

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        text += f", batch_first={self.batch_first}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


@register
class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), as ``torch.nn.RNN``.

    Args:
        input_size, hidden_size: features of x and of h.
        num_layers: stacked layers (each feeds its output sequence to the next).
        nonlinearity: 'tanh' (default) or 'relu'.
        bias: learn b_ih and b_hh.
        batch_first: x is (N, T, F) (default True, nnlab's layout; PyTorch's default is False).
        dropout: dropout on each layer's output except the last, while training.
        bidirectional: add a layer reading the sequence backwards; outputs are concatenated.
        rng: Generator or seed for the initial weights and the dropout masks.
        dtype: parameter dtype.

    Shape:
        x (N, T, input_size), h0 (num_layers * D, N, hidden_size) ->
        output (N, T, D * hidden_size), h_n (num_layers * D, N, hidden_size); D = 2 if
        bidirectional else 1.

    Attributes:
        weight_ih_l{k}[_reverse] (hidden_size, in), weight_hh_l{k}[_reverse] (hidden_size,
        hidden_size), bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse] (hidden_size,).
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=True,
        dropout=0.0,
        bidirectional=False,
        *,
        rng=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            rng=rng, dtype=dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity

    def _run(self, x, h0, c0, params, reverse, mask, lengths):
        return rnn_sequence(
            x, h0, *params, nonlinearity=self.nonlinearity, reverse=reverse, mask=mask,
            lengths=lengths,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {**super().get_config(), "nonlinearity": self.nonlinearity}

    def extra_repr(self) -> str:
        extra = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + extra


SimpleRNN = RNN


@register
class LSTM(RNNBase):
    """Long short-term memory, as ``torch.nn.LSTM`` (gates i, f, g, o)::

        i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*);  g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        c' = f * c + i * g;  h' = o * tanh(c')

    Args: as ``RNN`` (without ``nonlinearity``). Called as ``lstm(x, (h0, c0))``.

    Shape:
        output (N, T, D * hidden_size); h_n, c_n (num_layers * D, N, hidden_size).

    Attributes:
        weight_ih_l{k}[_reverse] (4 * hidden_size, in), weight_hh_l{k}[_reverse]
        (4 * hidden_size, hidden_size), biases (4 * hidden_size,); gate blocks i, f, g, o.
    """

    _gates, _has_cell = 4, True

    def _run(self, x, h0, c0, params, reverse, mask, lengths):
        return lstm_sequence(x, h0, c0, *params, reverse=reverse, mask=mask, lengths=lengths)


@register
class GRU(RNNBase):
    """Gated recurrent unit, as ``torch.nn.GRU`` (gates r, z, n)::

        r, z = sigmoid(W_i* x + b_i* + W_h* h + b_h*)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn));  h' = (1 - z) * n + z * h

    Args: as ``RNN`` (without ``nonlinearity``).

    Shape:
        output (N, T, D * hidden_size); h_n (num_layers * D, N, hidden_size).

    Attributes:
        weight_ih_l{k}[_reverse] (3 * hidden_size, in), weight_hh_l{k}[_reverse]
        (3 * hidden_size, hidden_size), biases (3 * hidden_size,); gate blocks r, z, n.
    """

    _gates = 3

    def _run(self, x, h0, c0, params, reverse, mask, lengths):
        return gru_sequence(x, h0, *params, reverse=reverse, mask=mask, lengths=lengths)
