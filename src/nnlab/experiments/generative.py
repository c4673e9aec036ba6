"""VAEs and GANs on scikit-learn's 8x8 digits, judged by a classifier trained separately.

Data: the training split of ``nnlab.data.load_digits_images`` (1,437 images (1, 8, 8),
pixels / 16 in [0, 1]); the generators never see the labels.

Models (all Adam; the GANs with DCGAN's lr 2e-4 and beta1 0.5, one-sided label smoothing
0.1, batches of 64):

- VAE: dense 64-256-128-(8 + 8) encoder, mirrored decoder, Bernoulli likelihood, 8-D z;
- beta-VAE: the same with beta = 2 and the KL weight warmed up linearly over 20 epochs,
  and beta = 4 (which collapses the posterior: KL -> 0, every sample the same blur);
- convolutional VAE (two stride-2 convolutions each way), and a 2-D-latent VAE whose
  decoder is drawn as a manifold;
- GAN: dense generator 16-128-256-64 (sigmoid) against a dense 64-256-128-1 discriminator;
- DCGAN: Linear-BatchNorm-ReLU to 128x2x2, two ConvTranspose2d up to 1x8x8, against two
  strided Conv2d (BatchNorm, LeakyReLU 0.2) and a logit.

Judge (``nnlab.evaluation.generative.DigitsJudge``): 100 samples from each model (z from
the prior) are classified by scikit-learn's MLPClassifier (128 hidden units) trained on the
real training digits. It is the more accurate of the two judges tried (test accuracy 0.983)
and calibrated on real digits (mean confidence 0.97 on 100 real test digits); a logistic
regression gives a second, stricter opinion (accuracy 0.956, but under-confident even on
real digits: 0.885). Reported: classes covered (distinct predicted classes), mean
max-probability confidence, the class histogram, with the real test digits as reference.

Acceptance (issue 7), on the MLP judge: VAE >= 8 classes and confidence >= 0.7; GAN and
DCGAN >= 8 classes and >= 0.6, no NaN at any step (a NaN loss raises), both losses logged
and plotted. The table's "meets bar" applies the VAE bar to every VAE variant and the GAN bar
to both GANs. The quick run trains fewer models for a few epochs and only smoke-tests.
"""

import time

import numpy as np

from nnlab import optim
from nnlab.data import load_digits_images
from nnlab.evaluation.generative import DigitsJudge
from nnlab.experiments.common import one_blas_thread, output_dir, summary_row, table
from nnlab.models.gan import SampleSnapshots, dcgan, dense_gan
from nnlab.models.vae import VAE, KLAnnealing, conv_vae
from nnlab.plots_generative import (
    plot_class_histograms,
    plot_gan_losses,
    plot_latent_manifold,
    plot_sample_grid,
    plot_samples_over_training,
    plot_vae_losses,
)

N_SAMPLES = 100
VAE_ACCEPTANCE = (8, 0.7)  # classes covered, mean confidence
GAN_ACCEPTANCE = (8, 0.6)
# key -> (label, epochs, quick epochs (None: left out of the quick run), VAE arguments,
# KL warm-up epochs)
VAES = {
    "vae": ("VAE", 100, 10, {"latent_dim": 8}, 0),
    "beta2_vae": ("beta-VAE, beta 2, warm-up 20", 100, 6, {"latent_dim": 8, "beta": 2.0}, 20),
    "beta4_vae": ("beta-VAE, beta 4, warm-up 20", 100, None, {"latent_dim": 8, "beta": 4.0}, 20),
    "conv_vae": ("conv VAE", 60, None, {"latent_dim": 8, "conv": True}, 0),
    "vae_2d": ("VAE, 2-D latent", 80, 6, {"latent_dim": 2}, 0),
}
# key -> (label, builder, epochs, quick epochs, snapshot every)
GANS = {"gan": ("GAN (dense)", dense_gan, 200, 6, 20), "dcgan": ("DCGAN", dcgan, 40, 1, 4)}
ACCEPTED = {"vae": VAE_ACCEPTANCE, "gan": GAN_ACCEPTANCE, "dcgan": GAN_ACCEPTANCE}
GAN_LATENT, GAN_LR, GAN_BATCH, LABEL_SMOOTHING = 16, 2e-4, 64, 0.1
VAE_LR, VAE_BATCH = 1e-3, 32


