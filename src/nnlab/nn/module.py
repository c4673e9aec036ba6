"""Module and Parameter: the PyTorch-style container for parameters, buffers and sub-modules.

Attributes register themselves by assignment: a Parameter becomes a parameter, a Module a
sub-module, and ``register_buffer`` adds state (BatchNorm's running statistics) that is saved
but not trained. Names in ``state_dict`` are dotted paths, as in PyTorch.
"""

import contextlib
from collections import OrderedDict

import numpy as np

from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor

_REGISTRY: dict[str, type] = {}


class Parameter(Tensor):
    """A Tensor that a Module trains: ``requires_grad`` is True by default."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def class_key(cls) -> str:
    """The name a config uses for ``cls``: its nnlab sub-package and class name, e.g.
    ``nn.Dropout`` or ``layers.Dropout`` (both front doors have a Dropout)."""
    parts = cls.__module__.split(".")
    namespace = parts[1] if len(parts) > 1 and parts[0] == "nnlab" else parts[0]
    return f"{namespace}.{cls.__name__}"


def register(cls):
    """Class decorator: make ``cls`` loadable by name from a saved config."""
    _REGISTRY[class_key(cls)] = cls
    return cls


def registered(name: str) -> type:
    """The registered class called ``name`` (``nn.Linear``, or ``Linear`` when unambiguous);
    a clear error for anything else."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    matches = [cls for key, cls in _REGISTRY.items() if key.split(".", 1)[1] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        options = sorted(k for k in _REGISTRY if k.endswith("." + name))
        raise ValueError(f"class name {name!r} is ambiguous in a config: use one of {options}")
    raise ValueError(f"unknown layer class {name!r} in config; known classes: {sorted(_REGISTRY)}")


def module_config(module) -> dict:
    """``{"class_name", "config"}`` of a registered module: how a container saves a part."""
    return {"class_name": class_key(type(module)), "config": module.get_config()}


def module_from_config(entry: dict):
    """The module ``module_config`` described, rebuilt through the closed registry."""
    return registered(entry["class_name"]).from_config(entry["config"])


class HookHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key):
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        self.hooks.pop(self.key, None)


