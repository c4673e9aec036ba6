"""Training-step speed of a small Transformer encoder classifier: nnlab against PyTorch (CPU,
float32, same threads, same run).

The model (issue 6's benchmark): token embedding (vocabulary 1000, d_model 64) + sinusoidal
positions, 2 post-norm encoder layers (4 heads, feed-forward 128, ReLU), mean pool over the
sequence, Linear 64 -> 2; batch 32 of sequences of 32 tokens (no padding). One step =
forward, softmax cross-entropy, backward, Adam update. Each case runs with dropout 0 and with
dropout 0.1 (the same in both libraries). The libraries are timed in alternating rounds so a
busy machine slows both alike; the best round of each counts. Prints steps/s and the ratio
nnlab / PyTorch (above 1: nnlab is faster).

    .venv/bin/python benchmarks/bench_transformer.py [--threads 2] [--rounds 5] [--profile 0.0]
"""

import argparse
import math

import numpy as np
from threadpoolctl import threadpool_limits
from timing import best_seconds

VOCAB, D_MODEL, HEADS, FF, LAYERS, SEQ, BATCH, CLASSES = 1000, 64, 4, 128, 2, 32, 32, 2
DROPOUTS = (0.0, 0.1)


def batch(rng):
    """Token ids (BATCH, SEQ) in [1, VOCAB) (0 is padding, unused here) and labels."""
    return rng.integers(1, VOCAB, (BATCH, SEQ)), rng.integers(0, CLASSES, BATCH)


def nnlab_step(dropout, rng):
    import nnlab.functional as F
    from nnlab import optim
    from nnlab.models.sequence_classifier import TransformerClassifier

    model = TransformerClassifier(
        VOCAB, CLASSES, d_model=D_MODEL, nhead=HEADS, num_layers=LAYERS, dim_feedforward=FF,
        dropout=dropout, max_len=SEQ, seed=0,
    )  # fmt: skip
    opt = optim.Adam(model.parameters(), lr=1e-3)
    ids, y = batch(rng)

    def step():
        loss = F.cross_entropy(model(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_step(dropout, rng):
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, D_MODEL, padding_idx=0)
            self.register_buffer("pe", torch.from_numpy(sinusoid(SEQ, D_MODEL)))
            self.dropout = torch.nn.Dropout(dropout)
            layer = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout, batch_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.head = torch.nn.Linear(D_MODEL, CLASSES)

        def forward(self, ids):
            x = self.dropout(self.embedding(ids) + self.pe[: ids.shape[1]])
            return self.head(self.encoder(x).mean(dim=1))

    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids, y = (torch.from_numpy(a) for a in batch(rng))

    def step():
        loss = torch.nn.functional.cross_entropy(model(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def sinusoid(length, d_model):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...), float32."""
    angles = np.arange(length)[:, None] * np.exp(
        -math.log(1e4) * np.arange(0, d_model, 2) / d_model
    )
    table = np.empty((length, d_model), np.float32)
    table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    return table


def profile(dropout: float, steps: int = 200, top: int = 25) -> None:
    """cProfile of ``steps`` nnlab training steps: the functions with the most own time."""
    import cProfile
    import pstats

    step = nnlab_step(dropout, np.random.default_rng(0))
    for _ in range(5):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    print(f"\ncProfile of {steps} nnlab steps, dropout {dropout}:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument(
        "--profile", type=float, metavar="DROPOUT", help="also profile nnlab's step at DROPOUT"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, torch {torch.__version__}, numpy {np.__version__}")
    print(
        f"encoder: {LAYERS} layers, d_model {D_MODEL}, {HEADS} heads, ff {FF}, vocabulary "
        f"{VOCAB}, sequence {SEQ}, batch {BATCH}, mean pool, Linear {D_MODEL}->{CLASSES}, Adam"
    )
    print(f"{'case':28s} {'nnlab step/s':>13s} {'torch step/s':>13s} {'ratio':>7s}")
    with threadpool_limits(args.threads):
        for dropout in DROPOUTS:
            steps = {
                "nnlab": nnlab_step(dropout, np.random.default_rng(0)),
                "torch": torch_step(dropout, np.random.default_rng(0)),
            }
            rate = {k: 1 / v for k, v in best_seconds(steps, args.rounds, args.min_time, 5).items()}
            ratio = rate["nnlab"] / rate["torch"]
            name = f"train step, dropout {dropout}"
            print(f"{name:28s} {rate['nnlab']:13.1f} {rate['torch']:13.1f} {ratio:6.2f}x")
        if args.profile is not None:
            profile(args.profile)


if __name__ == "__main__":
    main()
