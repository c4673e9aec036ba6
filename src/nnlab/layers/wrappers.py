"""Keras-style layer wrappers: Bidirectional (a recurrent layer run both ways) and
TimeDistributed (any layer applied to every time step)."""

from nnlab import functional as F
from nnlab.layers.base import Layer
from nnlab.layers.masks import get_mask, resolve_mask, set_mask
from nnlab.layers.recurrent import RecurrentLayer
from nnlab.nn.module import Module, class_key, register, registered

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _layer_config(layer) -> dict:
    return {"class_name": class_key(type(layer)), "config": layer.get_config()}


def _layer_from_config(spec):
    return registered(spec["class_name"]).from_config(dict(spec["config"]))


@register
class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards, and merge the two.

    Args:
        layer: a SimpleRNN, LSTM or GRU (it becomes the forward layer).
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave', or None (a list of both outputs).
        backward_layer: optional layer for the backward direction (default: a copy of
            ``layer``'s configuration with ``go_backwards`` flipped).

    The backward layer's output sequence is put back in time order before merging, and
    masked steps output 0 in both directions (as Keras). With ``return_state`` the result is
    (output, *forward states, *backward states).

    Shape:
        (N, T, features) -> (N, 2 * units) with 'concat' ((N, units) otherwise), or
        (N, T, 2 * units) with return_sequences.
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **base):
        if not isinstance(layer, RecurrentLayer):
            raise TypeError(
                f"Bidirectional wraps a SimpleRNN, LSTM or GRU layer, got {type(layer).__name__}"
            )
        base.setdefault("dtype", layer.dtype)
        super().__init__(**base)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {_MERGE_MODES}, got {merge_mode!r}")
        if backward_layer is None:
            config = layer.get_config()
            config.update(name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            backward_layer = type(layer).from_config(config)
        for a, b in ((layer.return_sequences, backward_layer.return_sequences),
                     (layer.return_state, backward_layer.return_state)):  # fmt: skip
            if a != b:
                raise ValueError(
                    "Bidirectional needs forward and backward layers with the same "
                    "return_sequences and return_state"
                )
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self.built = True  # the wrapped layers build themselves

    def forward(self, x, initial_state=None, mask=None, training=None):
        mask = resolve_mask(x, mask, f"Bidirectional '{self.name}'")  # before any cast
        x = self._as_input(x)
        init_f = init_b = None
        if initial_state is not None:
            states = list(initial_state)
            half = len(states) // 2
            init_f, init_b = states[:half], states[half:]
        outputs, all_states = [], []
        for layer, init, backward in ((self.forward_layer, init_f, False),
                                      (self.backward_layer, init_b, True)):  # fmt: skip
            x_in = layer.prepare_input(x)
            zero = self.return_sequences  # Keras forces 0 outputs at masked steps here
            seq, states = layer.run(x_in, init, mask, training, layer.go_backwards, zero)
            if self.return_sequences:
                if layer.go_backwards != backward:  # keep both in the input's time order
                    seq = seq[:, ::-1]
                outputs.append(seq)
            else:
                outputs.append(states[0])
            all_states += states
        out = self._merge(*outputs)
        if self.return_sequences and mask is not None and self.merge_mode is not None:
            set_mask(out, mask)
        return (out, *all_states) if self.return_state else out

    def _merge(self, a, b):
        if self.merge_mode == "concat":
            return F.concat([a, b], axis=-1)
        if self.merge_mode == "sum":
            return a + b
        if self.merge_mode == "mul":
            return a * b
        if self.merge_mode == "ave":
            return (a + b) * 0.5
        return [a, b]

    def get_weights(self) -> list:
        """The forward layer's Keras weights, then the backward layer's."""
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def set_weights(self, weights) -> None:
        half = len(weights) // 2
        self.forward_layer.set_weights(weights[:half])
        self.backward_layer.set_weights(weights[half:])

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "layer": _layer_config(self.forward_layer),
            "merge_mode": self.merge_mode,
            "backward_layer": _layer_config(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        layer = _layer_from_config(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        backward = None if backward is None else _layer_from_config(backward)
        return cls(layer, backward_layer=backward, **config)


@register
class TimeDistributed(Layer):
    """Apply ``layer`` to every time step: (N, T, ...) is reshaped to (N*T, ...), passed
    through ``layer`` and reshaped back to (N, T, ...). The input's mask passes through.

    Shape:
        (N, T, *in) -> (N, T, *out), where ``layer`` maps (B, *in) -> (B, *out).
    """

    def __init__(self, layer, **base):
        if not isinstance(layer, Module):
            raise TypeError(f"TimeDistributed wraps a layer, got {type(layer).__name__}")
        if isinstance(layer, Layer):
            base.setdefault("dtype", layer.dtype)
        super().__init__(**base)
        self.layer = layer
        self.built = True

    def forward(self, x, mask=None):
        mask = get_mask(x) if mask is None else mask  # before any cast
        x = self._as_input(x)
        if x.ndim < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' expects (batch, timesteps, ...), got shape "
                f"{x.shape}"
            )
        n, steps = x.shape[:2]
        y = self.layer(F.reshape(x, (n * steps,) + tuple(x.shape[2:])))
        out = F.reshape(y, (n, steps) + tuple(y.shape[1:]))
        return set_mask(out, mask)

    def get_config(self) -> dict:
        return {**self.base_config(), "layer": _layer_config(self.layer)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        return cls(_layer_from_config(config.pop("layer")), **config)