def train_vae(x, epochs: int, options: dict, warmup: int, seed: int):
    """A VAE (convolutional when ``options['conv']``) trained on ``x``; returns (model,
    history)."""
    options = dict(options)
    if options.pop("conv", False):
        model = conv_vae(x.shape[1:], seed=seed, **options)
    else:
        model = VAE(x.shape[1:], seed=seed, **options)
    model.compile(optim.Adam(lr=VAE_LR))
    callbacks = [KLAnnealing(warmup)] if warmup else []
    history = model.fit(x, epochs=epochs, batch_size=VAE_BATCH, verbose=0, callbacks=callbacks)
    return model, history


def train_gan(x, builder, epochs: int, every: int, seed: int):
    """A GAN from ``builder`` trained on ``x``; returns (model, history, snapshots of 10
    fixed noise vectors)."""
    model = builder(GAN_LATENT, x.shape[1:], seed=seed)
    model.compile(
        optim.Adam(lr=GAN_LR, betas=(0.5, 0.999)),
        optim.Adam(lr=GAN_LR, betas=(0.5, 0.999)),
        label_smoothing=LABEL_SMOOTHING,
        on_nan="raise",
    )
    snapshots = SampleSnapshots(model.noise(10, np.random.default_rng(seed + 7)), every=every)
    history = model.fit(x, epochs=epochs, batch_size=GAN_BATCH, verbose=0, callbacks=[snapshots])
    return model, history, snapshots.snapshots


def judge_row(label, judges, samples, acceptance, seconds: float, history) -> dict:
    """The judgement of ``samples`` by both judges, the verdict and the training record."""
    primary, second = (judge.judge(samples) for judge in judges)
    finite = all(np.all(np.isfinite(v)) for v in history.history.values())
    return {
        "label": label,
        **primary.as_dict(),
        "second_opinion": second.as_dict(),
        "passes": primary.passes(*acceptance) and finite,
        "acceptance": acceptance,
        "all_losses_finite": finite,
        "train_seconds": seconds,
        "final_logs": {k: v[-1] for k, v in history.history.items()},
        "samples": samples,
    }


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def _run_vaes(x, judges, quick, seed, rng_seed) -> tuple[dict, dict]:
    results, models = {}, {}
    for key, (label, epochs, quick_epochs, options, warmup) in VAES.items():
        if quick and quick_epochs is None:
            continue
        (model, history), seconds = _timed(
            train_vae, x, quick_epochs if quick else epochs, options, warmup, seed
        )
        samples = model.sample(N_SAMPLES, np.random.default_rng(rng_seed))
        results[key] = judge_row(label, judges, samples, VAE_ACCEPTANCE, seconds, history)
        models[key] = (model, history)
    return results, models


