"""Keras-style convolution layers: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D.

nnlab is channels-first: inputs are (N, C, L) for Conv1D and (N, C, H, W) (NCHW) for the 2-D
layers, and the layers build lazily from axis 1, the channel axis. Keras's default is
channels-last; convert such data once with ``x.transpose(0, 3, 1, 2)`` (images) or
``x.transpose(0, 2, 1)`` (sequences). The layers say so when handed the other layout.

Weights are stored in PyTorch's layout (``weight`` (filters, in/groups, *kernel), as Dense
stores (units, in)); the ``kernel`` property and ``get_weights``/``set_weights`` use Keras's
layout ((*kernel, in/groups, filters); Conv2DTranspose (kH, kW, filters, in);
DepthwiseConv2D (kH, kW, in, depth_multiplier)), so weights move across from Keras.

Padding follows Keras/TensorFlow: 'valid'; 'same', where the output has ceil(size / stride)
positions and the total padding max((out - 1)*stride + (k - 1)*dilation + 1 - size, 0) is
split with the odd one at the end (bottom/right), which PyTorch's symmetric padding cannot
express for strides > 1; and 'causal' (Conv1D: all padding at the start).
"""

import warnings

import numpy as np

from nnlab import functional as F
from nnlab.layers.base import Layer
from nnlab.layers.serialize import activation_from_config, regularizer_from_config, to_config
from nnlab.nn.module import Parameter, register

_HINTS = {
    1: "sequences must be (N, C, L) (channels first); convert (N, L, C) with x.transpose(0, 2, 1)",
    2: "images must be NCHW (channels first); convert NHWC with x.transpose(0, 3, 1, 2)",
}


def _ints(value, n: int, what: str, layer: str, minimum: int = 1) -> tuple:
    items = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    if len(items) != n or not all(isinstance(v, int | np.integer) and v >= minimum for v in items):
        raise ValueError(
            f"{layer}: {what} must be an int >= {minimum} or {n} of them, got {value!r}"
        )
    return tuple(int(v) for v in items)


def tf_same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple:
    """TensorFlow's 'same' padding (before, after) of one axis: ceil(size / stride) outputs,
    the odd padding element after."""
    span = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


