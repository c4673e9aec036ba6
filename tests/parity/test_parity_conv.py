"""Convolution modules against torch.nn on random configurations: weights copied from torch
with load_state_dict, then the forward output, the input gradient and every parameter
gradient compared (float32 to 1e-5, float64 to 1e-10, relative to the largest magnitude of
each compared array); plus repr, default initialisation and output_size against torch."""

import numpy as np
import pytest

from nnlab import Tensor
from nnlab.nn.conv import Conv1d, Conv2d, ConvTranspose2d

from oracles import torch_module

TOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]


def _close(ours, theirs, dtype, what):
    theirs = np.asarray(theirs)
    tol = TOL[dtype]
    scale = max(1.0, float(np.abs(theirs).max())) if theirs.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


def _random_configs(count, spatial, transposed, seed):
    """Valid (module kwargs, input shape) pairs: kernels 1-5, strides 1-3, dilation 1-2,
    groups 1/2/depthwise, bias on/off, int/'same'/'valid' padding, odd sizes."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        groups_kind = rng.choice(["one", "two", "depthwise"])
        in_channels = int(rng.integers(1, 4)) * (2 if groups_kind == "two" else 1)
        groups = {"one": 1, "two": 2, "depthwise": in_channels}[groups_kind]
        out_channels = groups * int(rng.integers(1, 4))
        kernel = tuple(int(k) for k in rng.integers(1, 6, size=spatial))
        stride = tuple(int(s) for s in rng.integers(1, 4, size=spatial))
        dilation = tuple(int(d) for d in rng.integers(1, 3, size=spatial))
        size = tuple(int(n) for n in rng.integers(3, 12, size=spatial))
        options = ["int", "valid"] if transposed else ["int", "valid", "same"]
        kind = rng.choice(options)
        if kind == "same":
            stride = (1,) * spatial
            padding = "same"
        elif kind == "valid" and not transposed:
            padding = "valid"
        else:
            padding = tuple(int(p) for p in rng.integers(0, 3, size=spatial))
        kwargs = dict(
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bool(rng.integers(0, 2)),
        )
        pads = (0,) * spatial if isinstance(padding, str) else padding
        spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
        if transposed:
            kwargs["output_padding"] = tuple(
                int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation, strict=True)
            )
            sizes = [
                (n - 1) * s - 2 * p + sp + e
                for n, s, p, sp, e in zip(
                    size, stride, pads, spans, kwargs["output_padding"], strict=True
                )
            ]
            if min(sizes) < 1:
                continue
        elif padding != "same" and any(
            sp > n + 2 * p for sp, n, p in zip(spans, size, pads, strict=True)
        ):
            continue
        batch = int(rng.integers(1, 4))
        configs.append((kwargs, (batch, in_channels, *size)))
    return configs


CONV2D = _random_configs(24, 2, False, seed=0)
CONV1D = _random_configs(12, 1, False, seed=1)
TRANSPOSE = _random_configs(20, 2, True, seed=2)


def _check(ours_cls, theirs_cls, kwargs, shape, dtype):
    torch = torch_module()
    torch.manual_seed(0)
    theirs = theirs_cls(**kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = ours_cls(**kwargs, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).normal(0.5, 2.0, size=shape).astype(dtype)
    x_theirs, x_ours = torch.tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    y_theirs, y_ours = theirs(x_theirs), ours(x_ours)
    assert y_ours.dtype == dtype
    assert y_ours.shape == tuple(y_theirs.shape)
    _close(y_ours.data, y_theirs.detach().numpy(), dtype, "forward")
    g = np.random.default_rng(2).normal(size=y_ours.shape).astype(dtype)
    y_theirs.backward(torch.tensor(g))
    y_ours.backward(g)
    _close(x_ours.grad, x_theirs.grad.numpy(), dtype, "input gradient")
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert sorted(ours_params) == sorted(theirs_params)
    for name, p in theirs_params.items():
        assert ours_params[name].grad.dtype == dtype
        _close(ours_params[name].grad, p.grad.numpy(), dtype, f"gradient of {name}")


def _ids(configs):
    return [f"{shape}-{kwargs}".replace(" ", "") for kwargs, shape in configs]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs,shape", CONV2D, ids=_ids(CONV2D))
def test_conv2d_matches_torch(kwargs, shape, dtype):
    _check(Conv2d, torch_module().nn.Conv2d, kwargs, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs,shape", CONV1D, ids=_ids(CONV1D))
def test_conv1d_matches_torch(kwargs, shape, dtype):
    _check(Conv1d, torch_module().nn.Conv1d, kwargs, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs,shape", TRANSPOSE, ids=_ids(TRANSPOSE))
def test_conv_transpose2d_matches_torch(kwargs, shape, dtype):
    _check(ConvTranspose2d, torch_module().nn.ConvTranspose2d, kwargs, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lenet_and_cifar_shapes_match_torch(dtype):
    _check(Conv2d, torch_module().nn.Conv2d, dict(in_channels=1, out_channels=6,
           kernel_size=5, padding=2), (8, 1, 28, 28), dtype)  # fmt: skip
    _check(Conv2d, torch_module().nn.Conv2d, dict(in_channels=16, out_channels=32,
           kernel_size=3, padding="same"), (4, 16, 16, 16), dtype)  # fmt: skip


def test_conv_transpose2d_output_size_matches_torch():
    torch = torch_module()
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1).double()
    ours = ConvTranspose2d(3, 2, 3, stride=3, padding=1, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    for size in [(10, 13), (12, 14), (11, 15)]:
        expected = theirs(torch.tensor(x), output_size=size).detach().numpy()
        _close(ours(x, output_size=size).data, expected, np.float64, f"output_size {size}")
    with pytest.raises(ValueError, match="output_size .* is not reachable"):
        ours(x, output_size=(13, 13))


@pytest.mark.parametrize(
    "ours_cls,name,args,kwargs",
    [
        (Conv2d, "Conv2d", (3, 16, 3), {"padding": "same", "bias": False}),
        (Conv2d, "Conv2d", (4, 8, (3, 5)), {"stride": 2, "padding": (1, 2), "groups": 2}),
        (Conv1d, "Conv1d", (4, 8, 3), {"dilation": 2, "padding": "valid"}),
        (ConvTranspose2d, "ConvTranspose2d", (4, 8, 3), {"stride": 2, "output_padding": 1}),
    ],
)
def test_repr_and_parameter_shapes_match_torch(ours_cls, name, args, kwargs):
    torch = torch_module()
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = ours_cls(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }


@pytest.mark.parametrize(
    "ours_cls,name,args",
    [(Conv2d, "Conv2d", (6, 32, 3)), (ConvTranspose2d, "ConvTranspose2d", (6, 32, 3))],
)
def test_default_initialisation_has_torch_bounds(ours_cls, name, args):
    """Uniform(+-1/sqrt(fan_in)) for weight and bias, fan_in from weight.shape[1] (for
    ConvTranspose2d that is out_channels/groups, not in_channels)."""
    torch = torch_module()
    theirs = getattr(torch.nn, name)(*args)
    ours = ours_cls(*args, rng=0)
    fan_in = theirs.weight.shape[1] * 9
    for key in ("weight", "bias"):
        their_max = float(getattr(theirs, key).detach().abs().max())
        our_max = float(np.abs(getattr(ours, key).data).max())
        assert their_max <= 1 / np.sqrt(fan_in) and our_max <= 1 / np.sqrt(fan_in)
        assert our_max > 0.9 / np.sqrt(fan_in) and their_max > 0.9 / np.sqrt(fan_in)
