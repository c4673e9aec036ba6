"""Autoencoders: each variant learns digits, the noise types do what they say (and only in
training), the sparse penalty against NumPy, the contractive closed form against a
finite-difference Jacobian in float64, encoder/decoder on their own, and save/load."""

import numpy as np
import pytest

import nnlab
import nnlab.functional as F
from nnlab import Tensor, gradcheck, optim
from nnlab.data import load_digits_images
from nnlab.layers import Dense
from nnlab.models.autoencoders import (
    Autoencoder,
    ConvAutoencoder,
    ConvDenoisingAutoencoder,
    DenoisingAutoencoder,
)
from nnlab.models.noise import corrupt
from nnlab.models.regularized_autoencoders import (
    ContractiveAutoencoder,
    SparseAutoencoder,
    contractive_penalty,
    jacobian_frobenius_norm,
    sparsity_penalty,
)
from nnlab.training import Sequential

SHAPE = (1, 8, 8)
VARIANTS = {
    "vanilla": (Autoencoder, {"code_size": 8, "hidden": (64,)}),
    "conv": (ConvAutoencoder, {"code_size": 8, "filters": (8, 16)}),
    "denoising": (DenoisingAutoencoder, {"noise": "masking", "noise_level": 0.2, "code_size": 16}),
    "conv_denoising": (ConvDenoisingAutoencoder, {"noise_level": 0.2, "filters": (8, 16)}),
    "sparse": (SparseAutoencoder, {"code_size": 32, "kl_weight": 0.01}),
    "contractive": (ContractiveAutoencoder, {"code_size": 16, "contractive_weight": 1e-4}),
    "contractive_deep": (
        ContractiveAutoencoder,
        {"code_size": 8, "hidden": (32,), "contractive_weight": 1e-4, "mc_samples": 2},
    ),
}


@pytest.fixture(scope="module")
def digits():
    x_train, x_test, y_train, y_test = load_digits_images()
    return x_train[:600], x_test[:200], y_train[:600], y_test[:200]


def make(name, seed=0):
    cls, kwargs = VARIANTS[name]
    return cls(SHAPE, seed=seed, **kwargs)


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_learns_to_reconstruct_digits(name, digits):
    x_train, x_test, *_ = digits
    model = make(name)
    model.compile(optim.Adam(lr=0.003), "mse")
    before = float(np.mean((model.predict(x_test) - x_test) ** 2))
    history = model.fit(x_train, epochs=6, batch_size=32, verbose=0)
    after = float(np.mean((model.predict(x_test) - x_test) ** 2))
    assert np.isfinite(history.history["loss"]).all()
    assert after < 0.6 * before, (before, after)  # about 0.1 at initialisation
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_fit_on_x_alone_is_fit_on_x_x(digits):
    x = digits[0][:128]
    a, b = make("vanilla", seed=3), make("vanilla", seed=3)
    for model, args in ((a, (x,)), (b, (x, x))):
        model.compile(optim.Adam(lr=0.01), "mse")
        model.fit(*args, epochs=2, batch_size=32, verbose=0)
    for (key, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data, err_msg=key)
    assert a.evaluate(x) == pytest.approx(a.evaluate(x, x))


@pytest.mark.parametrize("name", ["vanilla", "conv", "denoising"])
def test_encoder_and_decoder_work_on_their_own(name, digits):
    x = digits[1][:20]
    model = make(name)
    codes = model.encode(x)
    assert codes.shape == (20, model.code_size) and codes.dtype == np.float32
    np.testing.assert_allclose(model.decoder(Tensor(codes)).data, model.decode(codes), atol=1e-6)
    np.testing.assert_allclose(model.encoder(Tensor(x)).data, codes, atol=1e-6)
    np.testing.assert_allclose(model.decode(codes), model.predict(x), atol=1e-6)
    assert model.training  # encode/decode restore the mode they found


def test_trained_encoder_is_the_front_of_a_classifier(digits):
    x_train, x_test, y_train, y_test = digits
    model = Autoencoder(SHAPE, code_size=16, hidden=(64,), seed=0)
    model.compile(optim.Adam(lr=0.003), "mse")
    model.fit(x_train, epochs=8, verbose=0)
    classifier = Sequential([model.encoder, Dense(10, activation="softmax")], seed=0)
    classifier.compile(optim.Adam(lr=0.01), "sparse_categorical_crossentropy", ["accuracy"])
    classifier.fit(x_train, y_train, epochs=8, verbose=0)
    _, accuracy = classifier.evaluate(x_test, y_test)
    assert accuracy > 0.85
    assert classifier.layers[0] is model.encoder  # shared: fine-tuning moved the encoder


