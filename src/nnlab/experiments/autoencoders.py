"""Autoencoders on scikit-learn's 8x8 digits: compression against PCA, denoising, sparsity,
contraction, anomaly detection and the encoder as a feature extractor.

Data: ``nnlab.data.load_digits_images`` (pixels / 16 in [0, 1], an 80/20 split stratified by
class with random_state=42), images (N, 1, 8, 8). Every model is trained with Adam (lr 0.002,
0.003 for the sparse one), batches of 32, mean squared error, on the training split only;
every figure below is measured on the test split.

(a) Compression: dense autoencoders 64-128-64-k-64-128-64 (ReLU, linear code, sigmoid
    output) for code sizes k, against PCA with k components fitted on the training split.
(b) Denoising: a 64-128-32-128-64 denoising autoencoder per noise type (Gaussian std 0.3,
    masking 30%, salt-and-pepper 20%; corrupted inputs clipped to [0, 1]), PSNR and SSIM of
    the noisy and the denoised test digits against the clean ones.
(c) Sparse: one sigmoid layer of 64 units, KL target 0.05 (weight 0.05); mean activation.
(d) Contractive: 64-32(sigmoid)-64 with penalty weight lambda against the same network with
    lambda = 0 (a vanilla autoencoder); the encoder Jacobian's Frobenius norm is measured
    by autograd, one backward pass per code unit, independently of the closed-form penalty.
(e) Anomaly detection: an autoencoder (code 4) trained without one digit class; the
    threshold is the 95th percentile of its training errors; AUROC on the whole test set with
    the held-out class as the anomaly, for every class (one in quick mode).
(f) Features: logistic regression (standardised inputs) on the autoencoders' codes, on PCA
    components and on the raw 64 pixels.

With Fashion-MNIST installed, the full run also trains a convolutional autoencoder (code
32) on 6,000 training images and compares it with PCA-32 on 1,000 test images.
"""

import time

import numpy as np

from nnlab import optim
from nnlab.data import fashion_mnist_available, load_digits_images, load_fashion_mnist
from nnlab.evaluation.anomaly import ReconstructionAnomalyDetector
from nnlab.evaluation.image_quality import psnr, ssim
from nnlab.evaluation.pca_baseline import pca_reconstruct
from nnlab.experiments.common import (
    one_blas_thread,
    output_dir,
    seed_everything,
    summary_row,
    table,
)
from nnlab.models.autoencoders import Autoencoder, ConvAutoencoder, DenoisingAutoencoder
from nnlab.models.noise import corrupt
from nnlab.models.regularized_autoencoders import (
    ContractiveAutoencoder,
    SparseAutoencoder,
    jacobian_frobenius_norm,
)
from nnlab.plots_autoencoder import (
    plot_error_by_code_size,
    plot_interpolation,
    plot_latent_scatter,
    plot_reconstructions,
)

SHAPE = (1, 8, 8)
LR, BATCH = 0.002, 32
NOISES = {"gaussian": 0.3, "masking": 0.3, "salt_and_pepper": 0.2}
SPARSE_TARGET, SPARSE_WEIGHT = 0.05, 0.05
ANOMALY_PERCENTILE = 95.0
SETTINGS = {  # epochs of each part, and how much of each measurement is run
    "full": {"epochs": 150, "code_sizes": (2, 4, 8, 16), "noises": NOISES,
             "sparse_epochs": 100, "contractive_weights": (1e-4, 3e-4, 1e-3),
             "contractive_epochs": 60, "anomaly_classes": tuple(range(10)),
             "anomaly_epochs": 100},
    "quick": {"epochs": 15, "code_sizes": (2, 8), "noises": {"gaussian": 0.3},
              "sparse_epochs": 15, "contractive_weights": (1e-4,), "contractive_epochs": 15,
              "anomaly_classes": (0,), "anomaly_epochs": 15},
}  # fmt: skip


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def train(model, x, epochs: int, lr: float = LR):
    """Adam, batches of 32, mean squared error against the input; returns the model."""
    model.compile(optim.Adam(lr=lr), "mse")
    model.fit(x, epochs=epochs, batch_size=BATCH, verbose=0)
    return model


