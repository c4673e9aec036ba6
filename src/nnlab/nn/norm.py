"""Normalization layers: BatchNorm1d, BatchNorm2d and LayerNorm, as in ``torch.nn``."""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.nn import init
from nnlab.nn.module import Module, Parameter, register


class _BatchNorm(Module):
    """Shared BatchNorm machinery; subclasses say which input ranks they accept.

    Momentum convention: PyTorch's, running = (1 - momentum) * running + momentum * batch.
    A Keras ``BatchNormalization(momentum=0.99)`` corresponds to ``momentum=0.01`` here
    (PyTorch momentum m = 1 - Keras momentum). ``momentum=None`` keeps a cumulative average
    (each running statistic is the mean over all batches seen).
    """

    _ranks: tuple = ()
    _layouts: str = ""
    _channels_last: tuple = ()  # the transpose that moves a channels-last input to axis 1

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        *,
        dtype=None,
    ):
        super().__init__()
        self.num_features, self.eps = int(num_features), float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dtype = np.dtype(dtype or backend.default_dtype())
        shape = (self.num_features,)
        if self.affine:
            self.weight = Parameter(np.empty(shape, dtype))
            self.bias = Parameter(np.empty(shape, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", init.zeros(shape, dtype=dtype))
            self.register_buffer("running_var", init.ones(shape, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        """Weight (gamma) ones, bias (beta) zeros, fresh running statistics."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data = init.ones(self.num_features, dtype=self.weight.dtype)
            self.bias.data = init.zeros(self.num_features, dtype=self.bias.dtype)

    def _check_input(self, x) -> None:
        shape = np.shape(x)
        if len(shape) in self._ranks and shape[1] == self.num_features:
            return
        name = f"{type(self).__name__}({self.num_features})"
        message = f"{name} expects input of shape {self._layouts}, got {shape}"
        if len(shape) in self._ranks and shape[-1] == self.num_features:
            axes = self._channels_last
            message += f"; the channels seem to be last: move them to axis 1 with x.transpose{axes}"
        elif len(shape) in self._ranks:
            message += (
                f"; axis 1 must hold the {self.num_features} channels but has "
                f"{shape[1]}: build {type(self).__name__}({shape[1]}) or fix the "
                f"layer before it"
            )
        else:
            message += f"; give it a {' or '.join(f'{r}-D' for r in self._ranks)} input"
        raise ValueError(message)

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:  # cumulative moving average, as PyTorch
                factor = 1.0 / float(self.num_batches_tracked)
        # Without running statistics even eval mode has to use the batch's own statistics.
        use_batch_stats = self.training or self.running_mean is None
        # Running statistics are read in eval and updated in training when tracked.
        pass_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if pass_stats else None,
            self.running_var if pass_stats else None,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=factor,
            eps=self.eps,
        )

    def get_config(self) -> dict:
        arrays = [a for a in (self.weight, self.running_mean) if a is not None]
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "dtype": arrays[0].dtype.name if arrays else None,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


@register
class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs over all axes but the channels.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, per channel. Training uses the
    batch mean and biased variance and updates running_mean / running_var (the latter with
    the unbiased variance); eval uses the running statistics.

    Args:
        num_features: C, the number of channels (axis 1).
        eps: added to the variance for stability (default 1e-5).
        momentum: PyTorch convention: running = (1 - m) * running + m * batch (default 0.1).
            A Keras momentum k corresponds to m = 1 - k (Keras 0.99 -> 0.01 here).
            None: cumulative average over all batches.
        affine: learn weight (gamma) and bias (beta) of shape (C,).
        track_running_stats: keep running_mean, running_var, num_batches_tracked buffers.
        dtype: parameter and buffer dtype (default: the library's).

    Initialization: weight ones, bias zeros, running_mean zeros, running_var ones.

    Shape:
        input (N, C) or (N, C, L) -> output, same shape.
    """

    _ranks = (2, 3)
    _layouts = "(N, C) or (N, C, L) with C on axis 1"
    _channels_last = (0, 2, 1)


@register
class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) images per channel; see ``BatchNorm1d``.

    Momentum follows PyTorch (m = 1 - Keras momentum). Initialization: weight ones, bias
    zeros, running_mean zeros, running_var ones.

    Shape:
        input (N, C, H, W) -> output, same shape.
    """

    _ranks = (4,)
    _layouts = "(N, C, H, W) (NCHW)"
    _channels_last = (0, 3, 1, 2)


@register
class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` axes.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with the (biased) statistics taken
    over the last len(normalized_shape) axes; the same in training and eval.

    Args:
        normalized_shape: int or tuple, the trailing shape to normalise over.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn weight and bias of shape normalized_shape (default True).
        bias: learn the bias (only with elementwise_affine; default True).
        dtype: parameter dtype (default: the library's).

    Initialization: weight ones, bias zeros.

    Shape:
        input (*, *normalized_shape) -> output, same shape.
    """

    def __init__(
        self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *, dtype=None
    ):
        super().__init__()
        if isinstance(normalized_shape, int | np.integer):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        dtype = np.dtype(dtype or backend.default_dtype())
        if self.elementwise_affine:
            self.weight = Parameter(init.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if self.elementwise_affine and bias:
            self.bias = Parameter(init.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight ones, bias zeros."""
        if self.weight is not None:
            self.weight.data = init.ones(self.normalized_shape, dtype=self.weight.dtype)
        if self.bias is not None:
            self.bias.data = init.zeros(self.normalized_shape, dtype=self.bias.dtype)

    def forward(self, x):
        shape, k = np.shape(x), len(self.normalized_shape)
        if len(shape) < k or shape[len(shape) - k :] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}) expects input whose last {k} dimension(s) "
                f"are {self.normalized_shape}, got {shape}; build "
                f"LayerNorm({shape[len(shape) - k :]}) or reshape the input"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self) -> dict:
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self.bias is not None,
            "dtype": None if self.weight is None else self.weight.dtype.name,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
