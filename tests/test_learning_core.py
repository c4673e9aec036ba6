"""The core API alone (Tensor, Module, optimizer) trains real networks, reproducibly."""

import subprocess
import sys

import numpy as np
import pytest

import nnlab
from nnlab.experiments import core_mlp


def test_xor_is_solved():
    result = core_mlp.train_xor(seed=0)
    assert result["accuracy"] == 1.0
    assert result["final_loss"] < 0.05


def test_digits_mlp_reaches_97_percent():
    result = core_mlp.train_digits(seed=0, epochs=30)
    assert result["test_accuracy"] >= 0.97, result["test_accuracy"]
    losses = result["epoch_losses"]
    assert losses[-1] < 0.2 * losses[0]


def test_same_seed_gives_bit_identical_weights():
    a = core_mlp.train_digits(seed=3, epochs=2)["model"].state_dict()
    b = core_mlp.train_digits(seed=3, epochs=2)["model"].state_dict()
    c = core_mlp.train_digits(seed=4, epochs=2)["model"].state_dict()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_import_pulls_in_no_heavy_dependency():
    # The import-time budget itself is measured in benchmarks/bench_import.py (no timing here).
    code = (
        "import sys, nnlab, nnlab.nn, nnlab.layers, nnlab.optim, nnlab.losses\n"
        "heavy = [m for m in ('matplotlib', 'sklearn', 'scipy', 'torch', 'safetensors') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import nnlab loaded: {out.stdout.strip()}"


def test_keras_api_optimizers_and_losses_load_on_first_use():
    code = (
        "import sys, nnlab\n"
        "lazy = ['nnlab.layers', 'nnlab.training', 'nnlab.optim', 'nnlab.losses']\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "adam = nnlab.optim.Adam\n"
        "print(nnlab.optim is sys.modules['nnlab.optim'], 'nnlab.layers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]
    from nnlab.training import Sequential

    assert nnlab.Sequential is Sequential
    assert {"Sequential", "layers", "optim"} <= set(dir(nnlab))
    with pytest.raises(AttributeError, match="module 'nnlab' has no attribute 'Sequentail'"):
        nnlab.Sequentail  # noqa: B018 - the attribute access is the test
