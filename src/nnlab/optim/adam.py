"""Adam (with the AMSGrad variant) and AdamW (Adam with decoupled weight decay)."""

import math

import numpy as np

from nnlab.optim.optimizer import Optimizer, check_hyperparameters


class Adam(Optimizer):
    """Adam (``torch.optim.Adam``; Kingma and Ba 2014), AMSGrad (Reddi et al. 2018).

    Algorithm, per parameter ``p`` with gradient ``g`` (``m``, ``v``, ``v_max`` start at 0)::

        t = t + 1
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)    if decoupled_weight_decay (AdamW)
            g = g + weight_decay * p           otherwise
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        if amsgrad:  v_max = max(v_max, v);  v_hat = v_max   else  v_hat = v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters or parameter groups (see ``Optimizer``).
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty (added to the gradient, or decoupled, see below).
        amsgrad: use the running maximum of the second moment (AMSGrad).
        decoupled_weight_decay: shrink the weights directly instead of adding to the gradient
            (this is AdamW).
        **options: ``clipvalue``, ``clipnorm``, ``global_clipnorm``, ``on_nonfinite``.

    State: ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsgrad).
    """

    _n_scratch = 2
    _chunkable = True
    _scalar_state = ("step",)

    def __init__(
        self,
        params=None,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        decoupled_weight_decay: bool = False,
        **options,
    ):
        betas = _betas(betas)
        check_hyperparameters(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults, **options)

    def _init_state(self, param, group):
        state = {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _advance(self, state, group):
        state["step"] += 1

    def _update(self, param, grad, state, group, tmp):
        t, denom = tmp
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        step = state["step"]
        d = grad
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                d = np.add(grad, np.multiply(param, wd, out=t), out=t)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += np.multiply(np.subtract(d, exp_avg, out=denom), 1 - beta1, out=denom)
        exp_avg_sq *= beta2
        exp_avg_sq += np.multiply(np.multiply(d, 1 - beta2, out=denom), d, out=denom)
        second = exp_avg_sq
        if group["amsgrad"]:
            second = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        # lr/c1 * m / (sqrt(v)/c2 + eps) == (lr*c2/c1) * m / (sqrt(v) + eps*c2): the bias
        # corrections fold into two scalars, one pass over the parameter fewer.
        root_correction = math.sqrt(1 - beta2**step)
        np.sqrt(second, out=denom)
        denom += group["eps"] * root_correction
        np.divide(exp_avg, denom, out=t)
        t *= lr * root_correction / (1 - beta1**step)
        param -= t


class AdamW(Adam):
    """AdamW (``torch.optim.AdamW``; Loshchilov and Hutter 2019): Adam whose weight decay
    shrinks the weights directly, ``p = p * (1 - lr * weight_decay)``, before the Adam step.

    Same arguments as ``Adam`` except ``weight_decay`` defaults to 0.01 and the decay is always
    decoupled.
    """

    def __init__(
        self,
        params=None,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        **options,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True, **options
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["decoupled_weight_decay"]  # fixed for AdamW, not an argument
        return config


def _betas(betas) -> tuple:
    betas = tuple(float(b) for b in betas)
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
    return betas
