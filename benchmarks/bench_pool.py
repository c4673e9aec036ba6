"""max_pool2d forward + backward speed of nnlab against PyTorch (CPU, float32, same threads).

Timed in alternating rounds (``timing.best_seconds``). Prints milliseconds per
forward+backward for both and the ratio torch / nnlab (above 1: nnlab is faster).

    .venv/bin/python benchmarks/bench_pool.py [--threads 2] [--repeats 5]
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits
from timing import best_seconds

CASES = [
    ("(64, 6, 28, 28) k2 s2", (64, 6, 28, 28), 2, 2),
    ("(32, 64, 32, 32) k2 s2", (32, 64, 32, 32), 2, 2),
    ("(32, 64, 32, 32) k3 s2 p1", (32, 64, 32, 32), 3, 2),
]


def nnlab_step(x, kernel, stride):
    import nnlab.functional as F
    from nnlab import Tensor

    padding = kernel // 2 if kernel != stride else 0
    g = np.ones_like(F.max_pool2d(Tensor(x), kernel, stride, padding).data)

    def step():
        t = Tensor(x, requires_grad=True)
        F.max_pool2d(t, kernel, stride, padding).backward(g)

    return step


def torch_step(x, kernel, stride):
    import torch

    padding = kernel // 2 if kernel != stride else 0
    t = torch.from_numpy(x).requires_grad_(True)
    g = torch.ones_like(torch.nn.functional.max_pool2d(t, kernel, stride, padding))

    def step():
        t.grad = None
        torch.nn.functional.max_pool2d(t, kernel, stride, padding).backward(g)

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    with threadpool_limits(args.threads):
        for name, shape, kernel, stride in CASES:
            x = rng.standard_normal(shape, dtype=np.float32)
            calls = {"nnlab": nnlab_step(x, kernel, stride), "torch": torch_step(x, kernel, stride)}
            best = best_seconds(calls, args.repeats, min_time=0.5)
            ours, theirs = best["nnlab"], best["torch"]
            print(
                f"{name:28s} nnlab {ours * 1e3:7.3f} ms  torch {theirs * 1e3:7.3f} ms  "
                f"torch/nnlab {theirs / ours:5.2f}"
            )


if __name__ == "__main__":
    main()
