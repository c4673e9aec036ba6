"""Linear: the fully connected layer y = x W^T + b, as ``torch.nn.Linear``."""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.nn import init
from nnlab.nn.module import Module, Parameter, register


@register
class Linear(Module):
    """Apply y = x W^T + b to the last axis of the input.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        weight_initializer: an ``nn.init`` name, dict or function for the weight. Default
            (None): PyTorch's, ``kaiming_uniform(a=sqrt(5))``, i.e.
            U(-1/sqrt(in_features), 1/sqrt(in_features)).
        bias_initializer: likewise for the bias. Default (None): PyTorch's,
            U(-1/sqrt(in_features), 1/sqrt(in_features)).
        rng: Generator or int seed for the initial weights (default: the library's).
        dtype: parameter dtype (default: the library's default float dtype).

    Shape:
        input (*, in_features) -> output (*, out_features).

    Attributes:
        weight: (out_features, in_features). bias: (out_features,) or None.
    """

    def __init__(
        self,
        in_features,
        out_features,
        bias=True,
        *,
        weight_initializer=None,
        bias_initializer=None,
        rng=None,
        dtype=None,
    ):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight_initializer, self.bias_initializer = weight_initializer, bias_initializer
        self._rng = rng
        dtype = np.dtype(dtype or backend.default_dtype())
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, rng=None) -> None:
        """Draw fresh weights (from ``rng``, else the constructor's rng)."""
        gen = backend.get_generator(rng if rng is not None else self._rng)
        init.reset_weight_and_bias(
            self.weight, self.bias, gen, self.weight_initializer, self.bias_initializer
        )

    def forward(self, x):
        shape = np.shape(x)  # Tensors and arrays alike
        if len(shape) == 0 or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) got input of shape {tuple(shape)}: "
                f"the last dimension must be {self.in_features} (build "
                f"Linear({shape[-1] if shape else '?'}, {self.out_features}) or fix the "
                f"layer before it)"
            )
        return F.linear(x, self.weight, self.bias)

    def get_config(self) -> dict:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
            "weight_initializer": init.serialize(self.weight_initializer),
            "bias_initializer": init.serialize(self.bias_initializer),
            "dtype": self.weight.dtype.name,
        }

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
