"""Synthetic sequence tasks that measure how long a recurrent network remembers.

- ``adding_problem`` (Hochreiter & Schmidhuber 1997; Le et al. 2015): the sum of two marked
  values in a long sequence. Predicting the mean (1.0) scores MSE = Var(u1 + u2) = 1/6.
- ``copy_task`` (after Arjovsky et al. 2016): reproduce a few symbols after a delay.

Both take a ``numpy.random.Generator`` or seed and return float32 inputs, batch first.
"""

import numpy as np

COPY_SYMBOLS, COPY_LENGTH = 4, 3  # defaults: K symbols, S of them to copy


def adding_problem(n: int, length: int, rng=None):
    """``n`` adding-problem sequences of ``length`` steps.

    Channel 0 holds values ~ U[0, 1), channel 1 the markers: one 1 at a uniform step of
    [0, length // 2) and one at a uniform step of [length // 2, length). The target is the
    sum of the two marked values.

    Returns:
        x (n, length, 2) float32, y (n, 1) float32.
    """
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, got {length}")
    rng = np.random.default_rng(rng)
    rows = np.arange(n)
    x = np.zeros((n, length, 2), np.float32)
    x[:, :, 0] = rng.random((n, length), dtype=np.float32)
    first = rng.integers(0, length // 2, n)
    second = rng.integers(length // 2, length, n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y[:, None]


def copy_task(n: int, delay: int, rng=None, symbols: int = COPY_SYMBOLS, length: int = COPY_LENGTH):
    """``n`` copy-task sequences: remember ``length`` symbols for ``delay + length`` steps.

    Input tokens, one-hot over ``symbols + 2`` (the symbols, blank = ``symbols``, delimiter =
    ``symbols + 1``), ``delay + 2 * length`` steps: the ``length`` symbols, ``delay - 1``
    blanks, the delimiter, then ``length`` blanks. The network is read at those last
    ``length`` steps and must output the symbols in order, each ``delay + length`` steps
    after it was seen.

    Returns:
        x (n, delay + 2 * length, symbols + 2) float32 one-hot, y (n, length) int64 symbols.
    """
    if delay < 1 or length < 1 or symbols < 2:
        raise ValueError(
            f"copy_task needs delay, length >= 1, symbols >= 2; got {delay}, {length}, {symbols}"
        )
    rng = np.random.default_rng(rng)
    steps = delay + 2 * length
    y = rng.integers(0, symbols, (n, length))
    tokens = np.full((n, steps), symbols)
    tokens[:, :length] = y
    tokens[:, length + delay - 1] = symbols + 1
    x = np.eye(symbols + 2, dtype=np.float32)[tokens]
    return x, y.astype(np.int64)
