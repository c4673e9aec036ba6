"""Weight initializers: pure functions ``name(shape, rng=None, dtype=None, **hyper) -> ndarray``.

Every initializer draws from an explicit ``numpy.random.Generator`` (``rng``; None means the
library's, see ``backend.get_generator``) and returns a new array of ``dtype`` (default: the
library's default float dtype). Nothing is modified in place.

Fans follow PyTorch's weight layout ``(out, in, *kernel)``::

    fan_in  = in  * prod(kernel)        fan_out = out * prod(kernel)

A 1-D shape has fan_in = fan_out = shape[0]; a scalar has both equal to 1.

Two families share similar names but differ, and both are provided on purpose:

- PyTorch names (``xavier_*``, ``kaiming_*``) follow ``torch.nn.init``: the normal variants
  draw from a plain normal with std = gain * sqrt(2 / (fan_in + fan_out)) (xavier) or
  gain / sqrt(fan) (kaiming), uniform variants from U(-sqrt(3) std, sqrt(3) std).
- Keras names (``glorot_*``, ``he_*``, ``lecun_*``) follow ``keras.initializers``
  (VarianceScaling): the uniform variants equal PyTorch's, but the normal variants draw from
  a normal TRUNCATED at two standard deviations whose stddev is first divided by
  0.87962566103423978 (the std of a unit normal truncated to [-2, 2]), so the resulting
  variance is exactly scale / fan. Example: ``he_normal`` gives std sqrt(2 / fan_in) with no
  sample beyond 2 * sqrt(2 / fan_in) / 0.8796; ``kaiming_normal`` gives the same std with
  unbounded tails.

``get(spec)`` resolves either family by name (also CamelCase class names such as
``"GlorotUniform"`` and PyTorch's trailing underscore, ``"xavier_uniform_"``).
"""

import math
import re

import numpy as np

from nnlab import backend
from nnlab.autograd.tensor import Tensor

# Std of a standard normal truncated to [-2, 2]; Keras divides by it (keras VarianceScaling).
_TRUNCATED_STD = 0.87962566103423978


# ---- helpers ------------------------------------------------------------------------------


