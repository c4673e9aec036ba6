"""Convolutional networks: nnlab against PyTorch, and against seed 000's loop convolution.

1. Training steps per second (CPU, float32, same threads, same run) of LeNet-5 on 1x28x28
   images in batches of 64 and of seed 001's Keras CIFAR-10 network on 3x32x32 images in
   batches of 32, the same architecture built in both libraries (``nnlab.models.lenet5`` /
   ``cifar_cnn`` with logits, and the torch equivalent below). One step = forward (training
   mode: dropout and batch statistics on), softmax cross-entropy, backward, Adam update.
   The libraries are timed in alternating rounds (``timing.best_seconds``). Ratio =
   nnlab / PyTorch steps/s (above 1: nnlab is faster).
2. The forward pass of seed 000's ``Conv2D`` (nested Python loops over images, output
   channels, rows and columns; re-implemented here as written) on 5 images 1x28x28 with 6
   5x5 filters and padding 2, alone and followed by the seed's loop ``MaxPool2D``, against
   nnlab's im2col ``conv2d`` (and ``max_pool2d``) on the same float64 input; the outputs are
   checked equal before timing.

    .venv/bin/python benchmarks/bench_cnn.py [--threads 2] [--repeats 5]
"""

import argparse
import os

import numpy as np
from threadpoolctl import threadpool_limits
from timing import best_seconds

# ---- training steps ---------------------------------------------------------------------------


