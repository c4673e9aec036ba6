"""Activation layers (PyTorch names and arguments) and ``get``, which turns a Keras-style
activation name, a Module or a plain callable into a Module."""

from collections.abc import Callable

import nnlab.functional as F
from nnlab.nn.module import Module, register


class _Parameterless(Module):
    """An activation without constructor arguments: empty config, empty repr."""

    def get_config(self) -> dict:
        return {}


def _check_inplace(inplace) -> None:
    """PyTorch's ``inplace`` flag, accepted so its code ports unchanged. nnlab never
    overwrites a layer's input: the output is the same either way, only freshly allocated."""
    if not isinstance(inplace, bool):
        raise TypeError(f"inplace must be True or False, got {inplace!r}")


class _InplaceFlag(_Parameterless):
    """A parameterless activation that takes (and ignores) PyTorch's ``inplace`` flag."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        _check_inplace(inplace)


@register
class Identity(_Parameterless):
    """Returns its input unchanged (the 'linear' activation).

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return x


@register
class ReLU(_InplaceFlag):
    """max(x, 0), elementwise. ``inplace`` is accepted for PyTorch's code and ignored (the
    input is never overwritten; the output is the same).

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.relu(x)


@register
class Sigmoid(_Parameterless):
    """1 / (1 + exp(-x)), elementwise.

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.sigmoid(x)


@register
class Tanh(_Parameterless):
    """tanh(x), elementwise.

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.tanh(x)


@register
class SELU(_InplaceFlag):
    """scale * elu(x, alpha) with alpha ~ 1.6733, scale ~ 1.0507 (self-normalising).

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.selu(x)


@register
class SiLU(_InplaceFlag):
    """x * sigmoid(x), also called swish.

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.silu(x)


@register
class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x.

    Args:
        negative_slope: slope of the negative part.
        inplace: accepted for PyTorch's code and ignored (see ``ReLU``).

    Shape: any shape, unchanged.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        _check_inplace(inplace)
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


@register
class ELU(Module):
    """x for x > 0, else alpha * (exp(x) - 1).

    Args:
        alpha: value the negative part saturates to (as -alpha).
        inplace: accepted for PyTorch's code and ignored (see ``ReLU``).

    Shape: any shape, unchanged.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        _check_inplace(inplace)
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def get_config(self) -> dict:
        return {"alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


@register
class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF.

    Args:
        approximate: 'none' (exact, via erfc) or 'tanh'
            (0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))).

    Shape: any shape, unchanged.
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def get_config(self) -> dict:
        return {"approximate": self.approximate}

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


@register
class Softplus(Module):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.

    Args:
        beta: sharpness; larger beta is closer to relu.
        threshold: above this value of beta x the function is taken as linear.

    Shape: any shape, unchanged.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def get_config(self) -> dict:
        return {"beta": self.beta, "threshold": self.threshold}

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _AlongDim(Module):
    """An activation that normalises along one axis, ``dim`` as PyTorch calls it."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = int(dim)

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if "axis" in config:  # the key of files saved before the argument took PyTorch's name
            config["dim"] = config.pop("axis")
        return cls(**config)

    def get_config(self) -> dict:
        return {"dim": self.dim}

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


@register
class Softmax(_AlongDim):
    """exp(x) / sum(exp(x)) along ``dim``: each slice becomes a probability vector.

    Args:
        dim: the axis that sums to 1 (default -1, the last).

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.softmax(x, self.dim)


@register
class LogSoftmax(_AlongDim):
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x).

    Args:
        dim: the axis normalised over (default -1, the last).

    Shape: any shape, unchanged.
    """

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class CallableActivation(Module):
    """Wraps a plain callable (Tensor -> Tensor) so it can sit where a Module is expected.

    Not registered: a config cannot name arbitrary code, so it cannot be saved.
    """

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"cannot save a config for the callable {self.extra_repr()}: use a named "
            f"activation ({', '.join(sorted(_BY_NAME))}) or a registered Module"
        )

    def extra_repr(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)


# Keras activation names (and PyTorch's functional names) -> Module factory.
_BY_NAME: dict[str, Callable[[], Module]] = {
    "linear": Identity,
    "identity": Identity,
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "softplus": Softplus,
    "silu": SiLU,
    "swish": SiLU,
}


def get(spec) -> Module:
    """The activation Module that ``spec`` names.

    Args:
        spec: None or 'linear' (Identity); an activation name such as 'relu', 'gelu' or
            'swish' (case-insensitive, defaults as in PyTorch); a Module (returned as is); a
            Module class such as ``ReLU`` (instantiated with its defaults, as PyTorch code
            often passes ``activation=nn.ReLU``); or a callable taking and returning a Tensor
            (wrapped in a Module).
    """
    if spec is None:
        return Identity()
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str):
        factory = _BY_NAME.get(spec.lower())
        if factory is None:
            raise ValueError(
                f"unknown activation {spec!r}; known names: {', '.join(sorted(_BY_NAME))}"
            )
        return factory()
    if callable(spec):
        return CallableActivation(spec)
    raise TypeError(
        f"activation must be None, a name, a Module or a callable, got {type(spec).__name__}"
    )
