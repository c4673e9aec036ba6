"""Keras-style recurrent layers: SimpleRNN, LSTM and GRU.

Keras's arguments, defaults and equations, over the same fused whole-sequence ops as
``nnlab.nn.LSTM``. Weights are stored in PyTorch's layout (``weight_ih`` (G*units, features),
``weight_hh`` (G*units, units), gate blocks LSTM i, f, g, o and GRU r, z, n);
``get_weights``/``set_weights`` speak Keras's::

    kernel (features, G*units), recurrent_kernel (units, G*units), bias
    LSTM gate blocks i, f, c, o (PyTorch's order); bias (4*units,)
    GRU gate blocks z, r, h (PyTorch: r, z, n); bias (2, 3*units) with reset_after=True (input
    and recurrent biases), else (3*units,)

The conversions live in ``nnlab.layers.keras_weights``.
"""

import numpy as np

from nnlab.layers.base import Layer
from nnlab.layers.keras_weights import import_keras_weights, keras_to_torch, torch_to_keras
from nnlab.layers.masks import resolve_mask, set_mask
from nnlab.layers.serialize import regularizer_from_config, to_config
from nnlab.nn import recurrent as rnn_ops
from nnlab.nn.module import Parameter, register

__all__ = [
    "GRU",
    "LSTM",
    "RecurrentLayer",
    "SimpleRNN",
    "import_keras_weights",
    "keras_to_torch",
    "torch_to_keras",
]

# ---- layers ---------------------------------------------------------------------------------