class _Conv(Layer):
    """Shared arguments, lazy build, call, regularizers and config of the convolutions."""

    spatial = 2
    paddings = ("valid", "same")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        input_shape=None,
        **base,
    ):
        super().__init__(**base)
        cls, n = type(self).__name__, self.spatial
        if data_format not in (None, "channels_first"):
            raise ValueError(
                f"{cls} '{self.name}': nnlab layers are channels-first; got data_format="
                f"{data_format!r}. Pass data in channels-first layout instead: {_HINTS[n]}"
            )
        if filters is not None and int(filters) <= 0:
            raise ValueError(f"{cls} filters must be a positive integer, got {filters}")
        self.filters = None if filters is None else int(filters)
        self.kernel_size = _ints(kernel_size, n, "kernel_size", cls)
        self.strides = _ints(strides, n, "strides", cls)
        self.dilation_rate = _ints(dilation_rate, n, "dilation_rate", cls)
        self.padding = str(padding).lower()
        if self.padding not in self.paddings:
            raise ValueError(f"{cls} padding must be one of {self.paddings}, got {padding!r}")
        self.groups = int(groups)
        if self.groups <= 0 or (self.filters is not None and self.filters % self.groups):
            raise ValueError(
                f"{cls}: groups must be a positive divisor of filters ({filters}), got {groups}"
            )
        self.activation_spec = activation
        self.activation = activation_from_config(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = regularizer_from_config(kernel_regularizer)
        self.bias_regularizer = regularizer_from_config(bias_regularizer)
        self.activity_regularizer = regularizer_from_config(activity_regularizer)
        self.input_shape = None if input_shape is None else tuple(int(d) for d in input_shape)
        if self.input_shape is not None:
            self.ensure_built((None, *self.input_shape))

    # ---- layout hooks (Conv1D/Conv2D; the transposed and depthwise layers override) ----------
    def _init_shape(self, in_channels) -> tuple:
        """The shape handed to the initializer, in PyTorch's (out, in, *kernel) convention, so
        its fans are Keras's: here it is the weight's own shape."""
        return (self.filters, in_channels // self.groups, *self.kernel_size)

    def _to_weight(self, array: np.ndarray) -> np.ndarray:
        """The initializer's array in the weight's layout."""
        return array

    def _kernel_of(self, weight: np.ndarray) -> np.ndarray:
        """PyTorch layout -> Keras layout (a view)."""
        n = self.spatial
        return weight.transpose(*range(2, 2 + n), 1, 0)

    def _weight_of(self, kernel: np.ndarray) -> np.ndarray:
        """Keras layout -> PyTorch layout (a view)."""
        n = self.spatial
        return kernel.transpose(n + 1, n, *range(n))

    def _out_channels(self) -> int:
        return self.filters

    def _conv(self, x, pads):
        fn = F.conv1d if self.spatial == 1 else F.conv2d
        return fn(x, self.weight, self.bias, self.strides, pads, self.dilation_rate, self.groups)

    def _pads(self, sizes) -> tuple:
        if self.padding == "valid":
            return ((0, 0),) * self.spatial
        if self.padding == "causal":
            return (((self.kernel_size[0] - 1) * self.dilation_rate[0], 0),)
        return tuple(
            tf_same_padding(n, k, s, d)
            for n, k, s, d in zip(
                sizes, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        )

    # ---- building and calling -----------------------------------------------------------------
    def build(self, input_shape):
        cls, n = type(self).__name__, self.spatial
        if len(input_shape) != n + 2:
            axes = "(N, C, L)" if n == 1 else "(N, C, H, W)"
            raise ValueError(
                f"{cls} '{self.name}' expects {n + 2}-D input {axes}, got shape "
                f"{tuple(input_shape)}"
            )
        in_channels = int(input_shape[1])
        if in_channels % self.groups:
            raise ValueError(
                f"{cls} '{self.name}': groups={self.groups} must divide the {in_channels} input "
                f"channels on axis 1 of {tuple(input_shape)}"
            )
        height, width = input_shape[2], input_shape[-1]
        if n == 2 and width in (1, 3, 4) and height is not None and min(height, in_channels) >= 8:
            warnings.warn(
                f"{cls} '{self.name}' builds for {in_channels} input channels (axis 1) from an "
                f"input of shape {tuple(input_shape)}, whose last axis looks like channels: "
                f"{_HINTS[2]}",
                stacklevel=5,
            )
        self.in_channels = in_channels
        array = self.make_weight(self._init_shape(in_channels), self.kernel_initializer)
        self.weight = Parameter(np.ascontiguousarray(self._to_weight(array)))
        bias = None
        if self.use_bias:
            bias = Parameter(self.make_weight((self._out_channels(),), self.bias_initializer))
        self.register_parameter("bias", bias)

    def call(self, x):
        if x.ndim != self.spatial + 2 or x.shape[1] != self.in_channels:
            hint = _HINTS[self.spatial]
            last = x.shape[-1] == self.in_channels and x.ndim == self.spatial + 2
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {self.in_channels} input channels "
                f"on axis 1, got array of shape {tuple(x.shape)}"
                + (f": {hint}" if last else f" ({hint})")
            )
        out = self.activation(self._conv(x, self._pads(x.shape[2:])))
        if self.activity_regularizer is not None:
            self._activity_losses = [self.activity_regularizer(out) / out.shape[0]]
        return out

    def own_losses(self) -> list:
        penalties = list(self._activity_losses)
        if self.built and self.kernel_regularizer is not None:
            penalties.append(self.kernel_regularizer(self.weight))
        if self.built and self.bias is not None and self.bias_regularizer is not None:
            penalties.append(self.bias_regularizer(self.bias))
        return penalties

    # ---- Keras weight layout ------------------------------------------------------------------
    @property
    def kernel(self) -> np.ndarray:
        """The weight in Keras's layout (a view of the PyTorch-layout ``weight``)."""
        return self._kernel_of(self.weight.data)

    def get_weights(self) -> list:
        """Keras layout: [kernel, bias] (bias only with use_bias)."""
        weights = [self.kernel.copy()]
        return weights + ([self.bias.data.copy()] if self.bias is not None else [])

    def set_weights(self, weights) -> None:
        """Load Keras-layout weights [kernel, bias]; builds the layer if needed."""
        kernel = np.asarray(weights[0])
        if not self.built:
            self.ensure_built((None, self._in_channels_of(kernel)) + (None,) * self.spatial)
        if kernel.shape != self.kernel.shape:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' kernel must have shape "
                f"{self.kernel.shape} (Keras layout), got {kernel.shape}"
            )
        self.weight.data[...] = self._weight_of(kernel)
        if self.bias is not None:
            self.bias.data[...] = np.asarray(weights[1])

    def _in_channels_of(self, kernel) -> int:
        return kernel.shape[-2] * self.groups

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": to_config(self.activation_spec),
            "use_bias": self.use_bias,
            "kernel_initializer": to_config(self.kernel_initializer),
            "bias_initializer": to_config(self.bias_initializer),
            "kernel_regularizer": to_config(self.kernel_regularizer),
            "bias_regularizer": to_config(self.bias_regularizer),
            "activity_regularizer": to_config(self.activity_regularizer),
            "input_shape": None if self.input_shape is None else list(self.input_shape),
        }

    def extra_repr(self) -> str:
        return (
            f"filters={self.filters}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}, name={self.name!r}"
        )


