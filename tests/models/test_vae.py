"""The VAE: the closed-form KL against NumPy, the reparameterisation gradient, float64
gradient checks of the whole loss, the likelihood terms by hand, the KL-annealing schedule
inside fit, errors, and short learning runs on real digits."""

import numpy as np
import pytest

import nnlab
from nnlab import Tensor, gradcheck, optim
from nnlab.data import load_digits_images
from nnlab.models.vae import (
    VAE,
    KLAnnealing,
    conv_vae,
    kl_annealing_weight,
    kl_divergence,
    reparameterize,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits_images()[0][:320]


def small_vae(likelihood="bernoulli", **kwargs) -> VAE:
    return VAE(6, latent_dim=2, hidden=(5,), likelihood=likelihood, seed=3, **kwargs).double()


def test_kl_matches_numpy_formula():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    var = np.exp(logvar)
    # KL(N(mu, var) || N(0, 1)) per dimension: (var + mu^2 - 1 - log var) / 2
    expected = 0.5 * np.sum(var + mu**2 - 1.0 - logvar, axis=1)
    np.testing.assert_allclose(kl_divergence(Tensor(mu), Tensor(logvar)).data, expected, 1e-12)
    assert kl_divergence(Tensor(np.zeros((2, 4))), Tensor(np.zeros((2, 4)))).data.tolist() == [
        0.0,
        0.0,
    ]


def test_reparameterisation_gradient_reaches_mu_and_logvar():
    rng = np.random.default_rng(1)
    mu = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    logvar = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    eps = rng.normal(size=(4, 3))
    assert gradcheck(lambda m, v: reparameterize(m, v, eps), [mu, logvar])
    z = reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(z.data, mu.data + np.exp(0.5 * logvar.data) * eps)
    mu.grad = logvar.grad = None  # gradcheck left its own gradients behind
    z.sum().backward()
    np.testing.assert_allclose(mu.grad, np.ones((4, 3)))  # dz/dmu = 1
    np.testing.assert_allclose(logvar.grad, 0.5 * np.exp(0.5 * logvar.data) * eps)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_gradcheck_wrt_every_parameter_with_fixed_noise(likelihood):
    vae = small_vae(likelihood, beta=1.5)
    rng = np.random.default_rng(2)
    x = Tensor(rng.uniform(size=(4, 6)))
    eps = rng.normal(size=(4, 2))
    params = vae.parameters()

    def loss(*_):
        recon, kl = vae.loss_terms(x, eps)
        return recon + vae.beta * kl

    assert gradcheck(loss, params, atol=1e-6, rtol=1e-4)


def hand_terms(vae, x, eps):
    """Reconstruction and KL of ``vae`` on ``x`` with noise ``eps``, in NumPy."""
    mu, logvar = (t.data for t in vae.posterior(Tensor(x)))
    z = mu + np.exp(0.5 * logvar) * eps
    out = vae.decoder_output(Tensor(z)).data
    if vae.likelihood == "bernoulli":
        p = 1.0 / (1.0 + np.exp(-out))
        recon = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p)) / len(x)
    else:
        recon = np.sum((out - x) ** 2) / (2 * vae.sigma**2 * len(x))
    kl = np.mean(0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=1))
    return recon, kl


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_terms_equal_the_negative_elbo_by_hand(likelihood):
    vae = small_vae(likelihood, sigma=0.3)
    rng = np.random.default_rng(4)
    x, eps = rng.uniform(size=(5, 6)), rng.normal(size=(5, 2))
    recon, kl = vae.loss_terms(Tensor(x), eps)
    expected_recon, expected_kl = hand_terms(vae, x, eps)
    np.testing.assert_allclose([recon.item(), kl.item()], [expected_recon, expected_kl], 1e-10)


