"""Keras-style Conv2DTranspose (channels-first), with TensorFlow's output sizes and cropping."""

from nnlab import functional as F
from nnlab.layers.conv import _Conv, _ints
from nnlab.nn.module import register


def tf_transpose_padding(size, kernel, stride, dilation, padding, output_padding) -> tuple:
    """(crop before, crop after, extra after) of one axis of Keras's transposed convolution.

    The output length is Keras's ``deconv_output_length``; as TensorFlow, the full output
    of length (size - 1)*stride + span is cropped by half the excess at the start (rounded
    down) and the rest at the end, or extended with zeros at the end when it is too short.
    """
    span = (kernel - 1) * dilation + 1
    full = (size - 1) * stride + span
    if output_padding is None:
        length = size * stride if padding == "same" else size * stride + max(span - stride, 0)
    elif padding == "same":
        length = (size - 1) * stride + span - 2 * (span // 2) + output_padding
    else:
        length = full + output_padding
    before = max(full - length, 0) // 2 if padding == "same" else 0
    after = full - length - before
    return before, max(after, 0), max(-after, 0)


@register
class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (upsampling by ``strides``) over NCHW images, Keras arguments.

    Args:
        filters, kernel_size, strides, dilation_rate, activation, use_bias, initializers,
        regularizers, input_shape: as Conv2D.
        padding: 'valid' or 'same'. Without output_padding the output is H*stride ('same') or
            H*stride + max(span - stride, 0) ('valid'), span = (k - 1)*dilation + 1.
        output_padding: int or (h, w), each < strides, or None; the output is then
            (H - 1)*stride + span - 2*(span // 2 if 'same' else 0) + output_padding.

    Shape:
        (N, C, H, W) -> (N, filters, H', W').

    Weights: ``weight`` (C, filters, kH, kW) (PyTorch's ConvTranspose2d); ``kernel``
    (kH, kW, filters, C) (Keras).
    """

    def __init__(
        self, filters, kernel_size, strides=1, padding="valid", output_padding=None, **options
    ):
        super().__init__(filters, kernel_size, strides, padding, **options)
        if self.groups != 1:
            raise ValueError("Conv2DTranspose supports groups=1 only (as Keras)")
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = _ints(output_padding, 2, "output_padding", "Conv2DTranspose", 0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides, strict=True)):
                raise ValueError(
                    f"Conv2DTranspose: output_padding {output_padding} must be smaller than "
                    f"strides {self.strides}"
                )

    def _init_shape(self, in_channels) -> tuple:
        return (in_channels, self.filters, *self.kernel_size)

    def _in_channels_of(self, kernel) -> int:
        return kernel.shape[-1]

    def _conv(self, x, pads):
        crops, extra = pads
        return F.conv_transpose2d(
            x, self.weight, self.bias, self.strides, crops, extra, 1, self.dilation_rate
        )

    def _pads(self, sizes) -> tuple:
        extras = self.output_padding or (None, None)
        axes = [
            tf_transpose_padding(n, k, s, d, self.padding, e)
            for n, k, s, d, e in zip(
                sizes, self.kernel_size, self.strides, self.dilation_rate, extras, strict=True
            )
        ]
        return tuple((a, b) for a, b, _ in axes), tuple(e for _, _, e in axes)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        extra = self.output_padding
        return {**config, "output_padding": None if extra is None else list(extra)}
