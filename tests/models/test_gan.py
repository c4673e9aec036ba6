"""The GAN: each phase of train_step updates only its own player, the losses by hand
(label smoothing, the non-saturating generator loss), NaN handling, and short seeded runs
on real digits that stay finite and move."""

import numpy as np
import pytest

from nnlab import Tensor, optim
from nnlab.data import load_digits_images
from nnlab.models.gan import GAN, SampleSnapshots, dcgan, dense_gan
from nnlab.nn import Linear


@pytest.fixture(scope="module")
def digits():
    return load_digits_images()[0][:256]


def compiled(builder=dense_gan, label_smoothing=0.0, on_nan="raise", seed=0) -> GAN:
    gan = builder(8, (1, 8, 8), seed=seed)
    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    return gan.compile(optim.Adam(**adam), optim.Adam(**adam), label_smoothing, on_nan)


def snapshot(module) -> list:
    return [p.data.copy() for p in module.parameters()]


def changed(before, module) -> list:
    return [not np.array_equal(a, p.data) for a, p in zip(before, module.parameters(), strict=True)]


def bce(logits, target) -> float:
    p = 1.0 / (1.0 + np.exp(-logits))
    return float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))


@pytest.mark.parametrize("builder", [dense_gan, dcgan])
def test_each_phase_updates_only_its_player(digits, builder):
    gan = compiled(builder)
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.discriminator_step(digits[:32])
    assert all(changed(d0, gan.discriminator))
    assert not any(changed(g0, gan.generator))
    d1 = snapshot(gan.discriminator)
    gan.generator_step(32)
    assert all(changed(g0, gan.generator))
    assert not any(changed(d1, gan.discriminator))
    # D's weights were frozen: the generator step computed no gradient for them
    assert all(p.requires_grad and p.grad is not None for p in gan.discriminator.parameters())
    assert gan.d_optimizer.param_groups[0]["params"] == gan.discriminator.parameters()
    assert gan.g_optimizer.param_groups[0]["params"] == gan.generator.parameters()


def test_frozen_discriminator_gets_no_gradient_in_the_generator_step():
    gan = compiled()
    gan.generator_step(16)
    assert all(p.grad is None for p in gan.discriminator.parameters())
    assert all(p.grad is not None for p in gan.generator.parameters())


def test_label_smoothing_lowers_only_the_real_targets(digits):
    rng = np.random.default_rng(0)
    x, fake = Tensor(digits[:16]), Tensor(rng.uniform(size=(16, 1, 8, 8)).astype(np.float32))
    losses = {}
    for smoothing in (0.0, 0.2):
        gan = compiled(label_smoothing=smoothing)
        gan.discriminator[-1].bias.data[:] = 3.0  # confident logits, where targets matter
        loss, real, fake_logits = gan.discriminator_loss(x, fake)
        expected = bce(real.data, 1.0 - smoothing) + bce(fake_logits.data, 0.0)
        assert loss.item() == pytest.approx(expected, rel=1e-5)
        losses[smoothing] = loss.item()
    # BCE(l, t) = softplus(l) - t l: lowering the real target by 0.2 adds 0.2 mean(l)
    assert losses[0.2] - losses[0.0] == pytest.approx(0.2 * float(real.data.mean()), rel=1e-4)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 0.5\)"):
        compiled(label_smoothing=0.5)


def test_generator_loss_is_non_saturating():
    gan = compiled()
    z = gan.noise(16, np.random.default_rng(1))
    logits = gan.discriminator(gan.generator(Tensor(z))).data
    expected = float(np.mean(-np.log(1.0 / (1.0 + np.exp(-logits)))))  # -log D(G(z))
    assert gan.generator_loss(Tensor(z)).item() == pytest.approx(expected, rel=1e-5)


def test_short_seeded_run_is_finite_logged_and_reproducible(digits):
    def run():
        gan = compiled(label_smoothing=0.1, seed=4)
        snaps = SampleSnapshots(gan.noise(4, np.random.default_rng(0)), every=2)
        history = gan.fit(digits, epochs=5, batch_size=32, verbose=0, callbacks=[snaps])
        return gan, history.history, snaps.snapshots

    gan, logs, snapshots = run()
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert len(logs[key]) == 5 and np.all(np.isfinite(logs[key])), key
    assert all(0.0 < v < 1.0 for v in logs["d_real"] + logs["d_fake"])
    assert sorted(snapshots) == [2, 4, 5] and snapshots[5].shape == (4, 1, 8, 8)
    assert run()[1] == logs  # same seed, same numbers
    samples = gan.generate(6, np.random.default_rng(3))
    np.testing.assert_array_equal(samples, gan.generate(z=gan.noise(6, np.random.default_rng(3))))
    assert samples.shape == (6, 1, 8, 8) and 0.0 <= samples.min() and samples.max() <= 1.0


def test_training_moves_samples_towards_the_data(digits):
    gan = compiled(seed=1)
    z = gan.noise(256, np.random.default_rng(0))
    target = digits.mean(axis=0)

    def gap():  # distance between the mean generated and the mean real image
        return float(np.linalg.norm(gan.generate(z=z).mean(axis=0) - target))

    before = gap()
    history = gan.fit(digits, epochs=12, batch_size=32, verbose=0).history
    assert gap() < 0.5 * before
    # the discriminator learns to tell real from fake: its outputs separate
    assert history["d_real"][-1] - history["d_fake"][-1] > 0.1


def test_discriminator_alone_learns_to_separate(digits):
    gan = compiled(seed=2)
    first = gan.discriminator_step(digits[:64])[0]
    for _ in range(30):
        last = gan.discriminator_step(digits[:64])[0]
    assert last < first - 0.5  # from about 2 log 2 = 1.39


def test_nan_raises_or_stops(digits):
    gan = compiled()
    gan.discriminator.parameters()[0].data[:] = np.nan
    with pytest.raises(FloatingPointError, match="d_loss is nan"):
        gan.fit(digits[:64], epochs=1, batch_size=32, verbose=0)

    gan = compiled(on_nan="stop")
    gan.generator.parameters()[0].data[:] = np.nan
    d_before = snapshot(gan.discriminator)
    history = gan.fit(digits[:64], epochs=3, batch_size=32, verbose=0).history
    assert gan.stop_training and len(history["d_loss"]) == 1  # stopped in the first epoch
    assert np.isnan(history["g_loss"][0])
    assert not any(changed(d_before, gan.discriminator))  # fakes were NaN: no D update either


def test_clear_errors():
    with pytest.raises(TypeError, match="generator must be an nnlab Module"):
        GAN(lambda z: z, Linear(4, 1), 4)
    bad = GAN(Linear(4, 6), Linear(6, 2), 4)
    with pytest.raises(ValueError, match=r"one logit per sample, \(N, 1\) or \(N,\), got \(1, 2\)"):
        bad.compile()
    gan = compiled()
    with pytest.raises(ValueError, match=r"z must have shape \(N, 8\)"):
        gan.generate(z=np.zeros((2, 3)))
    with pytest.raises(
        ValueError, match=r"samples of shape \(1, 8, 8\) but the data has shape \(64,\)"
    ):
        gan.fit(np.zeros((4, 64), np.float32), verbose=0)
    with pytest.raises(ValueError, match="needs n"):
        gan.generate()
    with pytest.raises(ValueError, match="on_nan must be one of"):
        compiled(on_nan="ignore")
    with pytest.raises(ValueError, match="divisible by 4"):
        dcgan(8, (1, 6, 6))
