"""Training-step speed of nnlab against PyTorch (CPU, float32, same threads, same run).

One step = forward, softmax cross-entropy, backward, Adam update. The libraries are timed in
alternating rounds (``timing.best_seconds``); the best round of each counts. Prints steps/s
for both and the ratio nnlab / PyTorch (above 1: nnlab is faster).

    .venv/bin/python benchmarks/bench_mlp.py [--threads 2] [--repeats 5]
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits
from timing import best_seconds

CASES = [
    ("MLP 64-128-64-10, batch 32", [64, 128, 64, 10], 32),
    ("MLP 784-1024-1024-10, batch 256", [784, 1024, 1024, 10], 256),
]


def nnlab_step(sizes, batch, rng):
    import nnlab.functional as F
    from nnlab import Tensor, nn, optim

    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1], rng=rng))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = Tensor(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    y = rng.integers(0, sizes[-1], batch)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_step(sizes, batch, rng):
    import torch

    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.from_numpy(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, sizes[-1], batch))

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'case':36s} {'nnlab step/s':>13s} {'torch step/s':>13s} {'ratio':>7s}")
    with threadpool_limits(args.threads):
        for name, sizes, batch in CASES:
            steps = {
                "nnlab": nnlab_step(sizes, batch, np.random.default_rng(0)),
                "torch": torch_step(sizes, batch, np.random.default_rng(0)),
            }
            best = best_seconds(steps, args.repeats, warmup=5)
            ours, theirs = 1 / best["nnlab"], 1 / best["torch"]
            print(f"{name:36s} {ours:13.1f} {theirs:13.1f} {ours / theirs:6.2f}x")


if __name__ == "__main__":
    main()
