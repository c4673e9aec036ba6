"""Optimizer: the base class that owns parameters, state, clipping and the non-finite guard.

A subclass is one small update rule: ``_init_state`` makes a parameter's state on its first
step and ``_update`` changes the parameter's array in place. Everything else lives here:

- parameter groups as in PyTorch (a list of dicts, each with its own ``lr`` and so on);
- ``zero_grad``, the ``lr`` property, ``state_dict``/``load_state_dict`` with NumPy arrays and
  plain numbers only (so the state can be written to safetensors or JSON);
- Keras's ``clipvalue``, ``clipnorm`` and ``global_clipnorm`` options, applied to temporary
  arrays so ``step()`` never changes ``.grad``;
- a guard that skips the whole step, with a warning, when any gradient holds NaN or inf.
"""

import math
import warnings

import numpy as np

from nnlab.autograd.tensor import Tensor
from nnlab.nn.module import Module
from nnlab.optim import clip
from nnlab.optim.flat import FlatGroup

_NONFINITE_MODES = ("skip", "raise", "ignore")
CHUNK = 32768  # elements per slice of a chunked update: a few such arrays fit in L2 cache


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: Parameters (or a Module, whose ``parameters()`` are used), or a list of dicts
            ``{"params": [...], "lr": ...}`` giving per-group settings. None leaves the
            optimizer unbound until ``build(params)``, so it can be made before a lazily built
            model exists.
        defaults: the hyperparameters of every group that does not set its own.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        clipnorm: scale each gradient so its own norm is at most ``clipnorm`` (Keras).
        global_clipnorm: scale all gradients together so their joint norm is at most
            ``global_clipnorm`` (PyTorch ``clip_grad_norm_``). At most one of the two norms.
            With ``clipvalue`` too, values are clipped first, then norms.
        on_nonfinite: what ``step()`` does when a gradient holds NaN or inf: ``"skip"`` (warn,
            leave parameters and state unchanged; default), ``"raise"`` (FloatingPointError) or
            ``"ignore"`` (update anyway, as PyTorch does).
    """

    _n_scratch = 1  # per-parameter work arrays an update rule needs
    _scalar_state: tuple[str, ...] = ()  # state entries that are numbers, not arrays
    _chunkable = False  # True when _update is elementwise, so slices of a parameter may go alone

    def __init__(
        self,
        params,
        defaults: dict,
        *,
        clipvalue=None,
        clipnorm=None,
        global_clipnorm=None,
        on_nonfinite: str = "skip",
    ):
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(
                f"only one of clipnorm and global_clipnorm can be set, got clipnorm={clipnorm} "
                f"and global_clipnorm={global_clipnorm}: clipnorm clips each gradient by its "
                "own norm, global_clipnorm all of them by their joint norm"
            )
        if on_nonfinite not in _NONFINITE_MODES:
            raise ValueError(
                f"on_nonfinite must be one of {_NONFINITE_MODES}, got {on_nonfinite!r}"
            )
        self.defaults = dict(defaults)
        self.clipvalue = _option("clipvalue", clipvalue)
        self.clipnorm = _option("clipnorm", clipnorm)
        self.global_clipnorm = _option("global_clipnorm", global_clipnorm)
        self.on_nonfinite = on_nonfinite
        self.param_groups: list[dict] = []
        self.state: dict[Tensor, dict] = {}
        self._scratch: dict[Tensor, list] = {}
        self._flat: dict[int, FlatGroup] = {}  # id(group) -> its small parameters, packed
        self.skipped_steps = 0  # steps skipped because a gradient was not finite
        self.last_grad_norm = None  # global gradient norm of the last step, when computed
        if params is not None:
            self.build(params)

    # ---- parameters -------------------------------------------------------------------------
    def build(self, params) -> None:
        """Bind the parameters (or parameter groups) of an optimizer made with ``params=None``."""
        if self.param_groups:
            raise RuntimeError(
                f"{type(self).__name__} already has parameters; use add_param_group() to add more"
            )
        if isinstance(params, Module):
            params = params.parameters()
        if isinstance(params, Tensor):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own settings; missing ones come from defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        if isinstance(params, set):
            raise TypeError("parameters must be in an ordered collection (list), not a set")
        group["params"] = list(params if params is not None else [])
        index = len(self.param_groups)
        for k, p in enumerate(group["params"]):
            _check_param(p, index, k)
        seen = {p for g in self.param_groups for p in g["params"]}
        if len(set(group["params"])) != len(group["params"]) or seen & set(group["params"]):
            raise ValueError(f"parameter group {index} repeats a parameter; list each one once")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(
                f"parameter group {index} has unknown settings {sorted(unknown)} for "
                f"{type(self).__name__}; known: {sorted(self.defaults)}"
            )
        for name, value in self.defaults.items():
            group.setdefault(name, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``None``; or zeros when ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = np.zeros_like(p.data)

    @property
    def lr(self) -> float:
        """The learning rate of the first group; setting it sets every group's."""
        return self.param_groups[0]["lr"] if self.param_groups else self.defaults["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = float(value)
        self.defaults["lr"] = value
        for group in self.param_groups:
            group["lr"] = value

    learning_rate = lr  # the Keras name

    # ---- the step ---------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = closure() if closure is not None else None
        if not self.param_groups:
            raise RuntimeError(
                f"{type(self).__name__} has no parameters: pass them when making it or call build()"
            )
        items = [
            (p, p.grad, group)
            for group in self.param_groups
            for p in group["params"]
            if p.grad is not None
        ]
        if not items:
            return loss
        if self.on_nonfinite != "ignore" and not self._grads_finite(items):
            return loss
        grads = self._clipped([grad for _, grad, _ in items])
        small = {}  # group index -> [(param, grad)] to update together
        for (p, _, group), grad in zip(items, grads, strict=True):
            data = p.data
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = self._init_state(data, group)
            self._advance(state, group)
            if not self._chunkable:
                self._update(data, grad, state, group, self._work_arrays(p, data.shape, data.dtype))
            elif data.size >= 4 * CHUNK and data.flags.c_contiguous:
                self._update_in_chunks(p, data, grad, state, group)
            else:
                small.setdefault(id(group), (group, []))[1].append((p, grad))
        for group, members in small.values():
            self._update_together(group, members)
        return loss

    def _update_together(self, group: dict, members: list) -> None:
        """One update over the group's small parameters, packed flat (see ``optim.flat``);
        one by one when they can't share (mixed dtypes, or step counts that differ)."""
        params = [p for p, _ in members]
        flat = self._flat.get(id(group))
        if flat is None or not flat.matches(params, self.state):
            if len({p.data.dtype for p in params}) > 1:
                flat = None
            else:
                flat = self._flat[id(group)] = FlatGroup(params, self.state, self._n_scratch)
        scalars = flat.scalars(self.state) if flat is not None else None
        if scalars is not None:
            flat.run(self._update, [g for _, g in members], scalars, group)
            return
        for p, grad in members:
            tmp = self._work_arrays(p, p.data.shape, p.data.dtype)
            self._update(p.data, grad, self.state[p], group, tmp)

    def _update_in_chunks(self, p, data, grad, state, group) -> None:
        """Run the elementwise update one cache-sized slice at a time: each slice's arrays stay
        in cache across the update's passes, instead of every pass streaming all of memory.
        (Sharing the slices among threads was measured slower: the update is memory-bound.)"""
        flat_param, flat_grad = data.reshape(-1), grad.reshape(-1)
        arrays = {k: v.reshape(-1) for k, v in state.items() if isinstance(v, np.ndarray)}
        scalars = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
        tmp = self._work_arrays(p, (CHUNK,), data.dtype)
        for start in range(0, data.size, CHUNK):
            part = slice(start, start + CHUNK)
            n = min(CHUNK, data.size - start)
            chunk_state = {**scalars, **{k: v[part] for k, v in arrays.items()}}
            self._update(
                flat_param[part], flat_grad[part], chunk_state, group, [t[:n] for t in tmp]
            )

    def _advance(self, state: dict, group: dict) -> None:
        """Move the per-step scalar state (step counters) forward, once per step."""

    def _init_state(self, param: np.ndarray, group: dict) -> dict:
        """The state of one parameter before its first step."""
        return {}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict, tmp: list
    ) -> None:
        """Change ``param`` in place. ``grad`` is read-only; ``tmp`` are scratch arrays shaped
        like ``param``."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update()")

    def _work_arrays(self, p: Tensor, shape: tuple, dtype) -> list:
        # Preallocated so a step allocates nothing; remade if the parameter's array changed.
        tmp = self._scratch.get(p)
        if tmp is None or tmp[0].shape != shape or tmp[0].dtype != dtype:
            tmp = self._scratch[p] = [np.empty(shape, dtype) for _ in range(self._n_scratch)]
        return tmp

    def _grads_finite(self, items) -> bool:
        """True when every gradient is finite; otherwise warn (or raise) and count a skip."""
        with np.errstate(over="ignore", invalid="ignore"):
            # One cheap reduction per gradient: NaN and inf survive summation. Only when the
            # total is not finite (or large finite values overflowed) look element by element.
            total = sum(float(np.add.reduce(grad, axis=None)) for _, grad, _ in items)
            if math.isfinite(total):
                return True
            bad = next((p for p, grad, _ in items if not np.isfinite(grad).all()), None)
        if bad is None:
            return True
        message = (
            f"{type(self).__name__} skipped a step: the gradient of parameter "
            f"{self._param_index()[bad]} (shape {bad.shape}) contains NaN or inf, so parameters "
            "and optimizer state were left unchanged. Usual causes: learning rate too high, "
            "log(0) or division by zero in the loss (use from_logits losses), exploding "
            "gradients (set clipnorm)"
        )
        if self.on_nonfinite == "raise":
            raise FloatingPointError(message.replace("skipped a step", "cannot step"))
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        self.skipped_steps += 1
        return False

    def _clipped(self, grads: list) -> list:
        if self.clipvalue is not None:
            grads = clip.clip_by_value(grads, self.clipvalue)
        if self.clipnorm is not None:
            grads = clip.clip_by_norm(grads, self.clipnorm)
        elif self.global_clipnorm is not None:
            grads, self.last_grad_norm = clip.clip_by_global_norm(grads, self.global_clipnorm)
        return grads

    # ---- saving -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: array or number}}, "param_groups": [...]}``, copied.

        Parameters are numbered in group order, as in PyTorch; each group lists its indices
        under ``"params"``.
        """
        index = self._param_index()
        state = {}
        for p, entries in self.state.items():
            if p in index and entries:
                state[index[p]] = {
                    k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in entries.items()
                }
        groups = []
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            groups.append({**saved, "params": [index[p] for p in group["params"]]})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned (integer keys may be strings, as from JSON).

        Every problem is checked first; nothing changes unless everything fits.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state has {len(saved_groups)} parameter groups, this "
                f"{type(self).__name__} has {len(self.param_groups)}"
            )
        for k, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {k} has {len(saved['params'])} parameters in the state "
                    f"but {len(group['params'])} in this optimizer"
                )
        params = [p for g in self.param_groups for p in g["params"]]
        new_state = {}
        for key, entries in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"the state has parameter {i}, but there are {len(params)}")
            new_state[params[i]] = self._restore_entries(i, params[i], entries)
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for name, value in saved.items():
                if name != "params":
                    group[name] = tuple(value) if isinstance(value, list) else value
        self.state = new_state

    def _restore_entries(self, i: int, p: Tensor, entries: dict) -> dict:
        restored = {}
        for name, value in entries.items():
            if name in self._scalar_state:
                restored[name] = np.asarray(value).item()
                continue
            array = np.array(value, dtype=p.dtype, copy=True)
            if array.shape != p.shape:
                raise ValueError(
                    f"state {name!r} of parameter {i} has shape {array.shape}, but the "
                    f"parameter has shape {p.shape}"
                )
            restored[name] = array
        return restored

    def _param_index(self) -> dict:
        return {p: i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}

    # ---- config and printing ----------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments (hyperparameters and clipping options) as plain values."""
        config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.defaults.items()}
        config.update(
            clipvalue=self.clipvalue,
            clipnorm=self.clipnorm,
            global_clipnorm=self.global_clipnorm,
            on_nonfinite=self.on_nonfinite,
        )
        return config

    @classmethod
    def from_config(cls, config: dict, params=None) -> "Optimizer":
        return cls(params, **config)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups or [self.defaults]):
            lines.append(f"Parameter Group {k}")
            lines += [f"    {n}: {v}" for n, v in sorted(group.items()) if n != "params"]
        return "\n".join(lines + [")"])


def _check_param(p, group: int, k: int) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(
            f"optimizers optimize Tensors (Parameters); item {k} of parameter group {group} is "
            f"a {type(p).__name__}"
        )
    if p.dtype.kind != "f":
        raise TypeError(f"item {k} of parameter group {group} has dtype {p.dtype}; need float")
    if not p.is_leaf:
        raise ValueError(
            f"item {k} of parameter group {group} is the result of an operation (not a leaf); "
            "optimize the Parameters it was computed from"
        )


def _option(name: str, value):
    if value is None:
        return None
    value = float(value)
    if not value > 0:
        raise ValueError(f"{name} must be a positive number or None, got {value}")
    return value


def check_hyperparameters(**values) -> None:
    """Raise ValueError naming the first negative (or NaN) hyperparameter."""
    for name, value in values.items():
        for v in value if isinstance(value, tuple | list) else (value,):
            if not v >= 0:
                raise ValueError(f"invalid {name}: {value} (must be >= 0)")