def logreg_accuracy(f_train, y_train, f_test, y_test) -> float:
    """Test accuracy of a logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(f_train.reshape(len(f_train), -1), y_train)
    return float(clf.score(f_test.reshape(len(f_test), -1), y_test))


# ---- (a) and (f): compression against PCA, codes as features ----------------------------------


def compression(data, sizes, epochs, seed) -> dict:
    x_train, x_test, y_train, y_test = data
    rows = {}
    for k in sizes:
        seed_everything(seed)
        model = train(Autoencoder(SHAPE, k, hidden=(128, 64), seed=seed), x_train, epochs)
        pca_test = pca_reconstruct(x_train, x_test, k)
        rows[k] = {
            "model": model,
            "ae_mse": mse(x_test, model.predict(x_test)),
            "pca_mse": mse(x_test, pca_test),
            "ae_codes_accuracy": logreg_accuracy(
                model.encode(x_train), y_train, model.encode(x_test), y_test
            ),
            "pca_accuracy": _pca_feature_accuracy(data, k),
        }
    return rows


def _pca_feature_accuracy(data, k) -> float:
    from sklearn.decomposition import PCA

    x_train, x_test, y_train, y_test = (np.asarray(a) for a in data)
    pca = PCA(k).fit(x_train.reshape(len(x_train), -1))
    return logreg_accuracy(
        pca.transform(x_train.reshape(len(x_train), -1)),
        y_train,
        pca.transform(x_test.reshape(len(x_test), -1)),
        y_test,
    )


# ---- (b) denoising ------------------------------------------------------------------------------


def denoising(data, noises, epochs, seed) -> dict:
    x_train, x_test = data[0], data[1]
    results = {}
    for i, (noise, level) in enumerate(noises.items()):
        seed_everything(seed)
        model = DenoisingAutoencoder(
            SHAPE, noise, level, (0.0, 1.0), code_size=32, hidden=(128,), seed=seed
        )
        train(model, x_train, epochs)
        noisy = corrupt(x_test, noise, level, np.random.default_rng(seed + 100 + i), (0.0, 1.0))
        denoised = model.predict(noisy)
        results[noise] = {
            "level": level,
            "noisy_psnr": psnr(x_test, noisy),
            "denoised_psnr": psnr(x_test, denoised),
            "noisy_ssim": ssim(x_test, noisy),
            "denoised_ssim": ssim(x_test, denoised),
            "noisy": noisy,
            "denoised": denoised,
        }
        results[noise]["psnr_gain"] = results[noise]["denoised_psnr"] - results[noise]["noisy_psnr"]
    return results


# ---- (c) sparse, (d) contractive ----------------------------------------------------------------


def sparse(data, epochs, seed) -> dict:
    x_train, x_test = data[0], data[1]
    seed_everything(seed)
    model = SparseAutoencoder(SHAPE, 64, target=SPARSE_TARGET, kl_weight=SPARSE_WEIGHT, seed=seed)
    train(model, x_train, epochs, lr=0.003)
    codes = model.encode(x_test)
    mean = float(codes.mean())
    return {
        "target": SPARSE_TARGET,
        "mean_activation": mean,
        "relative_error": abs(mean - SPARSE_TARGET) / SPARSE_TARGET,
        "unit_mean_range": (float(codes.mean(0).min()), float(codes.mean(0).max())),
        "test_mse": mse(x_test, model.predict(x_test)),
    }


def contractive(data, weights, epochs, seed, n_jacobian=200) -> dict:
    """Vanilla (lambda 0) and contractive autoencoders of the same shape: test MSE and mean
    encoder Jacobian norm on the first ``n_jacobian`` test digits."""
    x_train, x_test = data[0], data[1]
    rows = {}
    for lam in (0.0, *weights):
        seed_everything(seed)
        model = ContractiveAutoencoder(SHAPE, 32, contractive_weight=lam, seed=seed)
        train(model, x_train, epochs)
        norms = jacobian_frobenius_norm(model.encoder, x_test[:n_jacobian])
        rows[lam] = {
            "test_mse": mse(x_test, model.predict(x_test)),
            "jacobian_norm": float(norms.mean()),
        }
    return rows


# ---- (e) anomaly detection ----------------------------------------------------------------------


def anomaly(data, classes, epochs, seed) -> dict:
    x_train, x_test, y_train, y_test = data
    results = {}
    for c in classes:
        seed_everything(seed)
        normal = x_train[y_train != c]
        model = train(Autoencoder(SHAPE, 4, hidden=(128, 64), seed=seed), normal, epochs)
        detector = ReconstructionAnomalyDetector(model, ANOMALY_PERCENTILE).fit(normal)
        results[int(c)] = detector.evaluate(x_test, y_test == c)
    return results


# ---- Fashion-MNIST (full mode, when installed) ------------------------------------------------


def fashion_conv(seed, epochs=15, n_train=6000, n_test=1000):
    if not fashion_mnist_available():
        return None
    (x_train, _), (x_test, _) = load_fashion_mnist()
    x_train, x_test = x_train[:n_train], x_test[:n_test]
    seed_everything(seed)
    model = ConvAutoencoder((1, 28, 28), 32, filters=(16, 32), seed=seed)
    model.compile(optim.Adam(lr=LR), "mse")
    start = time.perf_counter()
    model.fit(x_train, epochs=epochs, batch_size=64, verbose=0)
    seconds = time.perf_counter() - start
    recon = model.predict(x_test)
    return {
        "conv_ae_mse": mse(x_test, recon),
        "pca_mse": mse(x_test, pca_reconstruct(x_train, x_test, 32)),
        "epochs": epochs,
        "train_seconds": seconds,
        "x_test": x_test,
        "recon": recon,
    }


# ---- reporting ----------------------------------------------------------------------------------


def _rows(results: dict, keys) -> list:
    """Table rows: each result's name followed by its values under ``keys``."""
    return [[name, *(v[k] for k in keys)] for name, v in results.items()]