def nnlab_step(builder, input_shape, batch, rng):
    import nnlab.functional as F
    from nnlab import Tensor, optim

    model = builder(input_shape=input_shape, num_classes=10, output_activation=None, seed=0)
    model.train()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = Tensor(rng.standard_normal((batch, *input_shape), dtype=np.float32))
    y = rng.integers(0, 10, batch)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_lenet5(input_shape):
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(input_shape[0], 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * ((input_shape[1] // 2 - 4) // 2) * ((input_shape[2] // 2 - 4) // 2), 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def torch_cifar_cnn(input_shape):
    """Seed 001's Keras network in torch (Keras BatchNormalization: eps 1e-3, momentum 0.99,
    i.e. torch momentum 0.01)."""
    from torch import nn

    def bn(n, dims=2):
        return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(n, eps=1e-3, momentum=0.01)

    c = input_shape[0]
    return nn.Sequential(
        nn.Conv2d(c, 32, 3), nn.ReLU(), bn(32), nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3), nn.ReLU(), bn(64), nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(64, 128, 3), nn.ReLU(), bn(128), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(128 * 3 * 3, 512), nn.ReLU(), bn(512, dims=1), nn.Dropout(0.5),
        nn.Linear(512, 10),
    )  # fmt: skip


def torch_step(builder, input_shape, batch, rng):
    import torch

    torch.manual_seed(0)
    model = builder(input_shape)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.from_numpy(rng.standard_normal((batch, *input_shape), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, batch))

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


# ---- seed 000's loop convolution --------------------------------------------------------------


def loop_conv2d(input_data, filters, bias, stride=1, padding=0):
    """Seed 000's ``Conv2D.forward``: one Python iteration per output value."""
    batch_size, _, height, width = input_data.shape
    out_channels, _, kernel_size, _ = filters.shape
    out_height = (height + 2 * padding - kernel_size) // stride + 1
    out_width = (width + 2 * padding - kernel_size) // stride + 1
    if padding > 0:
        pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
        padded_input = np.pad(input_data, pad)
    else:
        padded_input = input_data
    output = np.zeros((batch_size, out_channels, out_height, out_width))
    for b in range(batch_size):
        for c_out in range(out_channels):
            for h_out in range(out_height):
                for w_out in range(out_width):
                    h_start = h_out * stride
                    w_start = w_out * stride
                    patch = padded_input[
                        b, :, h_start : h_start + kernel_size, w_start : w_start + kernel_size
                    ]
                    output[b, c_out, h_out, w_out] = np.sum(patch * filters[c_out]) + bias[c_out]
    return output


def loop_max_pool2d(input_data, kernel_size=2, stride=2):
    """Seed 000's ``MaxPool2D.forward``."""
    batch_size, channels, height, width = input_data.shape
    out_height = (height - kernel_size) // stride + 1
    out_width = (width - kernel_size) // stride + 1
    output = np.zeros((batch_size, channels, out_height, out_width))
    for b in range(batch_size):
        for c in range(channels):
            for h_out in range(out_height):
                for w_out in range(out_width):
                    h, w = h_out * stride, w_out * stride
                    output[b, c, h_out, w_out] = np.max(
                        input_data[b, c, h : h + kernel_size, w : w + kernel_size]
                    )
    return output


def loop_conv_comparison(repeats: int) -> list:
    """[(case, loop seconds, nnlab seconds)] on the seed's 5 images; outputs checked equal."""
    import nnlab.functional as F
    from nnlab import Tensor, no_grad

    rng = np.random.default_rng(0)
    images = rng.random((5, 1, 28, 28))  # float64, as the seed's np.random.rand
    filters = rng.standard_normal((6, 1, 5, 5)) * 0.01
    bias = np.zeros(6)
    x, w, b = Tensor(images), Tensor(filters), Tensor(bias)

    def ours_conv():
        with no_grad():
            return F.conv2d(x, w, b, padding=2).data

    def ours_conv_pool():
        with no_grad():
            return F.max_pool2d(F.conv2d(x, w, b, padding=2), 2).data

    def seed_conv():
        return loop_conv2d(images, filters, bias, padding=2)

    def seed_conv_pool():
        return loop_max_pool2d(seed_conv())

    np.testing.assert_allclose(ours_conv(), seed_conv(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_conv_pool(), seed_conv_pool(), rtol=1e-10, atol=1e-12)
    cases = {
        "Conv2D(1, 6, 5, padding=2) forward": (seed_conv, ours_conv),
        "Conv2D + MaxPool2D(2) forward": (seed_conv_pool, ours_conv_pool),
    }
    rows = []
    for name, (loops, ours) in cases.items():
        loop_s = best_seconds({"loops": loops}, repeats, min_time=0.0, warmup=1)["loops"]
        ours_s = best_seconds({"ours": ours}, repeats, min_time=0.2, warmup=1)["ours"]
        rows.append((name, loop_s, ours_s))
    return rows


CASES = [
    ("LeNet-5 1x28x28, batch 64", "lenet5", torch_lenet5, (1, 28, 28), 64),
    ("seed CIFAR CNN 3x32x32, batch 32", "cifar_cnn", torch_cifar_cnn, (3, 32, 32), 32),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    from nnlab import models

    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, torch {torch.__version__}, numpy {np.__version__}")
    # Other processes on the machine distort the timings (threads wait for descheduled
    # siblings): the load average before and after says whether a run was quiet.
    print(f"load average at start: {_load()}")
    print("\nTraining steps/s (forward, cross-entropy, backward, Adam), float32")
    print(f"{'case':36s} {'nnlab step/s':>13s} {'torch step/s':>13s} {'ratio':>7s}")
    with threadpool_limits(args.threads):
        for name, builder, torch_builder, shape, batch in CASES:
            steps = {
                "nnlab": nnlab_step(
                    getattr(models, builder), shape, batch, np.random.default_rng(0)
                ),
                "torch": torch_step(torch_builder, shape, batch, np.random.default_rng(0)),
            }
            best = best_seconds(steps, args.repeats)
            ours, theirs = 1 / best["nnlab"], 1 / best["torch"]
            print(f"{name:36s} {ours:13.1f} {theirs:13.1f} {ours / theirs:6.2f}x")
        print("\nSeed 000's loop convolution vs nnlab's conv2d, 5 images 1x28x28, float64, forward")
        print(f"{'case':36s} {'seed loops':>12s} {'nnlab':>12s} {'speed-up':>10s}")
        for name, loop_s, ours_s in loop_conv_comparison(args.repeats):
            print(
                f"{name:36s} {loop_s * 1e3:9.1f} ms {ours_s * 1e6:9.1f} us {loop_s / ours_s:9.0f}x"
            )
    print(f"\nload average at end: {_load()}")


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
