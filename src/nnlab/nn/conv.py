"""Convolution layers as ``torch.nn``: Conv1d, Conv2d and ConvTranspose2d.

Parameter names, shapes and default initialisation are PyTorch's, so state dicts load
across. Inputs are channels-first: (N, C, L) for Conv1d, (N, C, H, W) for the 2-D layers.
"""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.nn import init
from nnlab.nn.module import Module, Parameter, register


def _tuple(value, n: int, name: str) -> tuple:
    items = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    if len(items) != n or not all(isinstance(v, int | np.integer) for v in items):
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}")
    return tuple(int(v) for v in items)


def _padding(padding, n: int, transposed: bool):
    """PyTorch's stored form: 'same'/'valid' as given, else a tuple of n ints. nnlab's
    explicit (before, after) pairs are kept as a tuple of n pairs."""
    if isinstance(padding, str):
        if transposed or padding not in ("same", "valid"):
            raise ValueError(
                f"padding must be an int, a tuple{'' if transposed else ', valid or same'}; "
                f"got {padding!r}"
            )
        return padding
    if not isinstance(padding, int | np.integer) and any(
        not isinstance(p, int | np.integer) for p in padding
    ):
        return tuple(_tuple(p, 2, "each padding pair") for p in padding)
    return _tuple(padding, n, "padding")


def _to_config(value):
    if isinstance(value, tuple):
        return [_to_config(v) for v in value]
    return value


class _ConvNd(Module):
    """Shared construction, initialisation, config and repr of the convolution modules."""

    spatial = 2
    transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        *,
        output_padding=0,
        padding_mode="zeros",
        weight_initializer=None,
        bias_initializer=None,
        rng=None,
        dtype=None,
    ):
        super().__init__()
        n, name = self.spatial, type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size")
        self.stride = _tuple(stride, n, "stride")
        self.padding = _padding(padding, n, self.transposed)
        self.dilation = _tuple(dilation, n, "dilation")
        self.output_padding = _tuple(output_padding, n, "output_padding")
        if not self.transposed and any(self.output_padding):
            raise ValueError(
                f"{name} has no output_padding (it belongs to the transposed convolution, "
                f"ConvTranspose2d), got {output_padding!r}"
            )
        self.groups = int(groups)
        if self.groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        for role, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % self.groups:
                raise ValueError(
                    f"{name}: {role} ({channels}) must be divisible by groups ({self.groups})"
                )
        if self.padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(
                f"{name}: padding='same' is not supported for strided convolutions "
                f"(stride {self.stride}); the Keras layers' 'same' handles strides"
            )
        self.weight_initializer, self.bias_initializer = weight_initializer, bias_initializer
        self._rng = rng
        dtype = np.dtype(dtype or backend.default_dtype())
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, rng=None) -> None:
        """Draw fresh weights as PyTorch: kaiming_uniform(a=sqrt(5)) for the weight, i.e.
        U(+-1/sqrt(fan_in)), and U(+-1/sqrt(fan_in)) for the bias, with fan_in =
        weight.shape[1] * prod(kernel_size) (for ConvTranspose that is out_channels/groups,
        as ``torch.nn.init`` computes it from the weight's layout)."""
        gen = backend.get_generator(rng if rng is not None else self._rng)
        init.reset_weight_and_bias(
            self.weight, self.bias, gen, self.weight_initializer, self.bias_initializer
        )

    def get_config(self) -> dict:
        config = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": _to_config(self.padding),
            "dilation": list(self.dilation),
            "groups": self.groups,
            "bias": self.bias is not None,
        }
        if self.transposed:
            config["output_padding"] = list(self.output_padding)
        return {
            **config,
            "weight_initializer": init.serialize(self.weight_initializer),
            "bias_initializer": init.serialize(self.bias_initializer),
            "dtype": self.weight.dtype.name,
        }

    def extra_repr(self) -> str:
        n = self.spatial
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