def _print_tables(r: dict, raw_accuracy: float, epochs: int) -> None:
    for c in r["compression"].values():
        c["ratio"] = c["ae_mse"] / c["pca_mse"]
    tables = [
        (f"(a) digits test reconstruction MSE, autoencoder ({epochs} epochs) vs PCA; (f) "
         f"logistic regression on the codes (raw 64 pixels: {raw_accuracy:.4f})",
         ["code size", "AE MSE", "PCA MSE", "AE / PCA", "acc. AE codes", "acc. PCA codes"],
         "compression", ["ae_mse", "pca_mse", "ratio", "ae_codes_accuracy", "pca_accuracy"]),
        ("(b) denoising autoencoders: test digits against the clean ones",
         ["noise", "level", "PSNR noisy", "PSNR denoised", "gain dB", "SSIM noisy",
          "SSIM denoised"],
         "denoising", ["level", "noisy_psnr", "denoised_psnr", "psnr_gain", "noisy_ssim",
                       "denoised_ssim"]),
        ("(d) contractive vs vanilla (lambda 0), 64-32(sigmoid)-64: encoder Jacobian norm by "
         "autograd, mean over 200 test digits",
         ["lambda", "test MSE", "||J||_F"], "contractive", ["test_mse", "jacobian_norm"]),
        (f"(e) anomaly detection: one class held out of training, threshold = percentile "
         f"{ANOMALY_PERCENTILE:g} of the training errors",
         ["held-out class", "AUROC", "detected", "false alarms", "precision"],
         "anomaly", ["auroc", "detection_rate", "false_alarm_rate", "precision"]),
    ]  # fmt: skip
    s = r["sparse"]
    for i, (title, header, key, columns) in enumerate(tables):
        print(table("\n" + title, header, _rows(r[key], columns)))
        if i == 1:  # (c) after (b)
            print(
                f"\n(c) sparse autoencoder: mean code activation {s['mean_activation']:.4f} for "
                f"target {s['target']} ({s['relative_error']:.1%} off; per-unit means "
                f"{s['unit_mean_range'][0]:.4f}..{s['unit_mean_range'][1]:.4f}), test MSE "
                f"{s['test_mse']:.4f}"
            )
    if r.get("fashion"):
        f = r["fashion"]
        print(
            f"\nFashion-MNIST conv autoencoder (code 32, {f['epochs']} epochs on 6,000 images, "
            f"{f['train_seconds']:.1f} s): test MSE {f['conv_ae_mse']:.4f} vs PCA-32 "
            f"{f['pca_mse']:.4f}"
        )


def _plots(out, r: dict, data) -> dict:
    x_test, y_test = data[1], data[3]
    comp = r["compression"]
    names = ("mse_by_code_size", "reconstructions", "denoising", "latent_2d", "interpolation")
    paths = {name: out / f"{name}.png" for name in names}
    sizes = list(comp)
    curves = {"autoencoder": [comp[k]["ae_mse"] for k in sizes],
              "PCA": [comp[k]["pca_mse"] for k in sizes]}  # fmt: skip
    plot_error_by_code_size(sizes, curves, paths["mse_by_code_size"])
    main = comp[8] if 8 in comp else comp[max(comp)]
    plot_reconstructions(
        x_test,
        main["model"].predict(x_test),
        path=paths["reconstructions"],
        title="Test digits and their reconstructions (code 8)",
    )
    noise, d = next(iter(r["denoising"].items()))
    plot_reconstructions(
        x_test,
        d["denoised"],
        d["noisy"],
        path=paths["denoising"],
        title=f"Denoising ({noise} noise {d['level']})",
    )
    if 2 in comp:
        plot_latent_scatter(
            comp[2]["model"].encode(x_test),
            y_test,
            path=paths["latent_2d"],
            title="Test digits in a 2-D code",
        )
    else:
        del paths["latent_2d"]
    a, b = x_test[y_test == 1][0], x_test[y_test == 7][0]
    plot_interpolation(main["model"], a, b, steps=8, path=paths["interpolation"])
    fashion = r.get("fashion")
    if fashion:
        paths["fashion_reconstructions"] = out / "fashion_reconstructions.png"
        plot_reconstructions(
            fashion["x_test"],
            fashion["recon"],
            path=paths["fashion_reconstructions"],
            title="Fashion-MNIST: conv autoencoder, code 32",
        )
    return {k: str(v) for k, v in paths.items()}


