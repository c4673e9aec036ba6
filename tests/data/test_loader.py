"""DataLoader: every sample once per epoch, seeded shuffles, drop_last, a training loop on
real data, and fit taking it as a batch source."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nnlab
import nnlab.functional as F
from nnlab import Tensor, layers, nn, optim
from nnlab.data import DataLoader


def test_each_epoch_covers_every_sample_once_in_a_fresh_seeded_order():
    x, y = np.arange(10)[:, None] * 1.0, np.arange(10)
    loader = DataLoader(x, y, batch_size=4, shuffle=True, rng=0)
    assert len(loader) == 3
    epochs = [[yb for _, yb in loader] for _ in range(2)]
    for batches in epochs:
        assert [len(b) for b in batches] == [4, 4, 2]
        assert sorted(np.concatenate(batches)) == list(range(10))
    assert not np.array_equal(np.concatenate(epochs[0]), np.concatenate(epochs[1]))
    again = [yb for _, yb in DataLoader(x, y, batch_size=4, shuffle=True, rng=0)]
    np.testing.assert_array_equal(np.concatenate(again), np.concatenate(epochs[0]))
    for xb, yb in loader:
        np.testing.assert_array_equal(xb[:, 0], yb)  # rows stay paired


def test_order_drop_last_single_array_and_errors():
    loader = DataLoader(np.arange(7), batch_size=3, drop_last=True)
    assert len(loader) == 2
    np.testing.assert_array_equal(np.concatenate(list(loader)), np.arange(6))  # in order
    assert len(DataLoader(Tensor(np.ones((5, 2))))) == 5  # PyTorch's default batch of one
    with pytest.raises(ValueError, match="same length"):
        DataLoader(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(np.ones(3), batch_size=0)


def test_minibatch_loop_with_the_core_api_learns_digits():
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=0.2, random_state=42)
    nnlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    batches = DataLoader(x_train.astype(np.float32), y_train, batch_size=64, shuffle=True, rng=1)
    for _ in range(10):
        for xb, yb in batches:
            loss = F.cross_entropy(model(Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    accuracy = (model(Tensor(x_test.astype(np.float32))).argmax(1) == y_test).mean()
    assert accuracy > 0.95


def test_fit_takes_a_dataloader_as_its_batch_source():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = nnlab.Sequential([layers.Dense(1)], seed=0)
    model.compile(optim.SGD(lr=0.1), "mse")
    history = model.fit(DataLoader(x, y, batch_size=8, shuffle=True, rng=0), epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
