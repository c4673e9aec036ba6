"""Seed 001's LSTM forecaster trained by nnlab and by PyTorch side by side: the same windows,
split, scaler and recipe (``nnlab.experiments.forecast_seed``: data, Adam lr with eps 1e-7,
batch 32, epoch budget, early stopping on validation MSE with the best weights restored), the
same architecture (3 stacked LSTM(50) with dropout 0.2 after each, Linear(50, 25),
Linear(25, 10)). Two PyTorch twins:

- **torch-keras**: nnlab's initial weights copied in and torch's second LSTM bias ``bias_hh``
  frozen at 0, so the parametrisation is Keras's (one bias per gate). Only the dropout masks
  and the shuffling order differ from nnlab: without dropout and with the same batches the two
  agree step for step (loss equal to 7 digits after 200 Adam steps).
- **torch-native**: a plain ``nn.LSTM`` with its own initialisation and both biases learnt.
  Adam moves each bias by about lr per step, so the effective gate bias moves twice as fast.

Prints each seed's test RMSE in original units, the ratio nnlab / torch, and the training
time per epoch (one thread each).

    .venv/bin/python benchmarks/forecast_vs_torch.py [--recipe relative] [--seeds 0 1 2]
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from nnlab.data import forecasting as fc
from nnlab.experiments import forecast_seed as fs


def torch_model(init_from=None, single_bias: bool = True):
    """The seed's network in PyTorch; with ``init_from`` (an nnlab model) its weights.

    ``single_bias`` freezes torch's recurrent bias ``bias_hh`` at zero, so each LSTM has one
    learned bias as in Keras (and nnlab's Keras-style LSTM). Left learnable, torch's two
    biases get an Adam step each: the effective bias moves twice as fast.
    """
    import torch
    from torch import nn

    class Forecaster(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, fs.UNITS, num_layers=3, dropout=fs.DROPOUT, batch_first=True)
            self.drop = nn.Dropout(fs.DROPOUT)
            self.fc1 = nn.Linear(fs.UNITS, fs.DENSE_UNITS)
            self.fc2 = nn.Linear(fs.DENSE_UNITS, fs.HORIZON)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc2(self.fc1(self.drop(out[:, -1])))

    model = Forecaster()
    if init_from is not None:
        # nnlab's Sequential: LSTMs at 0, 2, 4 (Dropouts between), Dense at 6 and 7; weights
        # already in PyTorch's layout and gate order, one bias per LSTM (torch's b_hh = 0).
        state = {k: v for k, v in init_from.state_dict().items()}
        mapped = {}
        for layer, key in enumerate(("0", "2", "4")):
            mapped[f"lstm.weight_ih_l{layer}"] = state[f"{key}.weight_ih"]
            mapped[f"lstm.weight_hh_l{layer}"] = state[f"{key}.weight_hh"]
            mapped[f"lstm.bias_ih_l{layer}"] = state[f"{key}.bias"]
            mapped[f"lstm.bias_hh_l{layer}"] = np.zeros_like(state[f"{key}.bias"])
        for name, key in (("fc1", "6"), ("fc2", "7")):
            mapped[f"{name}.weight"] = state[f"{key}.weight"]
            mapped[f"{name}.bias"] = state[f"{key}.bias"]
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in mapped.items()})
    if single_bias:
        for name, param in model.lstm.named_parameters():
            if name.startswith("bias_hh"):
                param.data.zero_()
                param.requires_grad_(False)
    return model


def train_torch(data, recipe, seed, epochs, init_from=None, single_bias=True):
    """The torch twin of ``forecast_seed.train``; returns (forecaster, epochs run, best epoch,
    seconds)."""
    import torch

    torch.manual_seed(seed)
    model = torch_model(init_from, single_bias)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=recipe.lr, eps=1e-7)
    arrays = fs.training_arrays(data, recipe)
    x, y = (torch.from_numpy(a) for a in arrays["train"])
    xv, yv = (torch.from_numpy(a) for a in arrays["val"])
    patience = recipe.patience
    rng = np.random.default_rng(seed)
    best, best_state, best_epoch, wait, epoch = np.inf, None, 0, 0, 0
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        for i in range(0, len(x), fs.BATCH_SIZE):  # as nnlab's fit: a short last batch
            idx = torch.from_numpy(order[i : i + fs.BATCH_SIZE])
            loss = torch.mean((model(x[idx]) - y[idx]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_loss = float(torch.mean((model(xv) - yv) ** 2))
        if val_loss < best:  # EarlyStopping's rule: min_delta 0, patience, best restored
            best, best_epoch, wait = val_loss, epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= patience:
                break
    seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    model.eval()
    return fs.as_forecaster(_numpy_predict(model), recipe), epoch + 1, best_epoch + 1, seconds


def _numpy_predict(model):
    import torch

    def predict(x):
        with torch.no_grad():
            return model(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()

    return predict


VARIANTS = {
    # name: (short label, shared initial weights, single bias)
    "torch (Keras LSTM: one bias, nnlab's initial weights)": ("torch-keras", True, True),
    "torch (native nn.LSTM: two biases, torch's init)": ("torch-native", False, False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=list(fs.RECIPES), default="relative")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    recipe = fs.RECIPES[args.recipe]
    epochs = args.epochs or recipe.epochs
    print(
        f"numpy {np.__version__}, torch {torch.__version__}, one thread each; recipe "
        f"{args.recipe}: {recipe.text}, patience {recipe.patience}, epochs {epochs}"
    )
    names = ["nnlab", *VARIANTS]
    rmse = {name: [] for name in names}
    per_epoch = {name: [] for name in names}
    with threadpool_limits(1, user_api="blas"):
        for seed in args.seeds:
            data = fs.load_data(seed, recipe.scaling)
            y_test = data["Y"][data["test"]]
            forecaster, history, seconds = fs.train(data, recipe, seed, epochs)
            n = len(history.history["loss"])
            rmse["nnlab"].append(fc.forecast_errors(y_test, fs.forecast(forecaster, data))["rmse"])
            per_epoch["nnlab"].append(seconds / n)
            line = [
                f"nnlab {rmse['nnlab'][-1]:.3f} ({history.best_epoch + 1}/{n} ep, {seconds:.0f} s)"
            ]
            for name, (label, shared, single_bias) in VARIANTS.items():
                init = fs.build_model(seed).build((fs.LOOKBACK, 1)) if shared else None
                tf, n, best, seconds = train_torch(data, recipe, seed, epochs, init, single_bias)
                rmse[name].append(fc.forecast_errors(y_test, fs.forecast(tf, data))["rmse"])
                per_epoch[name].append(seconds / n)
                line.append(f"{label} {rmse[name][-1]:.3f} ({best}/{n} ep, {seconds:.0f} s)")
            print(f"seed {seed}: test RMSE " + "  ".join(line), flush=True)
    print(f"\ntest RMSE in original units, seeds {args.seeds} (seed 001's Keras: 3.30 ± 0.41)")
    ours = np.mean(rmse["nnlab"])
    for name in names:
        values = np.array(rmse[name])
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        ratio = "" if name == "nnlab" else f"  nnlab/this {ours / values.mean():.3f}"
        print(
            f"  {name:54s} {values.mean():.3f} ± {sd:.3f} [{', '.join(f'{v:.3f}' for v in values)}]"
            f"  {np.mean(per_epoch[name]) * 1e3:4.0f} ms/epoch{ratio}"
        )


if __name__ == "__main__":
    main()
