"""Containers: Sequential (a chain of modules), ModuleList (a registered list) and
ModuleDict (a registered dict)."""

from collections import OrderedDict

from nnlab.nn.module import Module, class_key, register, registered


def _check_module(module, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} must be a Module, got {type(module).__name__}")
    return module


def _layer_configs(named_modules) -> list:
    """[{"name", "class_name", "config"}, ...] for each (name, module)."""
    return [
        {"name": name, "class_name": class_key(type(m)), "config": m.get_config()}
        for name, m in named_modules
    ]


def _build_layers(configs) -> "OrderedDict[str, Module]":
    """Inverse of ``_layer_configs``: classes resolved only through the closed registry."""
    layers = OrderedDict()
    for i, entry in enumerate(configs):
        cls = registered(entry["class_name"])
        layers[str(entry.get("name", i))] = cls.from_config(entry["config"])
    return layers


class _IndexedContainer(Module):
    """Children held in order and addressable by position (names '0', '1', ... by default)."""

    def _position(self, index: int) -> int:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(
                f"index {index} is out of range for {type(self).__name__} of length {n}"
            )
        return index % n

    def _items(self) -> list:
        return list(self._modules.items())

    def _replace_all(self, named_modules) -> None:
        """Re-register children from scratch (after an insert or delete renumbers them)."""
        for name in list(self._modules):
            delattr(self, name)
        for name, module in named_modules:
            setattr(self, name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            # As PyTorch: the slice keeps the children's original names.
            return type(self)._from_named(self._items()[index])
        return self._items()[self._position(index)][1]

    def __setitem__(self, index: int, module) -> None:
        name = self._items()[self._position(index)][0]
        setattr(self, name, _check_module(module, f"{type(self).__name__} item {index}"))

    def __delitem__(self, index) -> None:
        items = self._items()
        del items[index if isinstance(index, slice) else self._position(index)]
        self._replace_all((str(i), m) for i, (_, m) in enumerate(items))

    def append(self, module):
        """Add ``module`` at the end, named by its position."""
        setattr(self, str(len(self)), _check_module(module, f"{type(self).__name__}.append"))
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module) -> None:
        """Insert ``module`` before position ``index``; children are renumbered."""
        modules = list(self)
        modules.insert(index, _check_module(module, f"{type(self).__name__}.insert"))
        self._replace_all((str(i), m) for i, m in enumerate(modules))

    @classmethod
    def _from_named(cls, named_modules):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"layers": _layer_configs(self._modules.items())}

    @classmethod
    def from_config(cls, config: dict):
        return cls._from_named(_build_layers(config["layers"]).items())


@register
class Sequential(_IndexedContainer):
    """Call modules one after another: ``Sequential(a, b)(x) == b(a(x))``.

    Args:
        *modules: the modules, named '0', '1', ... in ``state_dict`` (as PyTorch); or a
            single ``OrderedDict`` of name -> module.

    Shape:
        whatever the first module accepts -> whatever the last returns.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = modules[0].items()
        else:
            named = ((str(i), m) for i, m in enumerate(modules))
        for name, module in named:
            setattr(self, name, _check_module(module, f"Sequential item {name!r}"))

    @classmethod
    def _from_named(cls, named_modules):
        return cls(OrderedDict(named_modules))

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


@register
class ModuleList(_IndexedContainer):
    """A list of modules whose parameters are registered (names '0', '1', ...).

    Args:
        modules: an iterable of modules (optional).
    """

    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or ())

    @classmethod
    def _from_named(cls, named_modules):
        return cls(m for _, m in named_modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList has no forward(): iterate over it and call each module, or use Sequential"
        )


@register
class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys (``torch.nn.
    ModuleDict``): ``blocks["encoder"]``, ``for name in blocks``, ``blocks.items()``.

    Args:
        modules: a mapping (or iterable of pairs) of name -> module, kept in order (optional).
    """

    def __init__(self, modules=None):
        super().__init__()
        self.update(modules or {})

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module) -> None:
        if not isinstance(key, str) or not key.isidentifier():
            raise KeyError(f"ModuleDict keys must be identifiers (strings), got {key!r}")
        setattr(self, key, _check_module(module, f"ModuleDict[{key!r}]"))

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def get_config(self) -> dict:
        return {"layers": _layer_configs(self._modules.items())}

    @classmethod
    def from_config(cls, config: dict):
        return cls(_build_layers(config["layers"]))

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleDict has no forward(): call the modules it holds, e.g. blocks['encoder'](x)"
        )
