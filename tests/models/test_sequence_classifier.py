"""Sequence classifiers: padding never changes a prediction, the pools read the right
positions, Keras-style recurrent initialisation, clear errors, learning a short task, and
the save/load round trip."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import nnlab
from nnlab import losses, optim
from nnlab.autograd.tensor import Tensor
from nnlab.models.sequence_classifier import (
    RecurrentClassifier,
    TransformerClassifier,
    keras_recurrent_init,
    last_positions,
    masked_mean,
)
from nnlab.nn import LSTM


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _transformer(pooling="mean", positional="sinusoidal", **kwargs):
    options = dict(d_model=16, nhead=2, num_layers=2, dim_feedforward=32, dropout=0.1)
    options.update(kwargs)
    model = TransformerClassifier(
        12, 3, max_len=16, pooling=pooling, positional=positional, seed=1, **options
    )
    return model.eval()


def _padded(rng, n=6, width=10):
    """Right-padded ids (padding 0) of lengths 1 .. width, tokens 1 .. 11."""
    ids = rng.integers(1, 12, (n, width))
    lengths = np.array([width, 1, 3, 7, width - 1, 5][:n])
    ids[np.arange(width) >= lengths[:, None]] = 0
    return ids


# ---- padding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pooling, positional", [("mean", "sinusoidal"), ("cls", "learned"), ("last", "sinusoidal")]
)
def test_transformer_prediction_ignores_appended_padding(pooling, positional):
    model = _transformer(pooling, positional)
    ids = _padded(np.random.default_rng(0))
    logits = model.predict(ids)
    longer = np.concatenate([ids, np.zeros((len(ids), 5), ids.dtype)], axis=1)
    np.testing.assert_allclose(model.predict(longer), logits, atol=1e-5)
    # each sequence alone, cut right after its last real token, gives the same logits
    for row, expected in zip(ids, logits, strict=True):
        alone = row[: max(1, int((row != 0).sum()))][None]
        np.testing.assert_allclose(model.predict(alone)[0], expected, atol=1e-5)
    assert np.abs(logits[0] - logits[1]).max() > 1e-3  # the outputs do depend on the tokens


def test_transformer_gradients_ignore_padding_positions():
    model = _transformer(dropout=0.0).train()
    ids = _padded(np.random.default_rng(1))
    grads = []
    for extra in (0, 4):
        model.zero_grad()
        padded = np.concatenate([ids, np.zeros((len(ids), extra), ids.dtype)], axis=1)
        model(padded).sum().backward()
        grads.append({k: p.grad.copy() for k, p in model.named_parameters()})
    for key, grad in grads[0].items():
        np.testing.assert_allclose(grads[1][key], grad, atol=1e-5, err_msg=key)
    np.testing.assert_array_equal(grads[0]["embedding.weight"][0], 0)  # padding row frozen


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_prediction_ignores_appended_padding(cell):
    model = RecurrentClassifier(12, 3, cell, embedding_dim=8, hidden_size=10, seed=2).eval()
    ids = _padded(np.random.default_rng(3))
    logits = model.predict(ids)
    longer = np.concatenate([ids, np.zeros((len(ids), 6), ids.dtype)], axis=1)
    np.testing.assert_allclose(model.predict(longer), logits, atol=1e-6)
    cut = ids[2:3, :3]  # the length-3 sequence without its padding
    np.testing.assert_allclose(model.predict(cut)[0], logits[2], atol=1e-6)


def test_masked_mean_averages_real_positions_only():
    x = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    padding = np.array([[False, False, True, True], [True, True, True, True]])
    pooled = masked_mean(Tensor(x), padding).data
    np.testing.assert_allclose(pooled[0], x[0, :2].mean(axis=0))
    np.testing.assert_array_equal(pooled[1], 0)  # all padding: zeros, not NaN
    np.testing.assert_allclose(masked_mean(Tensor(x), None).data, x.mean(axis=1))


def test_mean_pool_gradient_reaches_real_positions_only():
    x = Tensor(np.ones((1, 5, 2), np.float32), requires_grad=True)
    padding = np.array([[False, False, False, True, True]])
    masked_mean(x, padding).sum().backward()
    np.testing.assert_allclose(x.grad[0, :, 0], [1 / 3, 1 / 3, 1 / 3, 0, 0], rtol=1e-6)


def test_last_positions():
    padding = np.array([[False, False, True], [False, False, False], [True, True, True]])
    np.testing.assert_array_equal(last_positions(padding), [1, 2, 0])


def test_last_pooling_reads_the_last_real_token():
    model = _transformer("last", dropout=0.0)
    ids = np.array([[3, 4, 5, 0, 0], [3, 4, 5, 6, 7]])
    with nnlab.no_grad():
        encoded = model.encode(ids, ids == 0).data
        logits = model(ids).data
    head = model.head
    for row, last in ((0, 2), (1, 4)):
        expected = encoded[row, last] @ head.weight.data.T + head.bias.data
        np.testing.assert_allclose(logits[row], expected, rtol=1e-5, atol=1e-6)


# ---- construction ---------------------------------------------------------------------------


def test_cls_pooling_adds_one_embedding_row_and_stack_layers_differ():
    model = _transformer("cls")
    assert model.embedding.weight.shape == (13, 16) and model.cls_id == 12
    first, second = model.encoder.layers
    assert not np.allclose(first.linear1.weight.data, second.linear1.weight.data)


def test_keras_recurrent_init():
    lstm = LSTM(5, 4, num_layers=2, rng=0)
    keras_recurrent_init(lstm, np.random.default_rng(0))
    w_hh = lstm.weight_hh_l1.data
    np.testing.assert_allclose(w_hh.T @ w_hh, np.eye(4), atol=1e-5)  # orthogonal columns
    bias_ih = lstm.bias_ih_l0.data
    np.testing.assert_array_equal(bias_ih[4:8], 1.0)  # forget gate (i, f, g, o)
    np.testing.assert_array_equal(np.delete(bias_ih, np.s_[4:8]), 0.0)
    np.testing.assert_array_equal(lstm.bias_hh_l0.data, 0.0)
    limit = np.sqrt(6 / (5 + 16))
    assert np.abs(lstm.weight_ih_l0.data).max() <= limit


def test_bad_inputs_get_clear_errors():
    model = _transformer()
    with pytest.raises(ValueError, match=r"integer token ids of shape \(N, T\), got float32"):
        model(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"max_len=16\) got sequences of length 20"):
        model(np.ones((1, 20), np.int64))
    with pytest.raises(ValueError, match=r"pooling must be one of \['mean', 'cls', 'last'\]"):
        TransformerClassifier(10, 2, pooling="max")
    with pytest.raises(ValueError, match=r"cell must be one of .*got 'RNN'"):
        RecurrentClassifier(10, 2, cell="RNN")
    with pytest.raises(ValueError, match="got int64 array of shape \\(5,\\)"):
        RecurrentClassifier(10, 2)(np.ones(5, np.int64))


# ---- learning and saving --------------------------------------------------------------------


def _which_first(n, rng):
    """Right-padded sequences of 3 .. 8 filler tokens (3 .. 9) holding the signal tokens 1
    and 2 at two random positions; the label says whether 1 comes first: word counts cannot
    tell, the model must use the positions."""
    lengths = rng.integers(3, 9, n)
    ids = rng.integers(3, 10, (n, 8))
    keys = rng.random((n, 8))
    keys[np.arange(8) >= lengths[:, None]] = 2.0  # padding positions sort last
    first, second = np.argsort(keys, axis=1)[:, :2].T
    ids[np.arange(n), first], ids[np.arange(n), second] = 1, 2
    ids[np.arange(8) >= lengths[:, None]] = 0
    return ids, (first < second).astype(np.int64)


def test_transformer_classifier_learns_a_short_padded_order_task():
    rng = np.random.default_rng(0)
    (x, y), (x_test, y_test) = _which_first(2048, rng), _which_first(500, rng)
    assert 0.4 < y.mean() < 0.6 and (x == 0).any()
    model = TransformerClassifier(
        10, 2, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, dropout=0.0, max_len=8,
        seed=0,
    )  # fmt: skip
    model.compile(optim.Adam(lr=3e-3), losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=64, epochs=8, verbose=0)
    accuracy = float(np.mean(model.predict(x_test).argmax(axis=1) == y_test))
    assert accuracy >= 0.96  # 0.99-1.0 measured; chance 0.5


@pytest.mark.parametrize("kind", ["transformer", "recurrent"])
def test_save_and_load_round_trip(tmp_path, kind):
    if kind == "transformer":
        model = _transformer("cls", "learned", dropout=0.1)
    else:
        model = RecurrentClassifier(12, 3, "GRU", embedding_dim=6, hidden_size=7, seed=4)
    model.compile(optim.Adam(lr=1e-2), losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = _padded(np.random.default_rng(5))
    model.fit(ids, np.arange(6) % 3, batch_size=3, epochs=2, verbose=0)
    path = tmp_path / f"{kind}.nnlab"
    model.save(path)
    again = nnlab.load(path)
    assert type(again) is type(model) and again.get_config() == model.get_config()
    np.testing.assert_array_equal(again.predict(ids), model.predict(ids))
