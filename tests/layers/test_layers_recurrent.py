"""Keras-style SimpleRNN, LSTM and GRU against a NumPy implementation of Keras's equations
(written here, in Keras's weight layout), plus Bidirectional, TimeDistributed, masking,
Keras weight import, configs and gradient clipping."""

import numpy as np
import pytest

from nnlab import Sequential, Tensor, optim
from nnlab.layers import Activation, BatchNormalization, Dropout, Embedding
from nnlab.layers.core import Dense, Flatten
from nnlab.layers.masking import Masking
from nnlab.layers.masks import get_mask
from nnlab.layers.recurrent import (
    GRU,
    LSTM,
    SimpleRNN,
    import_keras_weights,
    keras_to_torch,
    torch_to_keras,
)
from nnlab.layers.wrappers import Bidirectional, TimeDistributed
from nnlab.nn import recurrent as nn_recurrent
from nnlab.nn.module import class_key, registered

N, T, F, U = 3, 5, 4, 6
LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
CASES = [
    ("SimpleRNN", {}),
    ("SimpleRNN", {"activation": "relu"}),
    ("LSTM", {}),
    ("GRU", {}),
    ("GRU", {"reset_after": False}),
]
CASE_IDS = ["simple_rnn_tanh", "simple_rnn_relu", "lstm", "gru", "gru_reset_before"]
LENGTHS = np.array([5, 2, 3])

# ---- Keras's equations in NumPy (Keras layout: kernel (F, G*U), gates as Keras) -------------


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def keras_step(kind, kw, x_t, h, c, kernel, rec, bias):
    u = rec.shape[0]
    if kind == "SimpleRNN":
        act = np.tanh if kw.get("activation", "tanh") == "tanh" else (lambda z: np.maximum(z, 0))
        return act(x_t @ kernel + bias + h @ rec), None
    if kind == "LSTM":
        i, f, cand, o = np.split(x_t @ kernel + h @ rec + bias, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cand)
        return _sigmoid(o) * np.tanh(c), c
    if kw.get("reset_after", True):
        x_z, x_r, x_h = np.split(x_t @ kernel + bias[0], 3, axis=1)
        h_z, h_r, h_h = np.split(h @ rec + bias[1], 3, axis=1)
        z, r = _sigmoid(x_z + h_z), _sigmoid(x_r + h_r)
        cand = np.tanh(x_h + r * h_h)
    else:
        x_z, x_r, x_h = np.split(x_t @ kernel + bias, 3, axis=1)
        z = _sigmoid(x_z + h @ rec[:, :u])
        r = _sigmoid(x_r + h @ rec[:, u : 2 * u])
        cand = np.tanh(x_h + (r * h) @ rec[:, 2 * u :])
    return z * h + (1 - z) * cand, None


def keras_reference(kind, kw, x, weights, states=None, go_backwards=False, mask=None,
                    zero_output_for_mask=False):  # fmt: skip
    """(output sequence in processing order, h, c) as Keras's RNN loop computes them: masked
    steps keep the state and repeat the previous output (0 before any), or output 0."""
    kernel, rec, bias = weights
    n, steps = x.shape[:2]
    h = np.zeros((n, rec.shape[0])) if states is None else states[0]
    c = np.zeros_like(h) if states is None or len(states) < 2 else states[1]
    mask = np.ones((n, steps), bool) if mask is None else mask
    previous, outputs = np.zeros_like(h), []
    for t in range(steps - 1, -1, -1) if go_backwards else range(steps):
        h_new, c_new = keras_step(kind, kw, x[:, t], h, c, kernel, rec, bias)
        m = mask[:, t : t + 1]
        out = np.where(m, h_new, 0.0 if zero_output_for_mask else previous)
        h = np.where(m, h_new, h)
        c = None if c_new is None else np.where(m, c_new, c)
        previous = out
        outputs.append(out)
    return np.stack(outputs, axis=1), h, c


def keras_weights(kind, kw, features=F, units=U, seed=0):
    rng = np.random.default_rng(seed)
    g = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]
    bias_shape = (2, g * units) if kind == "GRU" and kw.get("reset_after", True) else (g * units,)
    return [
        rng.normal(0, 0.5, (features, g * units)),
        rng.normal(0, 0.5, (units, g * units)),
        rng.normal(0, 0.5, bias_shape),
    ]


