"""Sequential: a Model that is a plain stack of layers (Keras-style or PyTorch-style)."""

from nnlab.nn.module import Module, class_key, register, registered
from nnlab.training.model import Model


@register
class Sequential(Model):
    """A linear stack of layers, each fed the previous one's output.

    Layers are registered as children ``0``, ``1``, ... (as ``torch.nn.Sequential``), so
    weights keep their names whatever the layers are called.

    Args:
        layers: the layers, Keras-style (``layers.Dense``) or PyTorch-style (``nn.Linear``).
        input_shape: optional shape of one sample; builds the model at once.
        name, seed: see ``Model``.
    """

    def __init__(self, layers=None, input_shape=None, name=None, seed=None):
        super().__init__(name=name or "sequential", seed=seed)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        for layer in layers or []:
            self.add(layer)
        if input_shape is not None:
            self.build(self.input_shape)

    @property
    def layers(self) -> list:
        return list(self._modules.values())

    def add(self, layer: Module) -> None:
        """Append a layer (the model must be rebuilt if it was built)."""
        if not isinstance(layer, Module):
            raise TypeError(
                f"Sequential layers must be nnlab layers or modules, got {type(layer).__name__}"
            )
        setattr(self, str(len(self._modules)), layer)
        self.built = False

    def pop(self) -> Module:
        """Remove and return the last layer (the model must be rebuilt if it was built)."""
        if not self._modules:
            raise IndexError(f"Sequential '{self.name}' has no layers to pop")
        layer = self._modules[str(len(self._modules) - 1)]
        delattr(self, str(len(self._modules) - 1))
        self.built = False
        return layer

    def get_layer(self, name=None, index=None) -> Module:
        """The layer called ``name`` or at position ``index`` (Keras's ``get_layer``)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name or index")
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if getattr(layer, "name", None) == name:
                return layer
        known = [getattr(layer, "name", type(layer).__name__) for layer in layers]
        raise ValueError(f"Sequential '{self.name}' has no layer named {name!r}; it has {known}")

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "layers": [
                {"class_name": class_key(type(layer)), "config": layer.get_config()}
                for layer in self._modules.values()
            ],
        }

    @classmethod
    def from_config(cls, config: dict) -> "Sequential":
        layers = [
            registered(item["class_name"]).from_config(item["config"]) for item in config["layers"]
        ]
        shape = config.get("input_shape")
        return cls(layers, input_shape=shape, name=config.get("name"))