@register
class Conv1D(_Conv):
    """1-D convolution over (N, C, L) sequences (channels first), Keras arguments.

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: int or 1-tuple.
        padding: 'valid', 'same' (TensorFlow's, also for strides > 1) or 'causal' (pad
            (kernel_size - 1) * dilation_rate at the start, so output t sees inputs <= t).
        groups: split the channels into groups convolved separately.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer: as Dense.
        input_shape: optional (C, L); builds the layer immediately.

    Shape:
        (N, C, L) -> (N, filters, L'), L' = ceil(L / strides) for 'same'.

    Weights: ``weight`` (filters, C/groups, K) (PyTorch); ``kernel`` (K, C/groups, filters).
    """

    spatial = 1
    paddings = ("valid", "same", "causal")


@register
class Conv2D(_Conv):
    """2-D convolution over NCHW images (channels first), Keras arguments.

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: int or (h, w).
        padding: 'valid' or 'same' (TensorFlow's: ceil(size / stride) outputs, the odd padding
            row/column at the bottom/right, also for strides > 1).
        groups: split the channels into groups convolved separately.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer: as Dense.
        input_shape: optional (C, H, W); builds the layer immediately.

    Shape:
        (N, C, H, W) -> (N, filters, H', W'); 'same': H' = ceil(H / strides).

    Weights: ``weight`` (filters, C/groups, kH, kW) (PyTorch); ``kernel`` (kH, kW, C/groups,
    filters) (Keras).
    """


@register
class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution: each input channel convolved with ``depth_multiplier``
    filters of its own (groups = channels), Keras arguments, NCHW images.

    Args:
        kernel_size, strides, padding, dilation_rate, activation, use_bias, bias_initializer,
        bias_regularizer, activity_regularizer, input_shape: as Conv2D.
        depth_multiplier: output channels per input channel.
        depthwise_initializer, depthwise_regularizer: for the depthwise kernel.

    Shape:
        (N, C, H, W) -> (N, C * depth_multiplier, H', W'); output channel c*m + j is input
        channel c convolved with its j-th filter (Keras's order).

    Weights: ``weight`` (C*depth_multiplier, 1, kH, kW) (PyTorch, groups = C);
    ``depthwise_kernel`` / ``kernel`` (kH, kW, C, depth_multiplier) (Keras).
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        input_shape=None,
        **base,
    ):
        super().__init__(
            None,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            1,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            None,
            **base,
        )
        if int(depth_multiplier) <= 0:
            raise ValueError(
                f"DepthwiseConv2D depth_multiplier must be positive, got {depth_multiplier}"
            )
        self.depth_multiplier = int(depth_multiplier)
        if input_shape is not None:
            self.input_shape = tuple(int(d) for d in input_shape)
            self.ensure_built((None, *self.input_shape))

    @property
    def depthwise_kernel(self) -> np.ndarray:
        return self.kernel

    def build(self, input_shape):
        if len(input_shape) == 4:
            self.groups = int(input_shape[1])
        super().build(input_shape)

    def _out_channels(self) -> int:
        return self.in_channels * self.depth_multiplier

    def _init_shape(self, in_channels) -> tuple:
        # Keras's fans for the (kH, kW, C, m) kernel: fan_in = C*kH*kW, fan_out = m*kH*kW.
        return (self.depth_multiplier, in_channels, *self.kernel_size)

    def _to_weight(self, array):
        m, c, kh, kw = array.shape
        return array.transpose(1, 0, 2, 3).reshape(c * m, 1, kh, kw)

    def _kernel_of(self, weight):
        kh, kw = self.kernel_size
        return weight.reshape(-1, self.depth_multiplier, kh, kw).transpose(2, 3, 0, 1)

    def _weight_of(self, kernel):
        kh, kw, c, m = kernel.shape
        return kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)

    def _in_channels_of(self, kernel) -> int:
        return kernel.shape[2]

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("filters", "groups"):
            del config[key]
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        return {**config, "depth_multiplier": self.depth_multiplier}
