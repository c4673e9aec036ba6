"""nnlab.nn.RNN / LSTM / GRU as modules: parameter names, configs, dropout between layers,
errors. (Values against PyTorch: tests/parity/test_parity_recurrent.py.)"""

import numpy as np
import pytest

from nnlab import Tensor
from nnlab.nn.module import class_key, registered
from nnlab.nn.recurrent import GRU, LSTM, RNN, SimpleRNN, lstm_sequence


def test_parameter_names_follow_pytorch():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True)
    names = [name for name, _ in lstm.named_parameters()]
    expected = [
        f"{kind}_{part}_l{layer}{suffix}"
        for layer in range(2)
        for suffix in ("", "_reverse")
        for kind, part in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"), ("bias", "hh"))
    ]
    assert names == expected
    assert lstm.weight_ih_l1.shape == (16, 8) and lstm.weight_hh_l0_reverse.shape == (16, 4)
    assert [n for n, _ in GRU(3, 4, bias=False).named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
    ]
    assert SimpleRNN is RNN


@pytest.mark.parametrize(
    "module",
    [
        RNN(3, 4, 2, nonlinearity="relu", dropout=0.5, dtype="float64"),
        LSTM(3, 4, bidirectional=True, batch_first=False),
        GRU(3, 4, bias=False),
    ],
)
def test_config_round_trip(module):
    config = module.get_config()
    clone = registered(class_key(type(module))).from_config(config)
    assert clone.get_config() == config
    clone.load_state_dict(module.state_dict())
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    module.eval()
    clone.eval()
    np.testing.assert_array_equal(clone(x)[0].data, module(x)[0].data)
    assert repr(module).startswith(type(module).__name__ + "(3, 4")


def test_dropout_between_layers_is_seeded_and_only_in_training():
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype(np.float32)
    runs = []
    for _ in range(2):
        gru = GRU(3, 5, num_layers=3, dropout=0.5, rng=7)
        runs.append(gru(x)[0].data)
    np.testing.assert_array_equal(runs[0], runs[1])  # same seed, same masks
    gru = GRU(3, 5, num_layers=3, dropout=0.5, rng=7)
    gru.eval()
    evaluated = gru(x)[0].data
    assert not np.allclose(evaluated, runs[0])
    no_dropout = GRU(3, 5, num_layers=3, dropout=0.0, rng=7)
    np.testing.assert_array_equal(no_dropout(x)[0].data, evaluated)


def test_single_layer_equals_its_functional_op():
    lstm = LSTM(3, 4, dtype="float64", rng=0)
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    out, (h_n, c_n) = lstm(x)
    params = [p for _, p in lstm.named_parameters()]
    expected = lstm_sequence(x, None, None, *params)
    for got, want in zip((out, h_n[0], c_n[0]), expected, strict=True):
        np.testing.assert_array_equal(got.data, want.data)


def test_state_gradient_flows_through_stacked_states():
    gru = GRU(3, 4, num_layers=2, dtype="float64", rng=0)
    h0 = Tensor(np.zeros((2, 2, 4)), requires_grad=True)
    _, h_n = gru(np.ones((2, 3, 3)), h0)
    h_n.sum().backward()
    assert h0.grad.shape == (2, 2, 4) and np.abs(h0.grad).min() > 0


@pytest.mark.parametrize("module", [RNN, GRU, LSTM])
def test_each_bias_gets_its_own_gradient_array(module):
    """An optimizer scaling one bias gradient in place (clipping) must not change the other,
    even where the two are equal (RNN, LSTM: both biases enter the same sum)."""
    layer = module(3, 4, dtype="float64", rng=0)
    out, _ = layer(np.random.default_rng(1).normal(size=(2, 5, 3)))
    out.sum().backward()
    b_ih, b_hh = layer.bias_ih_l0.grad, layer.bias_hh_l0.grad
    if module is not GRU:  # GRU's b_hn sits inside r * (W_hn h + b_hn)
        np.testing.assert_array_equal(b_ih, b_hh)
    assert not np.shares_memory(b_ih, b_hh)


def test_bad_inputs_get_clear_errors():
    lstm = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, T, 3\)"):
        lstm(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match=r"expects hx = \(h0, c0\)"):
        lstm(np.zeros((2, 5, 3), np.float32), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match=r"initial states of shape .* = \(2, 2, 4\)"):
        lstm(np.zeros((2, 5, 3), np.float32), (np.zeros((1, 2, 4)), np.zeros((1, 2, 4))))
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout must be in"):
        GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="positive input_size"):
        GRU(0, 4)
