import numpy as np
import pytest

import nnlab
from nnlab import Tensor, gradcheck, layers, nn, regularizers
from nnlab.layers.masks import get_mask, set_mask


def test_dense_builds_lazily_from_first_input():
    dense = layers.Dense(5, activation="relu", rng=0)
    assert dense.parameters() == []
    out = dense(np.ones((2, 3), np.float32))
    assert dense.weight.shape == (5, 3) and dense.bias.shape == (5,)
    expected = np.maximum(np.ones((2, 3)) @ dense.kernel + dense.bias.data, 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    assert len(dense.parameters()) == 2


def test_dense_glorot_uniform_default_bounds():
    dense = layers.Dense(300, input_dim=200, rng=0)
    limit = np.sqrt(6 / (200 + 300))
    assert np.abs(dense.kernel).max() <= limit
    assert np.abs(dense.kernel).max() > 0.95 * limit
    np.testing.assert_array_equal(dense.bias.data, 0)


def test_dense_rejects_wrong_feature_count_with_clear_message():
    dense = layers.Dense(4, input_dim=64, name="dense_probe")
    with pytest.raises(
        ValueError, match=r"Dense 'dense_probe' expects 64 input features.*\(32, 30\)"
    ):
        dense(np.zeros((32, 30), np.float32))


def test_keras_names_are_numbered_per_class():
    first, second = layers.Dense(1), layers.Dense(1)
    base = first.name
    assert base.startswith("dense")
    suffix = int(base.split("_")[1]) if "_" in base else 0
    assert second.name == f"dense_{suffix + 1}"


def test_dense_matches_a_float64_gradcheck():
    dense = layers.Dense(3, activation="tanh", dtype="float64", rng=1)
    x = Tensor(np.random.default_rng(0).normal(size=(4, 5)), requires_grad=True)
    dense(x)  # build
    assert gradcheck(lambda x, w, b: dense(x), [x, dense.weight, dense.bias])


def test_kernel_regularizer_adds_its_penalty_and_gradient():
    dense = layers.Dense(2, input_dim=3, kernel_regularizer=regularizers.L2(0.1), rng=0)
    model = nn.Sequential(dense)
    (penalty,) = model.losses
    np.testing.assert_allclose(penalty.item(), 0.1 * np.sum(dense.weight.data**2), rtol=1e-6)
    penalty.backward()
    np.testing.assert_allclose(dense.weight.grad, 0.2 * dense.weight.data, rtol=1e-6)


def test_activity_regularizer_is_recorded_per_call():
    dense = layers.Dense(2, input_dim=3, activity_regularizer="l1", rng=0)
    out = dense(np.ones((4, 3), np.float32))
    (penalty,) = dense.losses
    np.testing.assert_allclose(penalty.item(), 0.01 * np.abs(out.data).sum() / 4, rtol=1e-6)


def test_keras_weight_layout_round_trip():
    dense = layers.Dense(2, rng=0)
    kernel, bias = np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1.0, -1.0])
    dense.set_weights([kernel, bias])
    np.testing.assert_array_equal(dense.get_weights()[0], kernel)
    np.testing.assert_allclose(dense(np.ones((1, 3))).data, [[1 + 0 + 2 + 4, -1 + 1 + 3 + 5]])


@pytest.mark.parametrize(
    "layer",
    [
        layers.Dense(4, activation="relu", kernel_regularizer="l2", input_dim=3),
        layers.Activation("tanh"),
        layers.Dropout(0.25, seed=3),
        layers.Flatten(),
        layers.Reshape((2, -1)),
        layers.BatchNormalization(momentum=0.9),
        layers.LayerNormalization(epsilon=1e-5),
        layers.Embedding(10, 3),
    ],
)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_dropout_layer_is_identity_in_eval_and_seeded_in_training():
    x = np.ones((200, 50), np.float32)
    a, b = layers.Dropout(0.5, seed=1), layers.Dropout(0.5, seed=1)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert abs((a(x).data == 0).mean() - 0.5) < 0.02
    a.eval()
    np.testing.assert_array_equal(a(x).data, x)


def test_flatten_and_reshape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(layers.Flatten()(x).data, x.reshape(2, 12))
    np.testing.assert_array_equal(layers.Reshape((4, 3))(x).data, x.reshape(2, 4, 3))
    with pytest.raises(ValueError, match="cannot turn samples"):
        layers.Reshape((5, 5))(x)


def test_embedding_rejects_float_ids():
    emb = layers.Embedding(10, 2)
    with pytest.raises(TypeError, match="integer ids"):
        emb(np.array([0.5]))
    np.testing.assert_array_equal(emb(np.array([[1, 2]])).data, emb.embeddings.data[[[1, 2]]])