def test_annealing_schedule_values():
    assert [kl_annealing_weight(t, 4) for t in range(7)] == [0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert kl_annealing_weight(0, 0) == 1.0
    with pytest.raises(ValueError, match="warmup and t must be >= 0"):
        kl_annealing_weight(-1, 3)
    with pytest.raises(ValueError, match="unit must be 'epoch' or 'step'"):
        KLAnnealing(3, unit="batch")


def test_annealing_inside_fit_weights_the_kl_term(digits):
    vae = VAE((1, 8, 8), latent_dim=4, hidden=(32,), beta=2.0, seed=0)
    vae.compile(optim.Adam(lr=1e-3))
    history = vae.fit(digits, epochs=5, batch_size=64, verbose=0, callbacks=[KLAnnealing(4)])
    logs = history.history
    assert logs["kl_weight"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # the first epoch trains on reconstruction alone: its loss is exactly that term
    assert logs["loss"][0] == pytest.approx(logs["reconstruction_loss"][0], rel=1e-6)
    # per-batch weights are constant within an epoch, so the epoch means add up
    total = np.array(logs["reconstruction_loss"]) + 2.0 * np.array(logs["kl_weight"]) * np.array(
        logs["kl_loss"]
    )
    np.testing.assert_allclose(logs["loss"], total, rtol=1e-5)

    stepped = VAE((1, 8, 8), latent_dim=4, hidden=(32,), seed=0).compile("adam")
    seen = []
    annealing = KLAnnealing(10, unit="step")
    probe = KLAnnealing(0)
    probe.on_train_batch_end = lambda batch, logs=None: seen.append(stepped.kl_weight)
    stepped.fit(digits[:128], epochs=2, batch_size=32, verbose=0, callbacks=[annealing, probe])
    assert seen == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


def test_vae_learns_digits_and_samples_in_range(digits):
    vae = VAE((1, 8, 8), latent_dim=4, hidden=(64,), seed=0).compile(optim.Adam(lr=2e-3))
    history = vae.fit(digits, epochs=8, batch_size=32, verbose=0)
    recon = history.history["reconstruction_loss"]
    assert recon[-1] < recon[0] - 5.0  # nats per sample; starts near 37
    assert all(k > 0.2 for k in history.history["kl_loss"][2:])  # z carries information
    samples = vae.sample(10, np.random.default_rng(0))
    assert samples.shape == (10, 1, 8, 8) and 0.0 <= samples.min() and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, vae.sample(10, np.random.default_rng(0)))
    mu, logvar = vae.encode(digits[:5])
    expected = vae.posterior(Tensor(digits[:5]))
    np.testing.assert_allclose(mu, expected[0].data, rtol=1e-6)
    np.testing.assert_allclose(logvar, expected[1].data, rtol=1e-6)
    # reconstructions decode the posterior means
    np.testing.assert_allclose(vae.predict(digits[:5]), vae.decode(mu), rtol=1e-6)
    val = vae.evaluate(digits[:64], return_dict=True)
    assert set(val) == {"loss", "reconstruction_loss", "kl_loss", "kl_weight"}


def test_same_seed_same_training(digits):
    def run(seed):
        vae = VAE((1, 8, 8), latent_dim=3, hidden=(16,), seed=seed).compile("adam")
        return vae.fit(digits[:96], epochs=2, batch_size=32, verbose=0).history["loss"]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_conv_vae_learns(digits):
    vae = conv_vae((1, 8, 8), latent_dim=4, seed=0).compile(optim.Adam(lr=2e-3))
    losses = vae.fit(digits[:192], epochs=3, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < losses[0] - 3.0
    assert vae.sample(3).shape == (3, 1, 8, 8)
    with pytest.raises(ValueError, match="divisible by 4"):
        conv_vae((1, 10, 10))


def test_clear_errors():
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAE(4, likelihood="poisson")
    vae = VAE((1, 8, 8), latent_dim=3, seed=0)
    with pytest.raises(ValueError, match=r"expects samples of shape \(1, 8, 8\), got a batch"):
        vae.predict(np.zeros((2, 64), np.float32))
    with pytest.raises(ValueError, match=r"decode expects z of shape \(N, 3\)"):
        vae.decode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="takes no loss or metrics"):
        vae.compile("adam", metrics=["mse"])
    with pytest.raises(RuntimeError, match="must be compiled"):
        vae.fit(np.zeros((4, 1, 8, 8), np.float32), verbose=0)


def test_save_and_load_resume_exactly(tmp_path):
    x = np.random.default_rng(0).random((64, 1, 8, 8)).astype(np.float32)
    for model in (VAE((1, 8, 8), 4, hidden=(32,), seed=0), conv_vae((1, 8, 8), 4, seed=0)):
        model.compile("adam")
        model.fit(x, epochs=2, batch_size=16, verbose=0)
        model.save(tmp_path / "vae.nnlab")
        loaded = nnlab.load(tmp_path / "vae.nnlab")
        assert type(loaded) is VAE and loaded.get_config() == model.get_config()
        z = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
        np.testing.assert_array_equal(loaded.decode(z), model.decode(z))
        model.fit(x, epochs=1, batch_size=16, verbose=0)
        loaded.fit(x, epochs=1, batch_size=16, verbose=0)
        np.testing.assert_array_equal(loaded.decode(z), model.decode(z))  # same noise, order


def test_conv_vae_loss_gradcheck_in_float64():
    # The decoder reshapes with nn.Unflatten, which keeps float64, so the whole conv VAE can
    # be checked against finite differences.
    vae = conv_vae((1, 4, 4), latent_dim=2, seed=0)
    vae.double()
    rng = np.random.default_rng(3)
    x = Tensor(rng.uniform(size=(2, 1, 4, 4)))
    eps = rng.normal(size=(2, 2))

    def loss(*_):
        recon, kl = vae.loss_terms(x, eps)
        return recon + kl

    assert gradcheck(loss, vae.parameters(), atol=1e-6, rtol=1e-4)