def _layer(kind, kw, weights=None, **options):
    layer = LAYERS[kind](U, dtype="float64", rng=0, **kw, **options)
    layer.set_weights(keras_weights(kind, kw) if weights is None else weights)
    return layer


def _x(seed=1, shape=(N, T, F)):
    return np.random.default_rng(seed).normal(size=shape)


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ---- values against Keras's equations -------------------------------------------------------


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("kind,kw", CASES, ids=CASE_IDS)
def test_outputs_and_states_match_keras_equations(kind, kw, return_sequences, go_backwards):
    layer = _layer(
        kind, kw, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards
    )
    x = _x()
    seq, h, c = keras_reference(kind, kw, x, keras_weights(kind, kw), go_backwards=go_backwards)
    out, *states = layer(x)
    expected_out = seq if return_sequences else seq[:, -1]
    assert out.shape == expected_out.shape
    _close(out.data, expected_out)
    assert len(states) == (2 if kind == "LSTM" else 1)
    _close(states[0].data, h)
    if kind == "LSTM":
        _close(states[1].data, c)


@pytest.mark.parametrize("kind,kw", CASES, ids=CASE_IDS)
def test_initial_state_and_float32(kind, kw):
    rng = np.random.default_rng(7)
    states = [rng.normal(size=(N, U)) for _ in range(2 if kind == "LSTM" else 1)]
    x = _x()
    seq, h, _ = keras_reference(kind, kw, x, keras_weights(kind, kw), states)
    layer = LAYERS[kind](U, return_sequences=True, rng=0, **kw)  # float32
    layer.set_weights(keras_weights(kind, kw))
    out = layer(x.astype(np.float32), initial_state=[s.astype(np.float32) for s in states])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, seq, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("kind,kw", CASES, ids=CASE_IDS)
def test_get_weights_round_trip_in_keras_layout(kind, kw):
    weights = keras_weights(kind, kw)
    layer = _layer(kind, kw, weights)
    for got, expected in zip(layer.get_weights(), weights, strict=True):
        assert got.shape == expected.shape
        _close(got, expected, 0)