def _run_gans(x, judges, quick, seed, rng_seed) -> tuple[dict, dict]:
    results, models = {}, {}
    for key, (label, builder, epochs, quick_epochs, every) in GANS.items():
        epochs, every = (quick_epochs, max(1, quick_epochs // 3)) if quick else (epochs, every)
        (model, history, snaps), seconds = _timed(train_gan, x, builder, epochs, every, seed)
        samples = model.generate(N_SAMPLES, np.random.default_rng(rng_seed))
        results[key] = judge_row(label, judges, samples, GAN_ACCEPTANCE, seconds, history)
        models[key] = (model, history, snaps)
    return results, models


def _print_results(judges, results: dict) -> None:
    primary, second = judges
    print(
        f"\njudges, accuracy on the real test digits: MLPClassifier {primary.test_accuracy:.4f}, "
        f"logistic regression (LR) {second.test_accuracy:.4f}"
    )
    real = {
        "label": "real test digits (reference)",
        **primary.real_judgement.as_dict(),
        "second_opinion": second.real_judgement.as_dict(),
    }
    rows = [_result_row(r) for r in (real, *results.values())]
    header = ["model", "classes", "confidence", "classes (LR)", "conf. (LR)"]
    header += ["samples per class 0..9", "final epoch", "seconds", "meets bar"]
    print(table(f"\n{N_SAMPLES} generated digits per model, judged", header, rows))


def _result_row(r: dict) -> list:
    logs = r.get("final_logs", {})
    if "kl_loss" in logs:
        last = f"loss {logs['loss']:.2f} (KL {logs['kl_loss']:.2f})"
    elif "d_loss" in logs:
        last = f"d {logs['d_loss']:.3f} / g {logs['g_loss']:.3f}"
    else:
        last = "-"
    verdict = "-" if "passes" not in r else ("pass" if r["passes"] else "FAIL")
    return [
        r["label"],
        r["classes_covered"],
        r["mean_confidence"],
        r["second_opinion"]["classes_covered"],
        r["second_opinion"]["mean_confidence"],
        " ".join(str(c) for c in r["histogram"]),
        last,
        f"{r['train_seconds']:.1f}" if "train_seconds" in r else "-",
        verdict,
    ]


def _plots(out, vaes: dict, gans: dict, results: dict) -> dict:
    paths = {}

    def save(name, plot, *args, **kwargs):
        paths[name] = out / f"{name}.png"
        plot(*args, path=paths[name], **kwargs)

    label = {key: r["label"] for key, r in results.items()}
    vae_samples = {label[k]: results[k]["samples"] for k in vaes}
    save("vae_samples", plot_sample_grid, vae_samples, title="VAE samples: z from the prior")
    save("vae_losses", plot_vae_losses, {label[k]: h for k, (_, h) in vaes.items()})
    save("latent_manifold", plot_latent_manifold, vaes["vae_2d"][0])
    gan_samples = {label[k]: results[k]["samples"] for k in gans}
    save("gan_samples", plot_sample_grid, gan_samples, title="GAN samples")
    for key, (_, history, snaps) in gans.items():
        save(
            f"{key}_over_training",
            plot_samples_over_training,
            snaps,
            title=f"{label[key]}: fixed z",
        )
        save(f"{key}_losses", plot_gan_losses, history, title=f"{label[key]}: losses")
    histograms = {label[k]: r["histogram"] for k, r in results.items()}
    save("class_histograms", plot_class_histograms, histograms)
    return paths


@one_blas_thread
def run(out_dir="outputs/generative", quick: bool = False, seed: int = 0) -> dict:
    """Train the VAEs and GANs, judge 100 samples of each, print the table, save figures."""
    start, cpu_start = time.perf_counter(), time.process_time()
    out = output_dir(out_dir)
    x_train = load_digits_images()[0]
    judges = (DigitsJudge("mlp", seed=seed), DigitsJudge("logistic", seed=seed))
    vae_results, vaes = _run_vaes(x_train, judges, quick, seed, seed + 100)
    gan_results, gans = _run_gans(x_train, judges, quick, seed, seed + 100)
    results = {**vae_results, **gan_results}
    _print_results(judges, results)
    paths = _plots(out, vaes, gans, results)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    verdicts = {results[key]["label"]: results[key]["passes"] for key in ACCEPTED}
    print(f"\nacceptance: {verdicts}; whole run {seconds:.1f} s ({cpu_seconds:.1f} s of CPU)")
    summary = [
        summary_row(
            f"digits {results[key]['label']}: classes / confidence of {N_SAMPLES} samples",
            f"{results[key]['classes_covered']} / {results[key]['mean_confidence']:.3f}",
            f">= {accept[0]} / >= {accept[1]} (issue 7)",
        )
        for key, accept in ACCEPTED.items()
    ]
    judge = {
        "mlp_test_accuracy": judges[0].test_accuracy,
        "logistic_test_accuracy": judges[1].test_accuracy,
        "real_digits": judges[0].real_judgement.as_dict(),
    }
    return {
        "name": "generative",
        "metrics": {
            "judge": judge,
            **{n: {k: v for k, v in r.items() if k != "samples"} for n, r in results.items()},
        },
        "summary": summary,
        "models": {**{k: m for k, (m, _) in vaes.items()}, **{k: v[0] for k, v in gans.items()}},
        "plots": {k: str(v) for k, v in paths.items()},
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