class Module:
    """Base class of every layer and model.

    Subclasses assign Parameters and Modules as attributes in ``__init__`` and define
    ``forward``; calling the module calls ``forward``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_hooks", {})

    # ---- registration -----------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() runs: call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._buffers or (name in self._parameters and value is None):
            # Reassigning a buffer (or clearing a parameter) keeps it registered.
            (self._buffers if name in self._buffers else self._parameters)[name] = value
        else:
            self._forget(name)
        object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)

    def __delattr__(self, name):
        self._forget(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array) -> None:
        """Add non-trained state (a NumPy array, or None) saved in ``state_dict``."""
        if name not in self._buffers:
            self._forget(name)
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter, or declare an absent one (``None``, e.g. ``bias=False``)."""
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    # ---- traversal --------------------------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix: str = ""):
        """(dotted name, Parameter) for every parameter, each shared one once."""
        seen = set()
        for path, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{path}.{name}" if path else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        for path, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{path}.{name}" if path else name), b

    @property
    def losses(self) -> list:
        """Penalty terms (weight and activity regularizers) of this module and its children,
        as scalar Tensors to add to the training loss (Keras's ``layer.losses``)."""
        return [loss for module in self.modules() for loss in module.own_losses()]

    def own_losses(self) -> list:
        """This module's own penalty terms; layers with regularizers override it."""
        return []

    # ---- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, children before their parent and this
        module last (PyTorch's order), e.g. ``model.apply(init_weights)``; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True):
        """Freeze (False) or unfreeze every parameter: a frozen one gets no gradient and no
        optimizer update. Returns self."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def to_dtype(self, dtype):
        """Cast every parameter and float buffer to ``dtype`` in place (e.g. float64 for
        gradient checks)."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None:
                    p.data = p.data.astype(dtype)
                    p.grad = None
            for name, b in list(module._buffers.items()):
                if b is not None and b.dtype.kind == "f":
                    setattr(module, name, b.astype(dtype))
        return self

    def double(self):
        return self.to_dtype(np.float64)

    def float(self):
        return self.to_dtype(np.float32)

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every parameter and buffer as a NumPy array (copies), keyed by dotted name, module
        by module (each one's parameters, then its buffers) as PyTorch orders them. A module
        used in two places appears under both names, so the state loads back."""
        return OrderedDict(
            (key, np.array(array, copy=True))
            for key, (_, _, array) in self._state_targets().items()
        )

    def get_weights(self) -> list:
        """Every parameter and buffer as a list of arrays (copies), in ``state_dict`` order:
        Keras's ``get_weights``. Layouts are nnlab's (PyTorch's), e.g. a Dense weight is
        (units, in_features); ``set_weights`` takes the list back."""
        return list(self.state_dict().values())

    def set_weights(self, weights) -> None:
        """Load a list of arrays in ``get_weights`` order (Keras's ``set_weights``); the count
        and every shape must match, and a mismatch names the weight."""
        names = list(self._state_targets())
        weights = list(weights)
        if len(weights) != len(names):
            raise ValueError(
                f"{type(self).__name__}.set_weights got {len(weights)} arrays for "
                f"{len(names)} weights ({', '.join(names)})"
            )
        self.load_state_dict(dict(zip(names, weights, strict=True)))

    def count_params(self) -> int:
        """How many numbers the model learns or keeps: parameters plus float buffers (such as
        BatchNorm's running statistics), as Keras counts. Raises while lazily built layers
        have not seen an input yet (their size is unknown)."""
        unbuilt = [m for m in self.modules() if getattr(m, "built", True) is False]
        if unbuilt:
            raise ValueError(
                f"{type(self).__name__}.count_params: {type(unbuilt[0]).__name__} is not built "
                "yet, so its size is unknown; call the model on a batch or build(input_shape)"
            )
        params = sum(p.size for p in self.parameters())
        return params + sum(np.size(b) for _, b in self.named_buffers() if b.dtype.kind == "f")

    def load_state_dict(self, state: dict, strict: bool = True):
        """Copy arrays (or Tensors) from ``state`` into this module's parameters and buffers.

        Every problem is reported at once: missing and unexpected keys (when ``strict``) and
        shape mismatches, each by name. Nothing is changed unless everything fits.
        Returns (missing_keys, unexpected_keys).
        """
        targets = self._state_targets()
        arrays = {k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state.items()}
        missing = [k for k in targets if k not in arrays]
        unexpected = [k for k in arrays if k not in targets]
        errors = [
            f"size mismatch for {k}: copying a param with shape {arrays[k].shape}, "
            f"the shape in current model is {targets[k][2].shape}"
            for k in targets
            if k in arrays and arrays[k].shape != targets[k][2].shape
        ]
        if strict:
            errors += [f'Missing key(s) in state_dict: "{k}"' for k in missing]
            errors += [f'Unexpected key(s) in state_dict: "{k}"' for k in unexpected]
        if errors:
            raise ValueError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for key, (module, name, current) in targets.items():
            if key in arrays:
                value = arrays[key].astype(current.dtype, copy=True)
                if name in module._parameters:
                    module._parameters[name].data = value
                else:
                    setattr(module, name, value)
        return missing, unexpected

    def _state_targets(self) -> dict:
        """dotted name -> (owning module, attribute name, current array)."""
        targets = {}
        for path, module in self.named_modules():
            prefix = f"{path}." if path else ""
            for name, p in module._parameters.items():
                if p is not None:
                    targets.setdefault(prefix + name, (module, name, p.data))
            for name, b in module._buffers.items():
                if b is not None:
                    targets[prefix + name] = (module, name, np.asarray(b))
        return targets

    # ---- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments that rebuild this module (JSON-serialisable)."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_config()")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # ---- calling and printing ---------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                hook(self, args, out)
        return out

    def register_forward_hook(self, hook) -> "HookHandle":
        """Call ``hook(module, inputs, output)`` after every forward; returns a handle whose
        ``remove()`` unregisters it (as PyTorch)."""
        key = object()
        self._forward_hooks[key] = hook
        return HookHandle(self._forward_hooks, key)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(children) + "\n)" if children else ")")


@contextlib.contextmanager
def evaluating(model):
    """Inside the block: ``model`` in eval mode (dropout off, batch norm on its running
    statistics) and no gradients recorded; its previous mode is restored after, even on an
    error. Objects without train/eval (plain scoring functions) only get ``no_grad``."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            yield
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