@register
class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over (N, C_in, L), as ``torch.nn.Conv1d``.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int (or a 1-tuple).
        padding: int, 'valid', 'same' (stride 1) or ((left, right),).
        groups: split the channels into groups convolved separately (in_channels for a
            depthwise convolution).
        bias: learn an additive bias per output channel (default True).
        padding_mode: 'zeros' only (accepted for PyTorch compatibility).
        weight_initializer, bias_initializer, rng, dtype: as ``nn.Linear`` (default
            initialisation: PyTorch's, U(+-1/sqrt(fan_in)) with fan_in = in/groups * K).

    Shape:
        (N, C_in, L) -> (N, C_out, L_out), L_out = (L + 2p - dilation*(K-1) - 1) // stride + 1.

    Attributes:
        weight: (out_channels, in_channels/groups, K). bias: (out_channels,) or None.
    """

    spatial = 1

    def forward(self, x):
        return F.conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


@register
class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W), as ``torch.nn.Conv2d``.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (h, w), 'valid', 'same' (stride 1; an even kernel pads one more
            bottom/right, as PyTorch) or ((top, bottom), (left, right)).
        groups: split the channels into groups convolved separately (groups = in_channels
            with out_channels = k * in_channels: depthwise with channel multiplier k).
        bias: learn an additive bias per output channel (default True).
        padding_mode: 'zeros' only (accepted for PyTorch compatibility).
        weight_initializer, bias_initializer, rng, dtype: as ``nn.Linear`` (default
            initialisation: PyTorch's, U(+-1/sqrt(fan_in)) with fan_in = in/groups * kH * kW).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H', W'),
        H' = (H + 2 padding - dilation*(kH-1) - 1) // stride + 1, likewise W'.

    Attributes:
        weight: (out_channels, in_channels/groups, kH, kW). bias: (out_channels,) or None.
    """

    def forward(self, x):
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


@register
class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution, as ``torch.nn.ConvTranspose2d`` (the gradient of a
    Conv2d with respect to its input; upsamples by ``stride``).

    Args:
        in_channels, out_channels, kernel_size, stride, dilation, groups, bias: as Conv2d.
        padding: int or (h, w): dilation*(k-1) - padding zeros are added to both sides of
            the input (crops ``padding`` from each side of the full output).
        output_padding: int or (h, w), < max(stride, dilation): extra rows/columns on the
            bottom/right of the output, to pick among the input sizes a strided Conv2d maps
            to the same output size.
        padding_mode: 'zeros' only (accepted for PyTorch compatibility).
        weight_initializer, bias_initializer, rng, dtype: as ``nn.Linear`` (default: PyTorch's,
            with fan_in = out_channels/groups * kH * kW).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H', W'),
        H' = (H - 1)*stride - 2 padding + dilation*(kH-1) + output_padding + 1, likewise W'.
        ``forward(x, output_size=(H', W'))`` chooses output_padding to reach that size.

    Attributes:
        weight: (in_channels, out_channels/groups, kH, kW). bias: (out_channels,) or None.
    """

    transposed = True

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        **options,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            output_padding=output_padding,
            **options,
        )
        for e, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if e >= max(s, d):
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller "
                    f"than stride {self.stride} or dilation {self.dilation}"
                )

    def forward(self, x, output_size=None):
        extra = self.output_padding
        if output_size is not None:
            extra = self._output_padding(np.shape(x), output_size)
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            extra,
            self.groups,
            self.dilation,
        )

    def _output_padding(self, input_shape, output_size) -> tuple:
        """The output_padding that makes the output (H', W') = ``output_size``."""
        size = tuple(int(s) for s in output_size)[-2:]
        pads = self.padding
        if isinstance(pads[0], tuple):
            pads = tuple(a + b for a, b in pads)
        else:
            pads = tuple(2 * p for p in pads)
        extra = []
        for i in range(2):
            k, s, d = self.kernel_size[i], self.stride[i], self.dilation[i]
            smallest = (input_shape[2 + i] - 1) * s - pads[i] + d * (k - 1) + 1
            if not smallest <= size[i] < smallest + s:
                raise ValueError(
                    f"ConvTranspose2d: output_size {tuple(output_size)} is not reachable from "
                    f"input {tuple(input_shape)}: axis {i} must be in "
                    f"[{smallest}, {smallest + s - 1}]"
                )
            extra.append(size[i] - smallest)
        return tuple(extra)
