"""Keras-style core layers: Dense, Activation, Dropout, Flatten, Reshape."""

import numpy as np

from nnlab import functional as F
from nnlab.layers.base import Layer
from nnlab.layers.serialize import activation_from_config, regularizer_from_config, to_config
from nnlab.nn.module import Parameter, register


@register
class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)``.

    The weight is stored as PyTorch's ``weight`` of shape (units, in_features); ``kernel``
    gives Keras's (in_features, units) view of the same array. Defaults as Keras:
    Glorot-uniform kernel, zero bias.

    Args:
        units: output features.
        activation: name ('relu', 'softmax', ...), module or callable; None is linear.
        use_bias: add a bias vector.
        kernel_initializer, bias_initializer: initializer names or functions.
        kernel_regularizer, bias_regularizer: penalties on the weights ('l2', L2(0.01), ...).
        activity_regularizer: penalty on the layer's output, recorded at each call.
        input_dim: optional; builds the layer immediately for that many input features.

    Shape:
        (N, *, in_features) -> (N, *, units)
    """

    passes_mask = True

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        input_dim: int | None = None,
        **base,
    ):
        super().__init__(**base)
        if int(units) <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units}")
        self.units = int(units)
        self.activation_spec = activation
        self.activation = activation_from_config(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = regularizer_from_config(kernel_regularizer)
        self.bias_regularizer = regularizer_from_config(bias_regularizer)
        self.activity_regularizer = regularizer_from_config(activity_regularizer)
        self.input_dim = input_dim
        if input_dim is not None:
            self.ensure_built((None, input_dim))

    def build(self, input_shape):
        in_features = input_shape[-1]
        weight = self.make_weight((self.units, in_features), self.kernel_initializer)
        self.weight = Parameter(weight)
        bias = self.make_weight((self.units,), self.bias_initializer) if self.use_bias else None
        self.register_parameter("bias", Parameter(bias) if bias is not None else None)

    @property
    def kernel(self) -> np.ndarray:
        """The weight in Keras's (in_features, units) layout (a view)."""
        return self.weight.data.T

    def call(self, x):
        if x.shape[-1] != self.weight.shape[1]:
            raise ValueError(
                f"Dense '{self.name}' expects {self.weight.shape[1]} input features, got array "
                f"of shape {x.shape}; the last axis must have {self.weight.shape[1]} entries"
            )
        out = self.activation(F.linear(x, self.weight, self.bias))
        if self.activity_regularizer is not None:
            self._activity_losses = [self.activity_regularizer(out) / out.shape[0]]
        return out

    def own_losses(self) -> list:
        penalties = list(self._activity_losses)
        if self.built and self.kernel_regularizer is not None:
            penalties.append(self.kernel_regularizer(self.weight))
        if self.built and self.bias is not None and self.bias_regularizer is not None:
            penalties.append(self.bias_regularizer(self.bias))
        return penalties

    def get_weights(self) -> list:
        """Keras layout: [kernel (in, units), bias (units,)]."""
        weights = [self.kernel.copy()]
        return weights + ([self.bias.data.copy()] if self.bias is not None else [])

    def set_weights(self, weights) -> None:
        """Load Keras-layout weights [kernel (in, units), bias] (builds the layer if needed)."""
        kernel = np.asarray(weights[0])
        self.ensure_built((None, kernel.shape[0]))
        if kernel.shape != self.kernel.shape:
            raise ValueError(
                f"Dense '{self.name}' kernel must be {self.kernel.shape}, got {kernel.shape}"
            )
        self.weight.data[...] = kernel.T
        if self.bias is not None:
            self.bias.data[...] = np.asarray(weights[1])

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "units": self.units,
            "activation": to_config(self.activation_spec),
            "use_bias": self.use_bias,
            "kernel_initializer": to_config(self.kernel_initializer),
            "bias_initializer": to_config(self.bias_initializer),
            "kernel_regularizer": to_config(self.kernel_regularizer),
            "bias_regularizer": to_config(self.bias_regularizer),
            "activity_regularizer": to_config(self.activity_regularizer),
            "input_dim": self.input_dim,
        }

    def extra_repr(self) -> str:
        return f"units={self.units}, activation={self.activation_spec!r}, name={self.name!r}"


@register
class Activation(Layer):
    """Apply an activation by name ('relu', 'softmax', ...), module or callable."""

    passes_mask = True

    def __init__(self, activation, **base):
        super().__init__(**base)
        self.activation_spec = activation
        self.activation = activation_from_config(activation)

    def call(self, x):
        return self.activation(x)

    def get_config(self) -> dict:
        return {**self.base_config(), "activation": to_config(self.activation_spec)}


@register
class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs while training, scaling the rest by 1/(1-rate).

    Draws its masks from the layer's Generator (``rng``, or ``seed`` as in Keras).
    """

    passes_mask = True

    def __init__(self, rate: float, seed: int | None = None, **base):
        if seed is not None:
            base.setdefault("rng", seed)
        super().__init__(**base)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate, self.seed = float(rate), seed

    def call(self, x):
        return F.dropout(x, self.rate, training=self.training, rng=self.rng)

    def get_config(self) -> dict:
        return {**self.base_config(), "rate": self.rate, "seed": self.seed}


@register
class Flatten(Layer):
    """Flatten every axis but the batch axis: (N, d1, d2, ...) -> (N, d1*d2*...)."""

    def call(self, x):
        return F.flatten(x, 1)

    def get_config(self) -> dict:
        return self.base_config()


@register
class Reshape(Layer):
    """Reshape every axis but the batch axis to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **base):
        super().__init__(**base)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, x):
        per_sample = int(np.prod(x.shape[1:]))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if (-1 not in self.target_shape and known != per_sample) or per_sample % known:
            raise ValueError(
                f"Reshape '{self.name}' cannot turn samples of shape {x.shape[1:]} "
                f"({per_sample} values) into {self.target_shape}"
            )
        return F.reshape(x, (x.shape[0],) + self.target_shape)

    def get_config(self) -> dict:
        return {**self.base_config(), "target_shape": list(self.target_shape)}


@register
class RepeatVector(Layer):
    """Repeat each sample's vector ``n`` times along a new time axis: (N, F) -> (N, n, F)
    (an LSTM autoencoder feeds its code to the decoder this way)."""

    def __init__(self, n, **base):
        super().__init__(**base)
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"RepeatVector n must be a positive int, got {n!r}")
        self.n = n

    def call(self, x):
        if x.ndim != 2:
            raise ValueError(
                f"RepeatVector '{self.name}' expects (batch, features), got shape {x.shape}"
            )
        return F.broadcast_to(F.unsqueeze(x, 1), (x.shape[0], self.n, x.shape[1]))

    def get_config(self) -> dict:
        return {**self.base_config(), "n": self.n}