class RecurrentLayer(Layer):
    """Base of SimpleRNN, LSTM and GRU: one direction of one recurrent layer over a whole
    sequence, Keras's arguments (see ``SimpleRNN``), weights in PyTorch's layout."""

    _gates = 1
    _reset = True  # GRU's reset_after; the weight layout of the others never changes

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        zero_output_for_mask: bool = False,
        bptt_steps: int | None = None,
        **base,
    ):
        super().__init__(**base)
        name = type(self).__name__
        if int(units) <= 0:
            raise ValueError(f"{name} units must be a positive integer, got {units}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name} dropout must be in [0, 1), got {dropout}")
        if recurrent_dropout:
            raise ValueError(
                f"{name}: recurrent_dropout is not supported (the fused op multiplies all "
                "samples' states by one weight matrix per step); use dropout, or a Dropout "
                "layer between recurrent layers"
            )
        self.units, self.activation, self.use_bias = int(units), activation, bool(use_bias)
        self.kernel_initializer, self.recurrent_initializer = (
            kernel_initializer,
            recurrent_initializer,
        )
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizer_from_config(kernel_regularizer)
        self.recurrent_regularizer = regularizer_from_config(recurrent_regularizer)
        self.bias_regularizer = regularizer_from_config(bias_regularizer)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.zero_output_for_mask = bool(go_backwards), zero_output_for_mask
        self.bptt_steps = bptt_steps

    # ---- parameters ---------------------------------------------------------------------------
    def build(self, input_shape):
        features, gh = input_shape[-1], self._gates * self.units
        self.weight_ih = Parameter(self.make_weight((gh, features), self.kernel_initializer))
        self.weight_hh = Parameter(self.make_weight((gh, self.units), self.recurrent_initializer))
        bias = self._initial_bias() if self.use_bias else None
        self.register_parameter("bias", None if bias is None else Parameter(bias))

    def _initial_bias(self):
        return self.make_weight((self._gates * self.units,), self.bias_initializer)

    def _biases(self):
        """(b_ih, b_hh) for the op."""
        return self.bias, None

    def get_weights(self) -> list:
        """Keras layout: [kernel (features, G*units), recurrent_kernel (units, G*units), bias]."""
        b_ih, b_hh = (None if b is None else b.data for b in self._biases())
        kind, w_ih, w_hh = type(self).__name__, self.weight_ih.data, self.weight_hh.data
        return torch_to_keras(kind, w_ih, w_hh, b_ih, b_hh, reset_after=self._reset)

    def set_weights(self, weights) -> None:
        """Load Keras-layout weights [kernel, recurrent_kernel(, bias)] (builds if needed)."""
        kernel = np.asarray(weights[0])
        self.ensure_built((None, None, kernel.shape[0]))
        expected = [w.shape for w in self.get_weights()]
        got = [np.shape(w) for w in weights]
        if got != expected:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects weights {expected}")
        bias = weights[2] if self.use_bias else None
        converted = keras_to_torch(type(self).__name__, kernel, weights[1], bias, self._reset)
        self.weight_ih.data[...] = converted["weight_ih"]
        self.weight_hh.data[...] = converted["weight_hh"]
        for param, key in zip(self._biases(), ("bias_ih", "bias_hh"), strict=True):
            if param is not None:
                param.data[...] = converted[key]

    def own_losses(self) -> list:
        if not self.built:
            return []
        pairs = [
            (self.kernel_regularizer, self.weight_ih),
            (self.recurrent_regularizer, self.weight_hh),
        ] + [(self.bias_regularizer, b) for b in self._biases() if b is not None]
        return [reg(p) for reg, p in pairs if reg is not None]

    # ---- calling ------------------------------------------------------------------------------
    def forward(self, x, initial_state=None, mask=None, training=None):
        """Run the layer over ``x`` (N, T, features).

        Args:
            initial_state: the initial state (N, units), or a list of them ([h, c] for LSTM).
            mask: (N, T) bool, True at real steps (default: the mask carried by ``x``).
            training: apply dropout (default: the layer's training mode).

        Returns: the last output (N, units), or the sequence (N, T, units) with
            ``return_sequences``; with ``return_state`` a tuple (output, *final states).
        """
        mask = resolve_mask(x, mask, f"{type(self).__name__} '{self.name}'")  # before any cast
        x = self.prepare_input(x)
        outputs, states = self.run(x, initial_state, mask, training, self.go_backwards)
        if not self.return_sequences:
            out = states[0]
        else:
            out = outputs[:, ::-1] if self.go_backwards else outputs
            if mask is not None:
                set_mask(out, mask[:, ::-1] if self.go_backwards else mask)
        return (out, *states) if self.return_state else out

    def prepare_input(self, x):
        """``x`` as a Tensor of the layer's dtype, checked to be (N, T, features); builds the
        layer on first use."""
        x = self._as_input(x)
        if x.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects (batch, timesteps, features), "
                f"got shape {x.shape}; add a features axis with x[..., None]"
            )
        self.ensure_built(tuple(x.shape))
        if x.shape[-1] != self.weight_ih.shape[1]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {self.weight_ih.shape[1]} input "
                f"features, got array of shape {x.shape}"
            )
        return x

    def run(self, x, initial_state, mask, training, reverse, zero_masked=None):
        """(time-aligned output sequence, [final states]) of one pass over ``x``."""
        if self.dropout and (self.training if training is None else training):
            keep = self.rng.random((x.shape[0], 1, x.shape[2])) >= self.dropout
            x = x * (keep / (1.0 - self.dropout)).astype(self.dtype)  # one mask for all steps
        states = self._initial_states(initial_state)
        zero_masked = self.zero_output_for_mask if zero_masked is None else zero_masked
        options = {"reverse": reverse, "mask": mask, "zero_masked": zero_masked}
        result = self._sequence(x, states, options | {"bptt_steps": self.bptt_steps})
        return result[0], list(result[1:])

    def _initial_states(self, initial_state):
        count = 2 if self._gates == 4 else 1
        if initial_state is None:
            return [None] * count
        states = list(initial_state) if isinstance(initial_state, list | tuple) else [initial_state]
        if len(states) != count:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' takes {count} initial state(s), got "
                f"{len(states)}"
            )
        return states

    def _sequence(self, x, states, options):
        raise NotImplementedError

    # ---- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": to_config(self.kernel_initializer),
            "recurrent_initializer": to_config(self.recurrent_initializer),
            "bias_initializer": to_config(self.bias_initializer),
            "kernel_regularizer": to_config(self.kernel_regularizer),
            "recurrent_regularizer": to_config(self.recurrent_regularizer),
            "bias_regularizer": to_config(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "zero_output_for_mask": self.zero_output_for_mask,
            "bptt_steps": self.bptt_steps,
        }

    def extra_repr(self) -> str:
        return f"units={self.units}, return_sequences={self.return_sequences}, name={self.name!r}"


def _check_activations(layer, activation, recurrent_activation) -> None:
    if activation != "tanh" or recurrent_activation != "sigmoid":
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' supports activation='tanh' and "
            f"recurrent_activation='sigmoid' (Keras's defaults, fused in one op), got "
            f"{activation!r} and {recurrent_activation!r}"
        )


