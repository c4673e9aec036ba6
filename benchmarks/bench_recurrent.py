"""Training-step speed of nnlab's fused recurrent layers against PyTorch's (CPU, float32).

One step = forward, a squared-error loss on a linear read-out of the last output, backward
(no optimizer: it is the same elementwise work for both). The two libraries are timed in
alternating rounds so a busy machine slows both alike; the best round of each counts.
Prints ms per step and the ratio torch time / nnlab time (above 1: nnlab is faster).

    .venv/bin/python benchmarks/bench_recurrent.py [--threads 2] [--rounds 7]
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits
from timing import best_seconds

# (label, kind, batch, steps, features, hidden, layers)
CASES = [
    ("LSTM(50) x3 on (32, 60, 1) (seed forecaster)", "LSTM", 32, 60, 1, 50, 3),
    ("GRU(64) on (32, 50, 16)", "GRU", 32, 50, 16, 64, 1),
    ("RNN(64) on (32, 50, 16)", "RNN", 32, 50, 16, 64, 1),
]


def nnlab_step(kind, batch, steps, features, hidden, layers, rng):
    from nnlab import Tensor, nn
    from nnlab.nn import recurrent

    model = getattr(recurrent, kind)(features, hidden, num_layers=layers, rng=rng)
    head = nn.Linear(hidden, 1, rng=rng)
    x = Tensor(rng.standard_normal((batch, steps, features), dtype=np.float32))
    y = rng.standard_normal((batch, 1), dtype=np.float32)

    def step():
        output, _ = model(x)
        err = head(output[:, -1]) - y
        loss = (err * err).mean()
        model.zero_grad()
        head.zero_grad()
        loss.backward()

    return step


def torch_step(kind, batch, steps, features, hidden, layers, rng):
    import torch

    model = getattr(torch.nn, kind)(features, hidden, num_layers=layers, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    x = torch.from_numpy(rng.standard_normal((batch, steps, features), dtype=np.float32))
    y = torch.from_numpy(rng.standard_normal((batch, 1), dtype=np.float32))

    def step():
        output, _ = model(x)
        loss = ((head(output[:, -1]) - y) ** 2).mean()
        model.zero_grad()
        head.zero_grad()
        loss.backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.5)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    print(f"threads={args.threads}  numpy {np.__version__}  torch {torch.__version__}")
    with threadpool_limits(args.threads):
        for label, *case in CASES:
            steps = {
                "nnlab": nnlab_step(*case, np.random.default_rng(0)),
                "torch": torch_step(*case, np.random.default_rng(0)),
            }
            best = best_seconds(steps, args.rounds, args.min_time)
            ratio = best["torch"] / best["nnlab"]
            print(
                f"{label:48s} nnlab {best['nnlab'] * 1e3:7.2f} ms  torch "
                f"{best['torch'] * 1e3:7.2f} ms  torch/nnlab {ratio:.2f}"
            )


if __name__ == "__main__":
    main()
