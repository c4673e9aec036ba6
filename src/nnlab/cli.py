"""Command line: ``nnlab demo [NAME] [--quick] [--out DIR] [--seed N]`` runs demo experiments
and prints their results; ``nnlab list`` lists them. ``nnlab demo`` alone runs the default
set (the core-API MLPs, then every seed MLP experiment)."""

import argparse
import importlib
import time
from dataclasses import dataclass
from pathlib import Path

from nnlab import __version__


@dataclass(frozen=True)
class Demo:
    """A runnable demo: ``module.function``.

    ``options``: the function takes ``out_dir``, ``quick`` and ``seed`` (else it takes
    nothing). ``suite``: it writes its own sub-folders, so it gets ``--out`` itself rather
    than ``--out/<name>``.
    """

    module: str
    text: str
    function: str = "run"
    options: bool = True
    suite: bool = False


DEMOS = {
    "core": Demo(
        "nnlab.experiments.core_mlp",
        "XOR and digits MLPs written with the core API alone",
        function="main",
        options=False,
    ),
    "mlp": Demo(
        "nnlab.experiments.mlp_demos",
        "every seed MLP experiment below, with a summary table against the seeds",
        function="run_all",
        suite=True,
    ),
    "blobs3": Demo("nnlab.experiments.blobs3", "[2,10,10,3] MLP on 3-class 2-D data, SGD"),
    "moons": Demo("nnlab.experiments.moons", "[2,10,8,1] on two moons: GD; momentum/L2/dropout"),
    "iris": Demo("nnlab.experiments.iris", "Keras-style 4-10-8-3 with dropout on iris, Adam"),
    "binary20": Demo("nnlab.experiments.binary20", "64-32-1 with dropout on 20-feature data"),
    "digits": Demo(
        "nnlab.experiments.digits", "digits MLP; architecture and activation comparisons"
    ),
    "breast_cancer": Demo(
        "nnlab.experiments.breast_cancer", "four architectures on breast cancer, two recipes"
    ),
    "cnn_digits": Demo(
        "nnlab.experiments.cnn_digits", "small CNN vs the seeds' MLP on 8x8 digits; shifted digits"
    ),
    "cnn_fashion": Demo(
        "nnlab.experiments.cnn_fashion", "LeNet-5 on Fashion-MNIST (Debian's dataset-fashion-mnist)"
    ),
    "cnn_filters": Demo(
        "nnlab.experiments.cnn_filters",
        "classic filters, feature maps, learned filters, pooling, receptive fields, zoo summaries",
    ),
    "char_lstm": Demo(
        "nnlab.experiments.char_lstm", "character LSTM on Shakespeare vs bigram; samples"
    ),
    "forecast_seed": Demo(
        "nnlab.experiments.forecast_seed", "the seed's 3xLSTM(50) forecaster vs naive baselines"
    ),
    "forecast_airline": Demo(
        "nnlab.experiments.forecast_airline", "LSTM direct/recursive airline-passenger forecasts"
    ),
    "memory": Demo(
        "nnlab.experiments.memory",
        "SimpleRNN/LSTM/GRU: adding problem, copy task, vanishing gradients, LSTM gates",
    ),
    "autoencoders": Demo(
        "nnlab.experiments.autoencoders",
        "autoencoders on digits: vs PCA, denoising, sparse, contractive, anomaly AUROC",
    ),
    "generative": Demo(
        "nnlab.experiments.generative",
        "VAE, beta-VAE, GAN and DCGAN on 8x8 digits, judged by a separate classifier",
    ),
    "seq2seq": Demo(
        "nnlab.experiments.seq2seq",
        "Transformer and GRU+attention seq2seq: reversal, sorting, dates; beam search; heatmaps",
    ),
    "long_range": Demo(
        "nnlab.experiments.long_range",
        "SimpleRNN vs LSTM vs Transformer against sequence length; sentiment classifier",
    ),
}
DEFAULT_DEMOS = ("core", "mlp")


def run_demo(name: str, out="outputs", quick: bool = False, seed: int = 0):
    """Run the demo ``name``; returns what its function returns."""
    demo = DEMOS[name]
    function = getattr(importlib.import_module(demo.module), demo.function)
    if not demo.options:
        return function()
    out_dir = Path(out) if demo.suite else Path(out) / name
    return function(out_dir=out_dir, quick=quick, seed=seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nnlab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a demo experiment")
    demo.add_argument(
        "name",
        nargs="?",
        choices=list(DEMOS),
        default=None,
        help=f"which demo (default: {' + '.join(DEFAULT_DEMOS)})",
    )
    demo.add_argument(
        "--quick", action="store_true", help="fewer epochs and seeds: a smoke run in seconds"
    )
    demo.add_argument("--out", default="outputs", help="folder for the plots (default: outputs)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    commands.add_parser("list", help="list the demos")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, d in DEMOS.items():
            mark = "*" if name in DEFAULT_DEMOS else " "
            print(f"{mark} {name:14s} {d.text}")
        print(f"(* runs with a plain `nnlab demo`: {', '.join(DEFAULT_DEMOS)})")
        return 0
    # the demos multiply small matrices, for which OpenBLAS's threads cost far more than they
    # gain (see nnlab.experiments.common.one_blas_thread)
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        for name in [args.name] if args.name else DEFAULT_DEMOS:
            print(f"== {name}: {DEMOS[name].text}")
            run_demo(name, args.out, args.quick, args.seed)
    print(f"\nnnlab demo finished in {time.perf_counter() - start:.1f} s")
    return 0
