"""The array backend: the array module, the default float dtype and the library's random Generator.

nnlab never touches NumPy's global random state. Everything random (initializers, dropout,
shuffling) draws from an explicit ``numpy.random.Generator``; when the caller passes none,
the library-wide Generator below is used, and ``manual_seed`` resets it.
"""

import numpy as np

xp = np

_default_dtype = np.dtype(np.float32)
_generator = np.random.default_rng(0)


def default_dtype() -> np.dtype:
    """The float dtype new tensors and parameters get when none is given (float32)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the float dtype used for new tensors and parameters (float32 or float64)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"default dtype must be float32 or float64, got {dtype}")
    _default_dtype = dtype


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide Generator and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def get_generator(rng=None) -> np.random.Generator:
    """Return ``rng`` as a Generator: None gives the library-wide one, an int seeds a new one."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"expected a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


def layer_generator(rng=None) -> np.random.Generator:
    """A Generator for one layer's random draws (dropout masks). None spawns an independent
    child of the library Generator, so layers built after ``manual_seed`` are reproducible
    yet draw different masks."""
    if rng is None:
        return get_generator().spawn(1)[0]
    return get_generator(rng)
