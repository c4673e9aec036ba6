"""Convolutional networks learn: the digits CNN recipe of ``experiments.cnn_digits`` reaches
the 0.985 acceptance accuracy on the 8x8 digits test set (80/20 split stratified,
random_state=42), and keeps more of its accuracy than the seeds' MLP when the test digits
are moved.

The recipe is the experiment's full one: 30 epochs of Adam (lr 0.002, cosine decay) on
batches of 32 with 1-pixel shift augmentation; the MLP is trained identically. Training runs
with one BLAS thread: the matrices of 8x8 images are too small to gain from more, and one
thread keeps the result the same on every machine and immune to a busy CPU (with two
threads on a loaded two-core machine the same training took over three times as long).
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nnlab.data import load_digits_images
from nnlab.experiments import cnn_digits


@pytest.fixture(scope="module")
def data():
    return load_digits_images()


@pytest.fixture(scope="module")
def trained(data):
    x_train, _, y_train, _ = data
    models = {"CNN": cnn_digits.digits_cnn(seed=0), "MLP": cnn_digits.digits_mlp(seed=0)}
    with threadpool_limits(1):
        for model in models.values():
            cnn_digits.train(model, x_train, y_train, epochs=cnn_digits.EPOCHS, seed=0)
    return models


def test_digits_cnn_reaches_acceptance_accuracy(data, trained):
    _, x_test, _, y_test = data
    accuracy = cnn_digits.accuracy(trained["CNN"], x_test, y_test)
    assert accuracy >= cnn_digits.ACCEPTANCE, accuracy


def test_cnn_loses_less_than_the_mlp_under_shifts(data, trained):
    _, x_test, _, y_test = data
    cnn = cnn_digits.shift_accuracies(trained["CNN"], x_test, y_test)
    mlp = cnn_digits.shift_accuracies(trained["MLP"], x_test, y_test)
    assert len(cnn) == 1 + 4 * len(cnn_digits.SHIFT_DISTANCES)
    for d in cnn_digits.SHIFT_DISTANCES:
        cnn_mean = cnn_digits.mean_over_distance(cnn, d)
        mlp_mean = cnn_digits.mean_over_distance(mlp, d)
        assert cnn_mean > mlp_mean, (d, cnn_mean, mlp_mean)
    # moving digits by 2 pixels, beyond the augmentation, costs both models accuracy
    assert cnn_digits.mean_over_distance(cnn, 2) < cnn["none"] - 0.1
    assert cnn_digits.mean_over_distance(mlp, 2) < mlp["none"] - 0.1


def test_shift_images_moves_pixels_and_fills_zeros():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    down = cnn_digits.shift_images(x, 1, 0)
    np.testing.assert_array_equal(down[0, 0, 0], 0)
    np.testing.assert_array_equal(down[0, 0, 1:], x[0, 0, :3])
    left2 = cnn_digits.shift_images(x, 0, -2)
    np.testing.assert_array_equal(left2[0, 0, :, :2], x[0, 0, :, 2:])
    np.testing.assert_array_equal(left2[0, 0, :, 2:], 0)
    np.testing.assert_array_equal(cnn_digits.shift_images(x, 0, 0), x)
    sets = cnn_digits.shifted_test_sets(x)
    assert list(sets)[:3] == ["none", "up 1", "down 1"] and "right 2" in sets
    np.testing.assert_array_equal(sets["up 2"][0, 0, :2], x[0, 0, 2:])


def test_fashion_experiment_without_the_data_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from nnlab.experiments import cnn_fashion

    monkeypatch.setenv("NNLAB_FASHION_MNIST", str(tmp_path / "empty"))
    result = cnn_fashion.run(tmp_path / "out", quick=True)
    assert result["skipped"] is True and result["metrics"] == {}
    out = capsys.readouterr().out
    assert "cnn_fashion skipped" in out and "apt-get install dataset-fashion-mnist" in out