def _summary(r: dict, epochs: int) -> list:
    comp, cae, anom = r["compression"], r["contractive"], r["anomaly"]
    k = 8 if 8 in comp else max(comp)
    vanilla, lam = cae[0.0], min(w for w in cae if w > 0)
    gauss = r["denoising"].get("gaussian") or next(iter(r["denoising"].values()))
    return [
        summary_row(
            f"digits AE vs PCA, code {k}, test MSE ({epochs} epochs)",
            f"{comp[k]['ae_mse']:.4f} / {comp[k]['pca_mse']:.4f}",
            "AE < PCA",
        ),
        summary_row(
            "denoising AE (Gaussian 0.3): PSNR gain dB / SSIM noisy -> denoised",
            f"{gauss['psnr_gain']:.2f} / {gauss['noisy_ssim']:.3f} -> {gauss['denoised_ssim']:.3f}",
            ">= 3 dB",
        ),
        summary_row(
            "sparse AE: mean activation (target 0.05)",
            f"{r['sparse']['mean_activation']:.4f}",
            "within 20%",
        ),
        summary_row(
            f"contractive (lambda {lam:g}) vs vanilla: ||J||_F, test MSE",
            f"{cae[lam]['jacobian_norm']:.3f} vs {vanilla['jacobian_norm']:.3f}, "
            f"{cae[lam]['test_mse']:.4f} vs {vanilla['test_mse']:.4f}",
            "lower ||J||",
        ),
        summary_row(
            "anomaly AUROC, one class held out (min / mean over classes)",
            f"{min(v['auroc'] for v in anom.values()):.4f} / "
            f"{np.mean([v['auroc'] for v in anom.values()]):.4f}",
            ">= 0.9",
        ),
    ]


@one_blas_thread
def run(out_dir="outputs/autoencoders", quick: bool = False, seed: int = 0) -> dict:
    """Measure (a)-(f) of the module docstring; print the tables; save the figures.
    ``quick``: code sizes 2 and 8, 15 epochs, one noise type, one held-out class, no
    Fashion-MNIST."""
    start = time.perf_counter()
    out = output_dir(out_dir)
    data = load_digits_images()
    mode = "quick" if quick else "full"
    cfg = SETTINGS[mode]
    epochs = cfg["epochs"]
    r = {
        "compression": compression(data, cfg["code_sizes"], epochs, seed),
        "denoising": denoising(data, cfg["noises"], epochs, seed),
        "sparse": sparse(data, cfg["sparse_epochs"], seed),
        "contractive": contractive(
            data, cfg["contractive_weights"], cfg["contractive_epochs"], seed
        ),
        "anomaly": anomaly(data, cfg["anomaly_classes"], cfg["anomaly_epochs"], seed),
        "fashion": None if quick else fashion_conv(seed),
    }
    raw_accuracy = logreg_accuracy(data[0], data[2], data[1], data[3])
    _print_tables(r, raw_accuracy, epochs)
    plots = _plots(out, r, data)
    seconds = time.perf_counter() - start
    print(f"\nautoencoders ({mode}) done in {seconds:.1f} s")
    metrics = _strip(r)
    metrics["raw_pixel_accuracy"] = raw_accuracy
    return {
        "name": "autoencoders",
        "metrics": metrics,
        "summary": _summary(r, epochs),
        "models": {f"ae_code{k}": v["model"] for k, v in r["compression"].items()},
        "plots": plots,
        "seconds": seconds,
    }


def _strip(r: dict) -> dict:
    """The results without models and image arrays (numbers only)."""
    drop = ("model", "noisy", "denoised", "x_test", "recon")

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in drop}
        return value

    return clean(r)


def main() -> None:
    run()


if __name__ == "__main__":
    main()
