"""Convolution speed of nnlab against PyTorch (CPU, float32, same threads, same run).

Times forward + backward of single conv layers with LeNet and CIFAR shapes (the first layer
of each net without an input gradient, as in training) and forward alone, alternating
nnlab and PyTorch rounds so both see the same machine load. Prints milliseconds per call
and the speed ratio torch_time / nnlab_time (above 1: nnlab is faster).

    .venv/bin/python benchmarks/bench_conv.py [--threads 2] [--rounds 3] [--min-time 0.2]
    .venv/bin/python benchmarks/bench_conv.py --cpu-time

``--cpu-time`` runs both on one thread and reads the calling thread's CPU clock instead of
the wall clock, so time other processes take from a shared machine does not count.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits
from timing import best_seconds

# name, input shape, (out_channels, kernel), padding, stride, groups, input needs grad
CASES = [
    ("LeNet conv1 1->6 5x5 pad 2, 64x1x28x28", (64, 1, 28, 28), (6, 5), 2, 1, 1, False),
    ("LeNet conv2 6->16 5x5, 64x6x14x14", (64, 6, 14, 14), (16, 5), 0, 1, 1, True),
    ("CIFAR conv1 3->32 3x3 same, 32x3x32x32", (32, 3, 32, 32), (32, 3), "same", 1, 1, False),
    ("CIFAR conv2 32->64 3x3 same, 32x32x32x32", (32, 32, 32, 32), (64, 3), "same", 1, 1, True),
    ("stride 2 32->64 3x3 pad 1, 32x32x32x32", (32, 32, 32, 32), (64, 3), 1, 2, 1, True),
    ("depthwise 32 3x3 same, 32x32x32x32", (32, 32, 32, 32), (32, 3), "same", 1, 32, True),
]


def make_nnlab(shape, out, k, padding, stride, groups, input_grad, rng):
    import nnlab.functional as F
    from nnlab import Tensor

    x = Tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=input_grad)
    w = Tensor(rng.standard_normal((out, shape[1] // groups, k, k), dtype=np.float32), True)
    b = Tensor(rng.standard_normal(out, dtype=np.float32), requires_grad=True)
    grad = None

    def forward():
        return F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)

    def step():
        nonlocal grad
        y = forward()
        grad = np.ones_like(y.data) if grad is None else grad
        y.backward(grad)

    return forward, step


def make_torch(shape, out, k, padding, stride, groups, input_grad, rng):
    import torch

    x = torch.from_numpy(rng.standard_normal(shape, dtype=np.float32)).requires_grad_(input_grad)
    w = torch.from_numpy(rng.standard_normal((out, shape[1] // groups, k, k), dtype=np.float32))
    b = torch.from_numpy(rng.standard_normal(out, dtype=np.float32))
    w.requires_grad_(True)
    b.requires_grad_(True)
    fn = torch.nn.functional.conv2d
    grad = None

    def forward():
        with torch.no_grad():
            return fn(x, w, b, stride=stride, padding=padding, groups=groups)

    def step():
        nonlocal grad
        y = fn(x, w, b, stride=stride, padding=padding, groups=groups)
        grad = torch.ones_like(y) if grad is None else grad
        y.backward(grad)

    return forward, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu-time", action="store_true", help="one thread, thread CPU clock")
    args = parser.parse_args()
    clock = time.thread_time if args.cpu_time else time.perf_counter
    if args.cpu_time:
        args.threads = 1

    import torch

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    what = "thread CPU" if args.cpu_time else "wall"
    print(f"threads={args.threads}; {what} ms per call (best); ratio = torch time / nnlab time")
    print(
        f"{'case':44s} {'fwd+bwd nnlab':>13s} {'torch':>7s} {'ratio':>6s}   "
        f"{'fwd nnlab':>9s} {'torch':>7s} {'ratio':>6s}"
    )
    with threadpool_limits(args.threads):
        for name, shape, (out, k), padding, stride, groups, input_grad in CASES:
            spec = (shape, out, k, padding, stride, groups, input_grad, rng)
            ours, theirs = make_nnlab(*spec), make_torch(*spec)
            calls = {"of": ours[0], "os": ours[1], "tf": theirs[0], "ts": theirs[1]}
            times = best_seconds(calls, args.rounds, args.min_time, warmup=1, clock=clock)
            print(
                f"{name:44s} {times['os'] * 1e3:13.2f} {times['ts'] * 1e3:7.2f} "
                f"{times['ts'] / times['os']:6.2f}   {times['of'] * 1e3:9.2f} "
                f"{times['tf'] * 1e3:7.2f} {times['tf'] / times['of']:6.2f}"
            )


if __name__ == "__main__":
    main()
