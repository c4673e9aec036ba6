"""PyTorch-style pooling, upsampling and padding modules (no parameters; NCHW / NCL)."""

from nnlab import functional as F
from nnlab.nn.module import Module, register


def _plain(value):
    """Tuples become lists so configs are JSON-shaped; ints and None stay."""
    return list(value) if isinstance(value, tuple | list) else value


def _tuple(value):
    """Lists (from a JSON config) become tuples, as PyTorch modules store pairs."""
    return tuple(value) if isinstance(value, tuple | list) else value


class _MaxPool(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        self.kernel_size = _tuple(kernel_size)
        self.stride = self.kernel_size if stride is None else _tuple(stride)
        self.padding, self.dilation = _tuple(padding), _tuple(dilation)
        self.ceil_mode = bool(ceil_mode)

    def get_config(self) -> dict:
        return {
            "kernel_size": _plain(self.kernel_size),
            "stride": _plain(self.stride),
            "padding": _plain(self.padding),
            "dilation": _plain(self.dilation),
            "ceil_mode": self.ceil_mode,
        }

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


@register
class MaxPool1d(_MaxPool):
    """Max over sliding windows of the last axis, as ``torch.nn.MaxPool1d``.

    Args:
        kernel_size: window length.
        stride: step between windows (default: ``kernel_size``).
        padding: implicit -inf padding on both ends, at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output length up (the last window must start inside the input
            or the left padding).

    Shape:
        (N, C, L) -> (N, C, L_out), L_out = floor((L + 2p - d(k - 1) - 1) / s) + 1
        (ceil instead of floor in ceil mode). (C, L) works too.
    """

    def forward(self, x):
        return F.max_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )


@register
class MaxPool2d(_MaxPool):
    """Max over sliding (kH, kW) windows, as ``torch.nn.MaxPool2d``; the gradient of each
    window goes to its first maximum (row-major order), as in PyTorch.

    Args:
        kernel_size, stride, padding, dilation: int or (height, width) pair; stride defaults
            to ``kernel_size``; padding is -inf, at most half the kernel.
        ceil_mode: round output sizes up (the last window must start inside the input or
            the top/left padding).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1.
        (C, H, W) works too.
    """

    def forward(self, x):
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )


@register
class AvgPool2d(Module):
    """Mean over sliding (kH, kW) windows, as ``torch.nn.AvgPool2d``.

    Args:
        kernel_size, stride, padding: int or (height, width) pair; stride defaults to
            ``kernel_size``; zero padding, at most half the kernel.
        ceil_mode: round output sizes up, as in MaxPool2d.
        count_include_pad: divide by the window size clipped to input + padding (True) or by
            the number of input elements in the window (False).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - k) / s) + 1.
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size = _tuple(kernel_size)
        self.stride = self.kernel_size if stride is None else _tuple(stride)
        self.padding, self.ceil_mode = _tuple(padding), bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    def get_config(self) -> dict:
        return {
            "kernel_size": _plain(self.kernel_size),
            "stride": _plain(self.stride),
            "padding": _plain(self.padding),
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
        }

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"ceil_mode={self.ceil_mode}, count_include_pad={self.count_include_pad}"
        )


@register
class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, as ``torch.nn.AdaptiveAvgPool2d``: output
    (i, j) averages rows [floor(i H / H_out), ceil((i + 1) H / H_out)) and likewise columns.

    Args:
        output_size: int or (H_out, W_out); an entry of None keeps that input size.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _tuple(output_size)

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def get_config(self) -> dict:
        return {"output_size": _plain(self.output_size)}

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


@register
class Upsample(Module):
    """Enlarge images by integer factors, as ``torch.nn.Upsample``.

    Args:
        size: target (H_out, W_out) or int; must be integer multiples of the input size.
            Give either ``size`` or ``scale_factor``.
        scale_factor: int or (sh, sw) pair of integer factors.
        mode: 'nearest' (copy the pixel h // sh, w // sw) or 'bilinear'.
        align_corners: only the default (None / False: half-pixel centres) is supported.

    Shape:
        (N, C, H, W) -> (N, C, H * sh, W * sw)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(
                f"Upsample needs exactly one of size and scale_factor, got size={size!r}, "
                f"scale_factor={scale_factor!r}"
            )
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"Upsample mode must be 'nearest' or 'bilinear', got {mode!r}")
        if align_corners:
            raise NotImplementedError(
                "Upsample(align_corners=True) is not supported; nnlab implements PyTorch's "
                "default half-pixel rule (align_corners=False)"
            )
        if mode == "nearest" and align_corners is not None:
            raise ValueError("align_corners applies to 'bilinear' mode only, as in PyTorch")
        self.size, self.scale_factor = _tuple(size), _tuple(scale_factor)
        self.mode, self.align_corners = mode, align_corners

    def _factors(self, shape) -> tuple:
        if self.size is None:
            return self.scale_factor
        size = (self.size, self.size) if isinstance(self.size, int) else tuple(self.size)
        in_size = tuple(shape[-2:])
        if any(o % n for o, n in zip(size, in_size, strict=True)):
            raise ValueError(
                f"Upsample(size={self.size!r}) needs integer multiples of the input size "
                f"{in_size}; use a size divisible by it or scale_factor"
            )
        return tuple(o // n for o, n in zip(size, in_size, strict=True))

    def forward(self, x):
        return F.upsample(x, self._factors(x.shape), self.mode)

    def get_config(self) -> dict:
        return {
            "size": _plain(self.size),
            "scale_factor": _plain(self.scale_factor),
            "mode": self.mode,
            "align_corners": self.align_corners,
        }

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


@register
class ZeroPad2d(Module):
    """Pad the last two axes with zeros, as ``torch.nn.ZeroPad2d``.

    Args:
        padding: int (all four sides) or (left, right, top, bottom), PyTorch's order.

    Shape:
        (N, C, H, W) -> (N, C, H + top + bottom, W + left + right)
    """

    def __init__(self, padding):
        super().__init__()
        sides = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(sides) != 4 or not all(isinstance(p, int) and p >= 0 for p in sides):
            raise ValueError(
                f"ZeroPad2d padding must be a non-negative int or (left, right, top, bottom), "
                f"got {padding!r}"
            )
        self.padding = sides

    def forward(self, x):
        left, right, top, bottom = self.padding
        ndim = len(x.shape)
        if ndim < 2:
            raise ValueError(f"ZeroPad2d needs at least 2 axes (H, W), got shape {x.shape}")
        return F.pad(x, ((0, 0),) * (ndim - 2) + ((top, bottom), (left, right)))

    def get_config(self) -> dict:
        return {"padding": list(self.padding)}

    def extra_repr(self) -> str:
        return f"padding={self.padding}"