def test_dense_encoder_layers_and_parameter_count():
    model = Autoencoder(SHAPE, code_size=4, hidden=(32, 16))
    linear = [(m.in_features, m.out_features) for m in model.modules() if hasattr(m, "in_features")]
    assert linear == [(64, 32), (32, 16), (16, 4), (4, 16), (16, 32), (32, 64)]
    assert sum(p.size for p in model.parameters()) == sum(i * o + o for i, o in linear)


@pytest.mark.parametrize("shape", [(1, 7, 7), (3, 9, 10), (1, 28, 28)])
def test_conv_autoencoder_restores_any_image_size(shape):
    model = ConvAutoencoder(shape, code_size=5, filters=(4, 6), seed=0)
    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    out = model.predict(x)
    assert out.shape == (2, *shape) and ((out > 0) & (out < 1)).all()


def test_bad_inputs_get_clear_errors():
    model = Autoencoder(SHAPE, code_size=4)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 1, 8, 8\), got \(3, 64\)"):
        model.encode(np.zeros((3, 64), np.float32))
    with pytest.raises(ValueError, match=r"codes of shape \(N, 4\), got \(4,\)"):
        model.decode(np.zeros(4))
    with pytest.raises(ValueError, match="input_shape must be a positive int"):
        Autoencoder((1, 0, 8))
    with pytest.raises(ValueError, match="needs input_shape \\(channels, height, width\\)"):
        ConvAutoencoder(64)
    with pytest.raises(ValueError, match="noise must be one of"):
        DenoisingAutoencoder(SHAPE, noise="speckle")
    with pytest.raises(ValueError, match="code_activation='sigmoid'"):
        SparseAutoencoder(SHAPE, code_activation="relu")


# ---- noise -------------------------------------------------------------------------------------


def test_masking_noise_zeroes_the_requested_fraction():
    x = np.random.default_rng(0).uniform(0.1, 1.0, (200, 500)).astype(np.float32)
    out = corrupt(x, "masking", 0.3, rng=1)
    masked = out == 0
    assert abs(masked.mean() - 0.3) < 0.005
    np.testing.assert_array_equal(out[~masked], x[~masked])
    assert out.dtype == np.float32


def test_salt_and_pepper_uses_only_the_extreme_values():
    x = np.full((200, 500), 0.5)
    out = corrupt(x, "salt_and_pepper", 0.2, rng=2, low=0.0, high=1.0)
    changed = out != 0.5
    assert set(np.unique(out[changed])) == {0.0, 1.0}
    assert abs(changed.mean() - 0.2) < 0.005
    assert abs((out == 1.0).sum() / changed.sum() - 0.5) < 0.02  # salt and pepper equally


def test_gaussian_noise_has_the_requested_std_and_clips():
    x = np.full((400, 500), 0.5)
    diff = corrupt(x, "gaussian", 0.1, rng=3) - x
    assert abs(diff.mean()) < 0.002 and abs(diff.std() - 0.1) < 0.002
    clipped = corrupt(x, "gaussian", 1.0, rng=3, clip=(0.0, 1.0))
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(corrupt(x, "gaussian", 0.1, rng=3), diff + x)  # seeded
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        corrupt(x, "masking", 1.5)


def test_denoising_adds_noise_in_training_only_and_is_seeded(digits):
    x = Tensor(digits[1][:16])
    model = DenoisingAutoencoder(SHAPE, "salt_and_pepper", 0.5, code_size=8, seed=4)
    clean = model.decoder(model.encoder(x)).data
    np.testing.assert_array_equal(model.predict(x.data), clean)  # inference: no noise
    model.train()
    noisy_a = model(x).data
    assert not np.allclose(noisy_a, clean)
    twin = DenoisingAutoencoder(SHAPE, "salt_and_pepper", 0.5, code_size=8, seed=4).train()
    np.testing.assert_array_equal(twin(x).data, noisy_a)  # same seed, same noise
    assert not np.array_equal(model(x).data, noisy_a)  # a fresh draw every batch


# ---- sparse penalty ------------------------------------------------------------------------------