@register
class SimpleRNN(RecurrentLayer):
    """Fully connected RNN: h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias).

    Args:
        units: size of the state and output.
        activation: 'tanh' (default) or 'relu'.
        use_bias, kernel_initializer ('glorot_uniform'), recurrent_initializer ('orthogonal'),
        bias_initializer ('zeros'), kernel/recurrent/bias_regularizer: as Keras.
        dropout: fraction of input features dropped while training (one mask for all steps).
        return_sequences: return the whole output sequence, not just the last output.
        return_state: also return the final state(s).
        go_backwards: process the sequence backwards (and return the sequence reversed).
        zero_output_for_mask: outputs at masked steps are 0 (default: the latest output).
        bptt_steps: truncated backpropagation through time every that many steps.

    Shape:
        (N, T, features) -> (N, units), or (N, T, units) with return_sequences.
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation, **kwargs)
        if activation not in ("tanh", "relu"):
            raise ValueError(
                f"SimpleRNN '{self.name}' supports activation 'tanh' or 'relu', got {activation!r}"
            )

    def _sequence(self, x, states, options):
        return rnn_ops.rnn_sequence(
            x, states[0], self.weight_ih, self.weight_hh, self.bias,
            nonlinearity=self.activation, **options,
        )  # fmt: skip


@register
class LSTM(RecurrentLayer):
    """Long short-term memory layer (Keras's equations and defaults; gates i, f, c, o).

    Args: as ``SimpleRNN``, plus ``recurrent_activation`` ('sigmoid') and
        ``unit_forget_bias`` (True: the forget gate's bias starts at 1).
        ``return_state`` returns (output, h, c).

    Shape:
        (N, T, features) -> (N, units), or (N, T, units) with return_sequences.
    """

    _gates = 4

    def __init__(
        self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True,
        **kwargs,
    ):  # fmt: skip
        super().__init__(units, activation, **kwargs)
        _check_activations(self, activation, recurrent_activation)
        self.recurrent_activation, self.unit_forget_bias = recurrent_activation, unit_forget_bias

    def _initial_bias(self):
        bias = super()._initial_bias()
        if self.unit_forget_bias:
            units = self.units
            bias[:units] = self.make_weight((units,), self.bias_initializer)
            bias[units : 2 * units] = 1.0
            bias[2 * units :] = self.make_weight((2 * units,), self.bias_initializer)
        return bias

    def _sequence(self, x, states, options):
        return rnn_ops.lstm_sequence(
            x, states[0], states[1], self.weight_ih, self.weight_hh, self.bias, **options
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": self.recurrent_activation,
            "unit_forget_bias": self.unit_forget_bias,
        }


@register
class GRU(RecurrentLayer):
    """Gated recurrent unit layer (Keras's equations and defaults; gates z, r, h).

    Args: as ``SimpleRNN``, plus ``recurrent_activation`` ('sigmoid') and ``reset_after``
        (True, Keras's default and PyTorch's GRU: the reset gate multiplies the recurrent
        projection, with separate input and recurrent biases; False: the original GRU, the
        reset gate multiplies the state before the projection).

    Shape:
        (N, T, features) -> (N, units), or (N, T, units) with return_sequences.
    """

    _gates = 3

    def __init__(
        self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True,
        **kwargs,
    ):  # fmt: skip
        super().__init__(units, activation, **kwargs)
        _check_activations(self, activation, recurrent_activation)
        self.recurrent_activation, self.reset_after = recurrent_activation, bool(reset_after)

    @property
    def _reset(self):
        return self.reset_after

    def build(self, input_shape):
        super().build(input_shape)
        recurrent_bias = None
        if self.use_bias and self.reset_after:
            recurrent_bias = Parameter(self._initial_bias())
        self.register_parameter("recurrent_bias", recurrent_bias)

    def _biases(self):
        return self.bias, self.recurrent_bias

    def _sequence(self, x, states, options):
        return rnn_ops.gru_sequence(
            x, states[0], self.weight_ih, self.weight_hh, self.bias, self.recurrent_bias,
            reset_after=self.reset_after, **options,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": self.recurrent_activation,
            "reset_after": self.reset_after,
        }
