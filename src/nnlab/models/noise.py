"""Input corruption for denoising autoencoders: Gaussian, masking and salt-and-pepper noise."""

import numpy as np

from nnlab import backend

NOISE_TYPES = ("gaussian", "masking", "salt_and_pepper")


def corrupt(x, noise="gaussian", level=0.3, rng=None, clip=None, low=0.0, high=1.0):
    """A corrupted copy of ``x`` (NumPy), as a denoising autoencoder sees it.

    - 'gaussian': ``x + level * N(0, 1)`` independently per element;
    - 'masking': each element set to 0 with probability ``level`` (masking noise);
    - 'salt_and_pepper': each element, with probability ``level``, replaced by ``low`` or
      ``high`` (each with probability 1/2).

    Args:
        x: array of any shape.
        noise: one of ``NOISE_TYPES``.
        level: standard deviation ('gaussian') or fraction of corrupted elements.
        rng: Generator or int seed (default: the library's Generator).
        clip: optional (min, max) the result is clipped to, e.g. (0, 1) for pixel data.
        low, high: the pepper and salt values.
    """
    if noise not in NOISE_TYPES:
        raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}")
    level = float(level)
    if level < 0 or (noise != "gaussian" and level > 1):
        raise ValueError(
            f"noise level must be >= 0 (a standard deviation) for 'gaussian' and in [0, 1] "
            f"(a fraction of elements) for {noise!r}, got {level}"
        )
    x = np.asarray(x)
    rng = backend.get_generator(rng)
    if noise == "gaussian":
        out = x + level * rng.standard_normal(x.shape)
    elif noise == "masking":
        out = np.where(rng.random(x.shape) < level, 0.0, x)
    else:
        hit, salt = rng.random(x.shape) < level, rng.random(x.shape) < 0.5
        out = np.where(hit, np.where(salt, high, low), x)
    if clip is not None:
        out = np.clip(out, clip[0], clip[1])
    return out.astype(x.dtype if x.dtype.kind == "f" else backend.default_dtype(), copy=False)