def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` in PyTorch's (out, in, *kernel) layout.

    Args:
        shape: the weight's shape. 0-D gives (1, 1); 1-D gives (shape[0], shape[0]).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity``, as ``torch.nn.init.calculate_gain``.

    Args:
        nonlinearity: 'linear', 'conv1d'..'conv3d', 'conv_transpose1d'..'3d', 'sigmoid'
            (all 1), 'tanh' (5/3), 'relu' (sqrt 2), 'leaky_relu' (sqrt(2 / (1 + slope^2))),
            'selu' (3/4).
        param: the negative slope of leaky_relu (default 0.01).
    """
    ones = {"linear", "sigmoid", "conv1d", "conv2d", "conv3d"}
    ones |= {f"conv_transpose{d}d" for d in (1, 2, 3)}
    if nonlinearity in ones:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        # PyTorch's choice for self-normalising networks (keeps the forward variance at 1).
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)


def _setup(shape, rng, dtype):
    return _shape(shape), backend.get_generator(rng), np.dtype(dtype or backend.default_dtype())


def _uniform(shape, rng, dtype, low, high):
    shape, gen, dtype = _setup(shape, rng, dtype)
    return gen.uniform(low, high, size=shape).astype(dtype)


def _normal(shape, rng, dtype, mean, std):
    shape, gen, dtype = _setup(shape, rng, dtype)
    return (mean + std * gen.standard_normal(shape)).astype(dtype)


def _truncated_normal(shape, rng, dtype, std):
    """Normal(0, std) with samples beyond 2 std redrawn (Keras's truncated normal)."""
    shape, gen, dtype = _setup(shape, rng, dtype)
    z = gen.standard_normal(shape)
    bad = np.abs(z) > 2
    # Each round redraws ~4.6% of the remaining outliers: a handful of rounds, no per-sample loop.
    while bad.any():
        z[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return (std * z).astype(dtype)


def _fan(shape, mode: str) -> float:
    fan_in, fan_out = fan_in_and_fan_out(_shape(shape))
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")


# ---- constants and plain random -----------------------------------------------------------


def zeros(shape, rng=None, dtype=None) -> np.ndarray:
    """All zeros (``rng`` is accepted so every initializer has one signature; unused)."""
    return np.zeros(_shape(shape), np.dtype(dtype or backend.default_dtype()))


def ones(shape, rng=None, dtype=None) -> np.ndarray:
    """All ones."""
    return np.ones(_shape(shape), np.dtype(dtype or backend.default_dtype()))


def constant(shape, rng=None, dtype=None, value=0.0) -> np.ndarray:
    """Every element equal to ``value``."""
    return np.full(_shape(shape), value, np.dtype(dtype or backend.default_dtype()))


def random_normal(shape, rng=None, dtype=None, mean=0.0, stddev=0.05) -> np.ndarray:
    """N(mean, stddev^2) (Keras ``RandomNormal`` defaults)."""
    return _normal(shape, rng, dtype, mean, stddev)


def random_uniform(shape, rng=None, dtype=None, minval=-0.05, maxval=0.05) -> np.ndarray:
    """U(minval, maxval) (Keras ``RandomUniform`` defaults)."""
    return _uniform(shape, rng, dtype, minval, maxval)


def truncated_normal(shape, rng=None, dtype=None, mean=0.0, stddev=0.05) -> np.ndarray:
    """N(mean, stddev^2) with samples beyond 2 stddev redrawn (Keras ``TruncatedNormal``)."""
    return mean + _truncated_normal(shape, rng, dtype, stddev)


def small_random(shape, rng=None, dtype=None, scale=0.01) -> np.ndarray:
    """``randn(*shape) * 0.01``: the seed documents' "small random" weights."""
    return _normal(shape, rng, dtype, 0.0, scale)


# ---- PyTorch family -----------------------------------------------------------------------


def xavier_uniform(shape, rng=None, dtype=None, gain=1.0) -> np.ndarray:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (``torch.nn.init.xavier_uniform_``)."""
    fan_in, fan_out = fan_in_and_fan_out(_shape(shape))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(shape, rng, dtype, -bound, bound)


def xavier_normal(shape, rng=None, dtype=None, gain=1.0) -> np.ndarray:
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)), untruncated (PyTorch)."""
    fan_in, fan_out = fan_in_and_fan_out(_shape(shape))
    return _normal(shape, rng, dtype, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform(
    shape, rng=None, dtype=None, a=0.0, mode="fan_in", nonlinearity="leaky_relu"
) -> np.ndarray:
    """U(-b, b) with b = gain * sqrt(3 / fan) (``torch.nn.init.kaiming_uniform_``).

    Args:
        a: negative slope of the leaky_relu after this layer (0: plain relu, gain sqrt 2).
            ``a=sqrt(5)`` reproduces ``torch.nn.Linear``'s default weights: b = 1/sqrt(fan_in).
        mode: 'fan_in' (preserve forward variance) or 'fan_out' (backward).
        nonlinearity: 'relu' or 'leaky_relu' (uses ``a``), or any ``calculate_gain`` name.
    """
    fan = _fan(shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    bound = math.sqrt(3.0) * std
    return _uniform(shape, rng, dtype, -bound, bound)


def kaiming_normal(
    shape, rng=None, dtype=None, a=0.0, mode="fan_in", nonlinearity="leaky_relu"
) -> np.ndarray:
    """N(0, std^2) with std = gain / sqrt(fan), untruncated (``torch.nn.init.kaiming_normal_``).

    Args: as ``kaiming_uniform``.
    """
    fan = _fan(shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return _normal(shape, rng, dtype, 0.0, std)


def orthogonal(shape, rng=None, dtype=None, gain=1.0) -> np.ndarray:
    """A (semi-)orthogonal matrix times ``gain`` (``torch.nn.init.orthogonal_``).

    The weight is viewed as (shape[0], prod(shape[1:])); its rows (or columns, whichever are
    fewer) are orthonormal. Q comes from the QR decomposition of a standard normal matrix,
    with the signs of R's diagonal folded into Q so the result is uniformly (Haar) distributed.
    """
    shape, gen, dtype = _setup(shape, rng, dtype)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a shape with at least 2 dimensions, got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = gen.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(dtype)


# ---- Keras family -------------------------------------------------------------------------


def reset_weight_and_bias(weight, bias, rng, weight_initializer=None, bias_initializer=None):
    """Give a layer's ``weight`` and ``bias`` Parameters fresh arrays: from the named
    initializers, or PyTorch's default for Linear and Conv layers when None —
    kaiming_uniform(a=sqrt(5)) for the weight, i.e. U(+-1/sqrt(fan_in)), and
    U(+-1/sqrt(fan_in)) for the bias, fan_in from the weight's layout."""
    shape, dtype = weight.shape, weight.dtype
    if weight_initializer is None:
        weight.data = kaiming_uniform(shape, rng, dtype, a=math.sqrt(5))
    else:
        weight.data = get(weight_initializer)(shape, rng, dtype)
    if bias is None:
        return
    if bias_initializer is None:
        fan_in = fan_in_and_fan_out(shape)[0]
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        bias.data = random_uniform(bias.shape, rng, dtype, -bound, bound)
    else:
        bias.data = get(bias_initializer)(bias.shape, rng, dtype)


def _variance_scaling_normal(shape, rng, dtype, scale, mode):
    # Keras floors the fan at 1 so empty shapes do not divide by zero.
    fan = max(1.0, _fan(shape, mode))
    return _truncated_normal(shape, rng, dtype, math.sqrt(scale / fan) / _TRUNCATED_STD)


def _variance_scaling_uniform(shape, rng, dtype, scale, mode):
    limit = math.sqrt(3.0 * scale / max(1.0, _fan(shape, mode)))
    return _uniform(shape, rng, dtype, -limit, limit)


def glorot_uniform(shape, rng=None, dtype=None) -> np.ndarray:
    """U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Keras; equals ``xavier_uniform``)."""
    return _variance_scaling_uniform(shape, rng, dtype, 1.0, "fan_avg")


def glorot_normal(shape, rng=None, dtype=None) -> np.ndarray:
    """Truncated normal with std sqrt(2 / (fan_in + fan_out)) (Keras ``GlorotNormal``)."""
    return _variance_scaling_normal(shape, rng, dtype, 1.0, "fan_avg")


def he_uniform(shape, rng=None, dtype=None) -> np.ndarray:
    """U(-a, a), a = sqrt(6 / fan_in) (Keras; equals ``kaiming_uniform`` with relu)."""
    return _variance_scaling_uniform(shape, rng, dtype, 2.0, "fan_in")


def he_normal(shape, rng=None, dtype=None) -> np.ndarray:
    """Truncated normal with std sqrt(2 / fan_in) (Keras ``HeNormal``)."""
    return _variance_scaling_normal(shape, rng, dtype, 2.0, "fan_in")


def lecun_uniform(shape, rng=None, dtype=None) -> np.ndarray:
    """U(-a, a), a = sqrt(3 / fan_in) (Keras ``LecunUniform``)."""
    return _variance_scaling_uniform(shape, rng, dtype, 1.0, "fan_in")


def lecun_normal(shape, rng=None, dtype=None) -> np.ndarray:
    """Truncated normal with std sqrt(1 / fan_in) (Keras ``LecunNormal``; for SELU nets)."""
    return _variance_scaling_normal(shape, rng, dtype, 1.0, "fan_in")


# ---- PyTorch's in-place forms: nn.init.xavier_uniform_(layer.weight) ---------------------


def _filling(initializer):
    """``initializer`` as PyTorch's in-place form: write fresh values into a Parameter (or
    Tensor, or array) of any shape, in its dtype, and return it."""

    def fill(tensor, *args, rng=None, **hyper):
        target = tensor.data if isinstance(tensor, Tensor) else tensor
        target[...] = initializer(target.shape, rng, target.dtype, *args, **hyper)
        return tensor

    fill.__name__ = f"{initializer.__name__}_"
    fill.__doc__ = (
        f"In place, as ``torch.nn.init.{fill.__name__}``: see ``{initializer.__name__}``."
    )
    return fill


zeros_, ones_, constant_ = _filling(zeros), _filling(ones), _filling(constant)
xavier_uniform_, xavier_normal_ = _filling(xavier_uniform), _filling(xavier_normal)
kaiming_uniform_, kaiming_normal_ = _filling(kaiming_uniform), _filling(kaiming_normal)
orthogonal_ = _filling(orthogonal)


def normal_(tensor, mean=0.0, std=1.0, rng=None):
    """In place: N(mean, std^2) (PyTorch's defaults, not Keras's ``random_normal``)."""
    return _filling(random_normal)(tensor, mean, std, rng=rng)


def uniform_(tensor, a=0.0, b=1.0, rng=None):
    """In place: U(a, b) (PyTorch's defaults, not Keras's ``random_uniform``)."""
    return _filling(random_uniform)(tensor, a, b, rng=rng)


# ---- lookup -------------------------------------------------------------------------------

_INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
    "constant": constant,
    "random_normal": random_normal,
    "normal": random_normal,
    "random_uniform": random_uniform,
    "uniform": random_uniform,
    "truncated_normal": truncated_normal,
    "small_random": small_random,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
    "orthogonal": orthogonal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
}


def _canonical(name: str) -> str:
    """'GlorotUniform' / 'xavier_uniform_' / 'Zeros' -> 'glorot_uniform' / 'xavier_uniform'."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip()).lower()
    return snake.rstrip("_")


def get(spec):
    """Resolve ``spec`` to a function ``(shape, rng=None, dtype=None) -> ndarray``.

    Args:
        spec: a name (Keras or PyTorch spelling, snake_case or CamelCase), a dict
            ``{"name": ..., **hyperparameters}`` (e.g. ``{"name": "constant", "value": 0.1}``),
            a callable with the initializer signature (returned as is), or None (returned as
            None: "use the layer's default").
    """
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, dict):
        hyper = dict(spec)
        name = hyper.pop("name", None)
        if not isinstance(name, str):
            raise ValueError(f"an initializer dict needs a 'name' string, got {spec!r}")
        fn = _lookup(name)
        return lambda shape, rng=None, dtype=None: fn(shape, rng, dtype, **hyper)
    if isinstance(spec, str):
        return _lookup(spec)
    raise TypeError(
        f"initializer must be a name, a dict, a callable or None, got {type(spec).__name__}"
    )


def _lookup(name: str):
    fn = _INITIALIZERS.get(_canonical(name))
    if fn is None:
        raise ValueError(f"unknown initializer {name!r}; known: {sorted(_INITIALIZERS)}")
    return fn


def serialize(spec):
    """A JSON-friendly form of ``spec`` for layer configs: names and dicts as they are, one of
    this module's functions by name; anything else raises ValueError."""
    if spec is None or isinstance(spec, str | dict):
        return spec
    name = getattr(spec, "__name__", None)
    if name in _INITIALIZERS and _INITIALIZERS[name] is spec:
        return name
    raise ValueError(
        f"cannot save initializer {spec!r} in a config: pass it by name (e.g. 'he_normal') or "
        "as {'name': ..., **hyperparameters}"
    )