def test_default_initialisation_is_keras_s():
    lstm = LSTM(5, rng=0)
    lstm(np.zeros((2, 3, 7), np.float32))
    kernel, recurrent, bias = lstm.get_weights()
    limit = np.sqrt(6 / (7 + 20))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    _close(recurrent @ recurrent.T, np.eye(5), 1e-5)  # orthogonal rows
    np.testing.assert_array_equal(bias, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    gru = GRU(5, rng=0)
    gru(np.zeros((2, 3, 7), np.float32))
    assert gru.get_weights()[2].shape == (2, 15)


# ---- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind,kw", CASES, ids=CASE_IDS)
def test_masked_steps_follow_keras(kind, kw, go_backwards, zero_output_for_mask):
    x = _x()
    mask = np.arange(T) < LENGTHS[:, None]
    mask[0, 1] = False  # a hole inside a sequence too
    layer = _layer(
        kind, kw, return_sequences=True, return_state=True, go_backwards=go_backwards,
        zero_output_for_mask=zero_output_for_mask,
    )  # fmt: skip
    out, *states = layer(x, mask=mask)
    seq, h, c = keras_reference(
        kind, kw, x, keras_weights(kind, kw), go_backwards=go_backwards, mask=mask,
        zero_output_for_mask=zero_output_for_mask,
    )  # fmt: skip
    _close(out.data, seq)
    _close(states[0].data, h)
    if kind == "LSTM":
        _close(states[1].data, c)


@pytest.mark.parametrize("kind,kw", CASES, ids=CASE_IDS)
def test_masking_layer_padding_leaves_the_final_state_unchanged(kind, kw):
    x = _x()
    padded = x * (np.arange(T) < LENGTHS[:, None])[..., None]  # zero padding after each length
    model = Sequential([Masking(0.0, dtype="float64"), _layer(kind, kw)])
    final = model(padded).data
    layer = model.layers[1]
    for n, length in enumerate(LENGTHS):
        alone = layer(x[n : n + 1, :length]).data
        _close(final[n : n + 1], alone)


def test_masking_layer_output_carries_its_mask():
    x = _x()
    x[1, 3:] = 0.0
    out = Masking(0.0, dtype="float64")(x)
    expected = np.ones((N, T), bool)
    expected[1, 3:] = False
    np.testing.assert_array_equal(get_mask(out), expected)
    _close(out.data, x)
    seq = LSTM(U, return_sequences=True, rng=0)(out)
    np.testing.assert_array_equal(get_mask(seq), expected)  # passed on to the next layer


def test_stacked_layers_under_masking_match_unpadded_runs():
    x = _x()
    padded = x * (np.arange(T) < LENGTHS[:, None])[..., None]
    model = Sequential(
        [
            Masking(dtype="float64"),
            GRU(U, return_sequences=True, dtype="float64", rng=1),
            LSTM(3, dtype="float64", rng=2),
        ]
    )
    final = model(padded).data
    for n, length in enumerate(LENGTHS):
        _close(final[n : n + 1], model(x[n : n + 1, :length]).data)


def test_embedding_mask_zero_skips_padding_through_mask_passing_layers():
    ids = np.array([[3, 4, 5, 0, 0], [7, 1, 0, 0, 0], [2, 2, 2, 2, 9]])
    model = Sequential(
        [
            Embedding(10, 4, mask_zero=True, rng=0),
            Dropout(0.3),
            Dense(5, rng=1),
            Activation("tanh"),
            Bidirectional(GRU(3, return_sequences=True, rng=2)),
            LSTM(3, rng=3),
        ]
    )
    model.eval()
    padded = model(ids).data
    for n, row in enumerate(ids):
        real = row[row != 0][None]
        np.testing.assert_allclose(padded[n : n + 1], model(real).data, rtol=1e-6, atol=1e-7)
    model.train()  # dropout on: the mask still reaches the recurrent layer
    hidden = Dropout(0.5, rng=0)(Embedding(10, 4, mask_zero=True, rng=0)(ids))
    np.testing.assert_array_equal(get_mask(hidden), ids != 0)
    assert get_mask(BatchNormalization()(hidden)) is not None
    assert get_mask(Flatten()(hidden)) is None  # the time axis is gone: no mask


def test_embedding_mask_zero_needs_a_batch_of_sequences_and_round_trips():
    layer = Embedding(10, 4, mask_zero=True)
    with pytest.raises(ValueError, match=r"mask_zero=True needs \(batch, timesteps\) ids"):
        layer(np.array([1, 2, 3]))
    assert Embedding.from_config(layer.get_config()).mask_zero is True


# ---- Bidirectional ---------------------------------------------------------------------------


def _bidirectional_reference(kind, kw, x, merge_mode, return_sequences, mask=None):
    forward_weights, backward_weights = (
        keras_weights(kind, kw, seed=0),
        keras_weights(kind, kw, seed=9),
    )
    zero = return_sequences
    f_seq, f_h, f_c = keras_reference(kind, kw, x, forward_weights, mask=mask,
                                      zero_output_for_mask=zero)  # fmt: skip
    b_seq, b_h, b_c = keras_reference(kind, kw, x, backward_weights, go_backwards=True,
                                      mask=mask, zero_output_for_mask=zero)  # fmt: skip
    a, b = (f_seq, b_seq[:, ::-1]) if return_sequences else (f_seq[:, -1], b_seq[:, -1])
    merged = {
        "concat": np.concatenate([a, b], axis=-1),
        "sum": a + b,
        "mul": a * b,
        "ave": (a + b) / 2,
    }[merge_mode]
    states = [f_h] + ([f_c] if kind == "LSTM" else []) + [b_h] + ([b_c] if kind == "LSTM" else [])
    return merged, states


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize(
    "kind,kw", CASES[::2] + CASES[3:4], ids=["simple_rnn", "lstm", "gru_reset_before", "gru"]
)
def test_bidirectional_merge_modes(kind, kw, merge_mode, return_sequences, masked):
    layer = Bidirectional(
        LAYERS[kind](
            U, return_sequences=return_sequences, return_state=True, dtype="float64", rng=0, **kw
        ),
        merge_mode=merge_mode,
    )
    layer.set_weights(keras_weights(kind, kw, seed=0) + keras_weights(kind, kw, seed=9))
    x = _x()
    mask = (np.arange(T) < LENGTHS[:, None]) if masked else None
    out, *states = layer(x, mask=mask)
    expected, expected_states = _bidirectional_reference(
        kind, kw, x, merge_mode, return_sequences, mask
    )
    _close(out.data, expected)
    assert len(states) == len(expected_states)
    for got, want in zip(states, expected_states, strict=True):
        _close(got.data, want)


def test_bidirectional_backpropagates_into_both_directions():
    layer = Bidirectional(LSTM(U, return_sequences=True, dtype="float64", rng=0), merge_mode="sum")
    x = Tensor(_x(), requires_grad=True)
    layer(x).sum().backward()
    names = [name for name, _ in layer.named_parameters()]
    assert names == [
        "forward_layer.weight_ih", "forward_layer.weight_hh", "forward_layer.bias",
        "backward_layer.weight_ih", "backward_layer.weight_hh", "backward_layer.bias",
    ]  # fmt: skip
    assert all(np.abs(p.grad).sum() > 0 for p in layer.parameters())
    assert np.abs(x.grad[:, 0]).sum() > 0 and np.abs(x.grad[:, -1]).sum() > 0


# ---- TimeDistributed ------------------------------------------------------------------------


def test_time_distributed_dense_applies_the_same_dense_to_every_step():
    dense = Dense(3, activation="relu", dtype="float64", rng=0)
    layer = TimeDistributed(dense)
    x = Tensor(_x(), requires_grad=True)
    out = layer(x)
    expected = np.maximum(x.data @ dense.kernel + dense.bias.data, 0)
    assert out.shape == (N, T, 3)
    _close(out.data, expected)
    out.sum().backward()
    _close(x.grad, ((expected > 0).astype(float) @ dense.weight.data))


def test_time_distributed_reshapes_any_inner_layer_and_keeps_the_mask():
    x = Tensor(_x(shape=(N, T, 2, 3)))
    out = TimeDistributed(Flatten(dtype="float64"))(x)
    _close(out.data, x.data.reshape(N, T, 6))
    masked = Masking()(np.where((np.arange(T) < 2)[None, :, None], _x(), 0.0))
    assert get_mask(TimeDistributed(Dense(2, rng=0))(masked)) is not None


# ---- configs, weight import, errors ---------------------------------------------------------


def _round_trip(layer):
    config = layer.get_config()
    clone = registered(class_key(type(layer))).from_config(config)
    assert clone.get_config() == config
    return clone


@pytest.mark.parametrize("kind,kw", CASES, ids=CASE_IDS)
def test_config_round_trips(kind, kw):
    layer = LAYERS[kind](
        U, return_sequences=True, go_backwards=True, dropout=0.25, kernel_regularizer="l2",
        bptt_steps=3, dtype="float64", **kw,
    )  # fmt: skip
    clone = _round_trip(layer)
    layer.set_weights(keras_weights(kind, kw))
    clone.set_weights(layer.get_weights())
    layer.eval()
    clone.eval()
    _close(clone(_x()).data, layer(_x()).data)
    _round_trip(Bidirectional(layer, merge_mode="ave"))
    _round_trip(TimeDistributed(Dense(2)))
    _round_trip(Masking(-1.0))


def test_sequential_model_with_recurrent_layers_round_trips():
    model = Sequential(
        [Masking(), Bidirectional(GRU(4, return_sequences=True)), LSTM(3), Dense(1)],
        input_shape=(T, F),
    )
    clone = Sequential.from_config(model.get_config())
    clone.build((T, F))
    clone.load_state_dict(model.state_dict())
    x = _x().astype(np.float32)
    np.testing.assert_allclose(clone(x).data, model(x).data, rtol=1e-6)


@pytest.mark.parametrize("kind,kw", [c for c in CASES if c[1].get("reset_after", True)])
def test_keras_weights_import_into_torch_style_modules(kind, kw):
    """A Keras layer's weights, converted, give the same outputs in nnlab.nn's PyTorch-layout
    modules (one Keras bias, or GRU's two, mapped onto b_ih / b_hh)."""
    weights = keras_weights(kind, kw)
    torch_kind = "RNN" if kind == "SimpleRNN" else kind
    extra = {"nonlinearity": kw["activation"]} if "activation" in kw else {}
    module = getattr(nn_recurrent, torch_kind)(F, U, dtype=np.float64, **extra)
    import_keras_weights(module, weights)
    x = _x()
    seq, h, _ = keras_reference(kind, kw, x, weights)
    out, h_n = module(x)
    _close(out.data, seq)
    _close((h_n[0] if kind == "LSTM" else h_n).data[0], h)
    converted = keras_to_torch(torch_kind, *weights)
    back = torch_to_keras(torch_kind, *converted.values())
    for got, expected in zip(back, weights, strict=True):
        _close(got, expected)


def test_keras_weights_import_into_a_bidirectional_torch_module():
    forward, backward = keras_weights("LSTM", {}, seed=0), keras_weights("LSTM", {}, seed=9)
    module = nn_recurrent.LSTM(F, U, bidirectional=True, dtype=np.float64)
    import_keras_weights(module, forward)
    import_keras_weights(module, backward, reverse=True)
    out, _ = module(_x())
    expected, _ = _bidirectional_reference("LSTM", {}, _x(), "concat", True)
    _close(out.data, expected)


def test_dropout_uses_one_input_mask_for_every_step():
    layer = _layer("LSTM", {}, return_sequences=True, dropout=0.5)
    x = _x()
    state = layer.rng.bit_generator.state
    out = layer(x)
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    keep = (rng.random((N, 1, F)) >= 0.5) / 0.5
    seq, _, _ = keras_reference("LSTM", {}, x * keep, keras_weights("LSTM", {}))
    _close(out.data, seq)
    layer.eval()
    _close(layer(x).data, keras_reference("LSTM", {}, x, keras_weights("LSTM", {}))[0])


def test_global_clipnorm_clips_an_lstm_model_s_gradients():
    """One SGD step with global_clipnorm moves the weights by -lr * g * c / ||g|| when the
    joint gradient norm ||g|| exceeds c."""
    x = _x().astype(np.float32) * 3
    y = np.full((N, 1), 5.0, np.float32)
    model = Sequential([LSTM(U, rng=0), Dense(1, rng=1)], input_shape=(T, F))
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    grads = [p.grad.copy() for p in model.parameters()]
    norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
    clip, lr = 0.1, 0.5
    assert norm > 10 * clip
    before = [p.data.copy() for p in model.parameters()]
    model.compile(optimizer=optim.SGD(lr=lr, global_clipnorm=clip), loss="mse")
    model.train_on_batch(x, y)
    for p, old, g in zip(model.parameters(), before, grads, strict=True):
        np.testing.assert_allclose(p.data, old - lr * g * clip / norm, rtol=1e-4, atol=1e-7)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="activation='tanh' and recurrent_activation='sigmoid'"):
        LSTM(4, recurrent_activation="hard_sigmoid")
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        SimpleRNN(4, activation="selu")
    with pytest.raises(ValueError, match="recurrent_dropout is not supported"):
        GRU(4, recurrent_dropout=0.2)
    layer = LSTM(4, name="lstm_probe")
    layer(np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"LSTM 'lstm_probe' expects 5 input features"):
        layer(np.zeros((2, 3, 6), np.float32))
    with pytest.raises(ValueError, match=r"expects \(batch, timesteps, features\)"):
        layer(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="takes 2 initial state"):
        layer(np.zeros((2, 3, 5), np.float32), initial_state=[np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\)"):
        layer(np.zeros((2, 3, 5), np.float32), mask=np.ones((3, 2), bool))
    with pytest.raises(TypeError, match="wraps a SimpleRNN, LSTM or GRU"):
        Bidirectional(Dense(3))
