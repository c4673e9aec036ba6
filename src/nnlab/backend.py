"""The array backend: the array module, the default float dtype, the library's random
Generator, and how array memory is allocated.

nnlab never touches NumPy's global random state. Everything random (initializers, dropout,
shuffling) draws from an explicit ``numpy.random.Generator``; when the caller passes none,
the library-wide Generator below is used, and ``manual_seed`` resets it.
"""

import ctypes
import os
import sys

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


def tune_malloc() -> bool:
    """Make glibc keep freed memory below 32 MiB for reuse instead of returning it.

    A training step frees and reallocates the same temporaries every step. By default glibc
    serves blocks above ~128 KiB with fresh ``mmap`` pages and returns them on ``free``, so
    each step pays a page fault per 4 KiB of every such temporary; fixed thresholds (mmap
    above 32 MiB, trim above 64 MiB) let the heap keep them. Measured: the Transformer
    encoder benchmark 1.55x faster (55 -> 86 steps/s); MLP and CNN steps unchanged. Applied
    on import on Linux with glibc; ``NNLAB_MALLOC_TUNING=0`` leaves malloc alone. Returns
    whether the thresholds were set.
    """
    if os.environ.get("NNLAB_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(
        libc.mallopt(m_trim_threshold, 64 << 20)
    )


malloc_tuned = tune_malloc()