def test_sparsity_penalty_matches_numpy():
    h = np.random.default_rng(5).uniform(0.01, 0.6, (12, 7))
    rho, beta, l1 = 0.1, 0.7, 0.03
    rho_hat = h.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    expected = beta * kl.sum() + l1 * np.abs(h).sum(axis=1).mean()
    got = sparsity_penalty(Tensor(h), rho, beta, l1).item()
    assert got == pytest.approx(expected, rel=1e-12)
    assert sparsity_penalty(Tensor(np.full((3, 4), rho)), rho, 1.0).item() == pytest.approx(0.0)
    code = Tensor(h, requires_grad=True)
    assert gradcheck(lambda c: sparsity_penalty(c, rho, beta, l1), [code])


def test_sparse_model_penalty_is_in_the_loss(digits):
    model = SparseAutoencoder(SHAPE, code_size=16, target=0.05, kl_weight=0.5, l1=0.01, seed=0)
    model.compile("adam", "mse")
    x = digits[1][:32]
    recon = model.predict(x)
    codes = model.encode(x).astype(np.float64)
    rho_hat = codes.mean(axis=0)
    kl = 0.05 * np.log(0.05 / rho_hat) + 0.95 * np.log(0.95 / (1 - rho_hat))
    expected = np.mean((recon - x) ** 2) + 0.5 * kl.sum() + 0.01 * codes.sum(axis=1).mean()
    assert model.evaluate(x, batch_size=32) == pytest.approx(expected, rel=1e-5)


# ---- contractive penalty -------------------------------------------------------------------------


def finite_difference_jacobians(encoder, x: np.ndarray, eps=1e-6) -> np.ndarray:
    """(N, K, D) Jacobians of the encoder by central differences, one input at a time."""
    flat = x.reshape(len(x), -1)
    columns = []
    for i in range(flat.shape[1]):
        step = np.zeros_like(flat)
        step[:, i] = eps
        plus = encoder(Tensor((flat + step).reshape(x.shape))).data
        minus = encoder(Tensor((flat - step).reshape(x.shape))).data
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=2)


def test_closed_form_contractive_penalty_is_the_jacobian_norm():
    model = ContractiveAutoencoder((3, 2, 2), code_size=5, seed=1).double()
    assert model.closed_form
    x = np.random.default_rng(6).random((4, 3, 2, 2))
    jac = finite_difference_jacobians(model.encoder, x)
    expected = np.mean((jac**2).sum(axis=(1, 2)))
    code = model.encoder(Tensor(x))
    got = contractive_penalty(code, model.encoder.code.weight).item()
    assert got == pytest.approx(expected, rel=1e-7)
    np.testing.assert_allclose(
        jacobian_frobenius_norm(model.encoder, x), np.sqrt((jac**2).sum(axis=(1, 2))), rtol=1e-7
    )


def test_contractive_penalty_gradients_reach_weights_and_bias():
    rng = np.random.default_rng(7)
    x = rng.random((3, 4))
    w = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal(5), requires_grad=True)

    def penalty(w, b):
        return contractive_penalty(F.sigmoid(Tensor(x) @ w.T + b), w)

    assert gradcheck(penalty, [w, b])


def test_deep_encoder_estimate_approaches_the_jacobian_norm():
    model = ContractiveAutoencoder(6, code_size=3, hidden=(5,), mc_samples=4000, seed=2).double()
    assert not model.closed_form
    x = np.random.default_rng(8).random((2, 6))
    exact = np.mean((finite_difference_jacobians(model.encoder, x) ** 2).sum(axis=(1, 2)))
    estimate = model._jacobian_estimate(x, model.encoder(Tensor(x))).item()
    assert estimate == pytest.approx(exact, rel=0.05)


def test_contractive_training_lowers_the_jacobian_norm(digits):
    x_train, x_test, *_ = digits
    norms = {}
    for lam in (0.0, 3e-3):
        model = ContractiveAutoencoder(SHAPE, code_size=16, contractive_weight=lam, seed=0)
        model.compile(optim.Adam(lr=0.003), "mse")
        model.fit(x_train, epochs=6, verbose=0)
        norms[lam] = jacobian_frobenius_norm(model.encoder, x_test[:50]).mean()
    assert norms[3e-3] < 0.7 * norms[0.0]


# ---- saving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vanilla", "conv", "denoising", "sparse", "contractive"])
def test_save_and_load_round_trip(name, digits, tmp_path):
    x = digits[1][:16]
    model = make(name, seed=5)
    model.compile(optim.Adam(lr=1e-3), "mse")
    model.train_on_batch(x)
    path = tmp_path / f"{name}.nnlab"
    model.save(path)
    loaded = nnlab.load(path)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.encode(x), model.encode(x))
    # optimizer and noise streams resume exactly
    assert loaded.train_on_batch(x) == model.train_on_batch(x)
