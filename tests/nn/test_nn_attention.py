"""MultiheadAttention, the Transformer layers and positional encodings beyond PyTorch
parity: gradient checks, configs, errors, recorded weights, dropout and the encodings."""

import numpy as np
import pytest

from nnlab import Tensor, gradcheck, nn
from nnlab.nn.module import class_key, registered
from nnlab.nn.positional import sinusoidal_table


def _x(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def test_multihead_attention_input_gradients_match_finite_differences():
    mha = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, rng=0).double()
    q, k, v = (Tensor(_x(*s, seed=i), requires_grad=True) for i, s in enumerate(
        [(2, 3, 6), (2, 4, 4), (2, 4, 5)]))  # fmt: skip
    padding = np.array([[False, False, False, True], [False] * 4])
    assert gradcheck(lambda a, b, c: mha(a, b, c, key_padding_mask=padding)[0], [q, k, v])


def test_encoder_layer_gradients_match_finite_differences():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, norm_first=True, rng=1).double()
    x = Tensor(_x(2, 3, 4, seed=2), requires_grad=True)
    assert gradcheck(lambda t: layer(t, is_causal=True), [x])


def test_weights_sum_to_one_and_record_weights_keeps_every_head():
    mha = nn.MultiheadAttention(8, 4, rng=0)
    mha.record_weights = True
    x = _x(2, 5, 8, dtype=np.float32)
    out, weights = mha(x, x, x, need_weights=False)
    assert weights is None and out.shape == (2, 5, 8)
    assert mha.last_weights.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(mha.last_weights.sum(-1), 1.0, rtol=1e-6)
    _, averaged = mha(x, x, x)
    np.testing.assert_allclose(averaged.data, mha.last_weights.mean(1), rtol=1e-6)


def test_is_causal_without_a_mask_builds_the_causal_mask():
    mha = nn.MultiheadAttention(4, 2, rng=0)
    x = _x(1, 4, 4, dtype=np.float32)
    _, weights = mha(x, x, x, is_causal=True)
    assert np.all(weights.data[0][np.triu(np.ones((4, 4), bool), 1)] == 0)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        nn.MultiheadAttention(8, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = _x(2, 5, 8, dtype=np.float32)
    with pytest.raises(ValueError, match="query of shape"):
        mha(x[..., :6], x, x)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\)"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, x, x, attn_mask=np.zeros((3, 5), bool))
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="batch_first=True only"):
        nn.TransformerEncoderLayer(8, 2, batch_first=False)


@pytest.mark.parametrize(
    "module",
    [
        nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False),
        nn.TransformerEncoderLayer(8, 2, 16, norm_first=True, activation="gelu"),
        nn.TransformerDecoderLayer(8, 2, 16),
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, nn.LayerNorm(8)),
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 3),
        nn.Transformer(8, 2, 1, 2, 16),
        nn.SinusoidalPositionalEncoding(8, max_len=50, dropout=0.1),
        nn.LearnedPositionalEmbedding(20, 8),
    ],
    ids=lambda m: type(m).__name__,
)
def test_configs_round_trip_through_the_registry(module):
    config = module.get_config()
    rebuilt = registered(class_key(type(module))).from_config(config)
    assert rebuilt.get_config() == config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in module.state_dict().items()
    }


def test_stacked_layers_start_equal_but_draw_different_dropout_masks():
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, rng=0), 2)
    first, second = stack.layers[0], stack.layers[1]
    np.testing.assert_array_equal(first.linear1.weight.data, second.linear1.weight.data)
    assert first.linear1.weight is not second.linear1.weight
    x = _x(4, 6, 8, dtype=np.float32)
    a, b = first.dropout1(Tensor(x)).data, second.dropout1(Tensor(x)).data
    assert not np.array_equal(a == 0, b == 0)


def test_dropout_only_in_training_mode():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, rng=0)
    x = _x(2, 5, 8, dtype=np.float32)
    train_a, train_b = layer(x).data, layer(x).data
    assert not np.allclose(train_a, train_b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)


def test_sinusoidal_table_values():
    table = sinusoidal_table(50, 6, np.float64)
    pos, i = 7, 1  # the pair of columns 2i, 2i+1
    angle = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(table[pos, 2 * i : 2 * i + 2], [np.sin(angle), np.cos(angle)])
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1])
    assert sinusoidal_table(10, 5).shape == (10, 5)  # odd widths end on a sine column


def test_sinusoidal_shift_is_a_fixed_rotation_of_each_frequency_pair():
    # PE[pos + k] = R_k PE[pos] with R_k independent of pos: relative offsets are linear.
    table = sinusoidal_table(40, 4, np.float64)
    k, rate = 3, 1.0
    rotation = np.array(
        [[np.cos(k * rate), np.sin(k * rate)], [-np.sin(k * rate), np.cos(k * rate)]]
    )
    for pos in (0, 5, 20):
        np.testing.assert_allclose(table[pos + k, :2], rotation @ table[pos, :2], atol=1e-12)


def test_positional_modules_add_their_tables_and_check_shapes():
    x = _x(2, 5, 6, dtype=np.float32)
    sinus = nn.SinusoidalPositionalEncoding(6, max_len=10)
    np.testing.assert_allclose(sinus(x).data, x + sinusoidal_table(5, 6), rtol=1e-6)
    learned = nn.LearnedPositionalEmbedding(10, 6, rng=0)
    out = learned(Tensor(x))
    np.testing.assert_allclose(out.data, x + learned.weight.data[:5])
    out.sum().backward()
    np.testing.assert_allclose(learned.weight.grad[:5], 2.0)  # summed over the batch of 2
    assert np.all(learned.weight.grad[5:] == 0)
    assert sinus.state_dict() == {}
    with pytest.raises(ValueError, match="T <= 10"):
        sinus(_x(1, 11, 6))
