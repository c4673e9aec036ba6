"""The backend: default dtype, Generators and the malloc tuning done on import."""

import sys

import numpy as np
import pytest

from nnlab import backend


def test_malloc_is_tuned_on_linux_and_can_be_left_alone(monkeypatch):
    if sys.platform.startswith("linux"):
        assert backend.malloc_tuned
    monkeypatch.setenv("NNLAB_MALLOC_TUNING", "0")
    assert backend.tune_malloc() is False


def test_default_dtype_is_checked_and_restored():
    assert backend.default_dtype() == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        backend.set_default_dtype(np.int32)
    backend.set_default_dtype(np.float64)
    try:
        assert backend.default_dtype() == np.float64
    finally:
        backend.set_default_dtype(np.float32)


def test_layer_generators_are_independent_children_and_seeds_are_reproducible():
    a, b = backend.layer_generator(), backend.layer_generator()
    assert a is not b and a.random() != b.random()
    assert backend.layer_generator(3).random() == np.random.default_rng(3).random()
    with pytest.raises(TypeError, match="Generator, an int seed or None"):
        backend.get_generator("seed")