def test_layers_mix_with_nn_modules_in_sequential():
    nnlab.manual_seed(0)
    model = nn.Sequential(layers.Dense(8, activation="relu"), nn.Linear(8, 2))
    out = model(Tensor(np.ones((3, 5), np.float32)))
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out.data[0], out.data[1])


def test_batch_normalization_takes_a_batch_of_one_sample_as_keras():
    bn = layers.BatchNormalization(momentum=0.9)
    bn.eval()
    bn(np.zeros((4, 3), np.float32))  # build, running statistics untouched
    bn.beta.data[:] = [0.5, -1.0, 2.0]
    bn.train()
    x = Tensor(np.array([[3.0, -2.0, 7.0]], np.float32), requires_grad=True)
    out = bn(x)
    np.testing.assert_allclose(out.data, [[0.5, -1.0, 2.0]])  # variance 0: the output is beta
    np.testing.assert_allclose(bn.moving_mean, 0.1 * x.data[0], rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance, 0.9, rtol=1e-6)  # moved toward 0
    (out * Tensor(np.array([[1.0, 2.0, 3.0]], np.float32))).sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)  # the output does not depend on x
    np.testing.assert_allclose(bn.beta.grad, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="needs more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.ones((1, 3), np.float32)))  # PyTorch's layer refuses


def test_fit_survives_a_last_batch_of_one_sample_through_batch_normalization():
    rng = np.random.default_rng(0)
    model = nnlab.Sequential(
        [layers.Dense(4), layers.BatchNormalization(), layers.Dense(1)], seed=0
    )
    model.compile("adam", "mse")
    history = model.fit(
        rng.normal(size=(33, 3)), rng.normal(size=(33, 1)), batch_size=32, epochs=2, verbose=0
    )
    assert np.all(np.isfinite(history.history["loss"]))


def test_gaussian_noise_only_while_training_with_the_asked_spread():
    x = np.zeros((400, 50), np.float32)
    layer = layers.GaussianNoise(0.5, seed=3)
    noisy = layer(x).data
    assert abs(noisy.mean()) < 0.01 and noisy.std() == pytest.approx(0.5, rel=0.02)
    again = layers.GaussianNoise(0.5, seed=3)(x).data
    np.testing.assert_array_equal(noisy, again)  # seeded
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x)
    layer.train()
    t = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    layer(t).sum().backward()
    np.testing.assert_array_equal(t.grad, 1.0)  # the noise is a constant shift
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        layers.GaussianNoise(-1.0)


def test_repeat_vector_values_gradient_and_errors():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = layers.RepeatVector(3, dtype="float64")(x)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out.data[:, 2], x.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 3.0)
    with pytest.raises(ValueError, match=r"expects \(batch, features\)"):
        layers.RepeatVector(2)(np.ones((2, 3, 4)))
    assert layers.RepeatVector.from_config(layers.RepeatVector(4).get_config()).n == 4


def test_lstm_autoencoder_with_repeat_vector_trains():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 10)
    x = np.sin(t[None, :, None] + rng.uniform(0, 2 * np.pi, (64, 1, 1))).astype(np.float32)
    model = nnlab.Sequential(
        [
            layers.LSTM(16),
            layers.RepeatVector(10),
            layers.LSTM(16, return_sequences=True),
            layers.Dense(1),
        ],
        seed=0,
    )
    model.compile(nnlab.optim.Adam(lr=1e-2), "mse")
    history = model.fit(x, x, epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_batch_normalization_takes_statistics_from_real_steps_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4))
    x[~(np.arange(5) < np.array([5, 2, 3])[:, None])] = 50.0  # padding far from the data
    mask = np.arange(5) < np.array([5, 2, 3])[:, None]
    bn = layers.BatchNormalization(axis=-1, momentum=0.9, dtype="float64")
    out = bn(set_mask(Tensor(x), mask))
    real = x[mask]
    expected = (x - real.mean(0)) / np.sqrt(real.var(0) + 1e-3)  # Keras 3's masked moments
    np.testing.assert_allclose(out.data[mask], expected[mask], rtol=1e-10)
    np.testing.assert_array_equal(get_mask(out), mask)  # passed on
    np.testing.assert_allclose(bn.moving_mean, 0.1 * real.mean(0), rtol=1e-10)
    unbiased = real.var(0) * len(real) / (len(real) - 1)
    np.testing.assert_allclose(bn.moving_variance, 0.9 + 0.1 * unbiased, rtol=1e-10)
    probe = Tensor(x, requires_grad=True)
    assert gradcheck(lambda t: bn(set_mask(t, mask)), [probe])
