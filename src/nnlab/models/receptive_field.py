"""Receptive fields of a convolutional stack, layer by layer.

For each spatial layer with kernel k, stride s, left padding p and dilation d (effective
kernel k_e = d (k - 1) + 1), the standard recurrence over the input of size n, jump j (the
distance in input pixels between neighbouring features), receptive field r and start c
(the input coordinate of the centre of the first feature's field):

    n_out = floor((n_in + p_total - k_e) / s) + 1
    j_out = j_in * s
    r_out = r_in + (k_e - 1) * j_in
    c_out = c_in + ((k_e - 1) / 2 - p) * j_in

starting from n = input size, j = 1, r = 1, c = 0 (pixel indices). Each axis (height,
width) is computed on its own. Layers that keep every position (activations, batch norm,
dropout) do not change the field and get no row; zero padding is a 1x1 kernel with padding;
layers that see the whole input (Flatten, Dense, global or adaptive pooling) end the table
with a field covering the whole input. Upsampling and transposed convolutions are refused.
"""

import math
from dataclasses import dataclass

_GLOBAL_WORDS = ("Global", "Adaptive", "Flatten", "Dense", "Linear")
_UPSAMPLING_WORDS = ("Transpose", "Upsampl", "UpSampling")


@dataclass(frozen=True)
class LayerField:
    """One row of a receptive-field table; every spatial value is a (height, width) pair.

    ``padding`` is the padding before the first row/column (the left/top padding).
    """

    name: str
    kind: str
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    size: tuple
    jump: tuple
    field: tuple
    start: tuple


class ReceptiveFieldTable:
    """The rows of ``receptive_field``; ``str(table)`` is a plain-text table."""

    def __init__(self, rows: list, input_shape: tuple):
        self.rows = list(rows)
        self.input_shape = tuple(input_shape)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index) -> LayerField:
        return self.rows[index]

    @property
    def final(self) -> LayerField:
        return self.rows[-1]

    def to_text(self) -> str:
        header = ["layer", "type", "kernel", "stride", "pad", "dilation", "output", "jump"]
        header += ["receptive field", "start"]
        numbers = ("kernel", "stride", "padding", "dilation", "size", "jump", "field", "start")
        body = [[r.name, r.kind, *(_pair(getattr(r, k)) for k in numbers)] for r in self.rows]
        widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
        lines = ["  ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=True)) for row in body]
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self) -> str:
        return self.to_text()


def _pair(value) -> str:
    a, b = value
    text = [f"{v:g}" if isinstance(v, float) else str(v) for v in (a, b)]
    return text[0] if a == b else f"{text[0]}x{text[1]}"


def _as_pair(value, what: str) -> tuple:
    if isinstance(value, int | float):
        return (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"{what} must be an int or a (height, width) pair, got {value!r}")
    return value


def receptive_field(model_or_specs, input_shape) -> ReceptiveFieldTable:
    """Receptive field, jump and output size after every spatial layer.

    Args:
        model_or_specs: a model or module whose children are the layers in order
            (``Sequential``, ``nn.Sequential``; a child with ``receptive_field_specs()``,
            such as ``ResidualBlock``, contributes its own rows), or a list of layer specs:
            dicts with 'kernel' and optional 'stride' (default 1; a pool's: its kernel),
            'padding' (int, pair, 'valid', 'same' or a (before, after) pair per axis;
            default 0), 'dilation' (default 1), 'name', 'kind' ('conv', 'pool', or 'global'
            for a layer that sees everything).
        input_shape: the input's (H, W), (C, H, W) or (N, C, H, W); the last two are used.

    Returns:
        A ``ReceptiveFieldTable``: the 'input' row, then one row per spatial layer.
    """
    height, width = tuple(input_shape)[-2:]
    specs = _specs_of(model_or_specs)
    ones = (1, 1)
    rows = [
        LayerField("input", "input", ones, ones, (0, 0), ones, (height, width), ones, ones, (0, 0))
    ]
    for spec in specs:
        rows.append(_next_row(rows[-1], spec, (height, width)))
        if spec.get("kind") == "global":
            break
    return ReceptiveFieldTable(rows, (height, width))


def _next_row(prev: LayerField, spec: dict, input_size: tuple) -> LayerField:
    name, kind = spec.get("name", spec.get("kind", "layer")), spec.get("kind", "conv")
    if kind == "global":
        centre = tuple((n - 1) / 2 for n in input_size)
        jump = tuple(j * n for j, n in zip(prev.jump, prev.size, strict=True))
        # one window over the whole remaining map: the recurrence would give less than the
        # input when earlier layers dropped border pixels, but a global layer sees them all
        return LayerField(
            name, kind, prev.size, prev.size, (0, 0), (1, 1), (1, 1), jump, input_size, centre
        )
    kernel = _as_pair(spec["kernel"], "kernel")
    default_stride = kernel if kind == "pool" else 1  # pooling windows tile by default
    stride = _as_pair(spec.get("stride") or default_stride, "stride")
    dilation = _as_pair(spec.get("dilation", 1), "dilation")
    columns = []
    for axis in range(2):
        k, s, d = kernel[axis], stride[axis], dilation[axis]
        n, j, r, c = prev.size[axis], prev.jump[axis], prev.field[axis], prev.start[axis]
        k_eff = d * (k - 1) + 1
        left, total = _padding(spec.get("padding", 0), axis, n, k_eff, s)
        n_out = (n + total - k_eff) // s + 1
        if n_out < 1:
            raise ValueError(
                f"layer {name!r}: kernel {k} (dilation {d}) does not fit an input of size {n} "
                f"with padding {total}"
            )
        start = c + ((k_eff - 1) / 2 - left) * j
        start = int(start) if float(start).is_integer() else start
        columns.append((k, s, left, d, n_out, j * s, r + (k_eff - 1) * j, start))
    return LayerField(name, kind, *(tuple(values) for values in zip(*columns, strict=True)))


def _padding(padding, axis: int, n: int, k_eff: int, s: int) -> tuple:
    """(left, total) padding along ``axis``; 'same' as Keras: ceil(n / s) outputs, the odd
    pixel of padding at the end."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            total = max((math.ceil(n / s) - 1) * s + k_eff - n, 0)
            return total // 2, total
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    pad = _as_pair(padding, "padding")[axis]
    if isinstance(pad, int | float):
        return pad, 2 * pad
    before, after = pad  # an explicit (before, after) pair
    return before, before + after


# ---- layers of a model as specs --------------------------------------------------------------


def _specs_of(model_or_specs) -> list:
    if isinstance(model_or_specs, list | tuple):
        return [_check_spec(spec) for spec in model_or_specs]
    return layer_specs(model_or_specs)


def _check_spec(spec) -> dict:
    if not isinstance(spec, dict) or ("kernel" not in spec and spec.get("kind") != "global"):
        raise ValueError(f"a layer spec is a dict with at least 'kernel', got {spec!r}")
    return spec


def layer_specs(model) -> list:
    """The spatial layers of ``model`` (its children, in order) as receptive-field specs."""
    specs = []
    for name, layer in model.named_children():
        spec = layer_spec(layer, getattr(layer, "name", name))
        if isinstance(spec, list):
            specs += spec
        elif spec is not None:
            specs.append(spec)
        if specs and specs[-1].get("kind") == "global":
            break
    return specs


def layer_spec(layer, name: str):
    """One layer's spec (None for a layer that keeps every position)."""
    if hasattr(layer, "receptive_field_specs"):
        return layer.receptive_field_specs()
    kind = type(layer).__name__
    if any(word in kind for word in _GLOBAL_WORDS):
        return {"name": name, "kind": "global"}
    if any(word in kind for word in _UPSAMPLING_WORDS):
        raise ValueError(
            f"receptive_field follows downsampling stacks only; {kind} {name!r} upsamples"
        )
    if "ZeroPadding" in kind:  # Keras's ((top, bottom), (left, right))
        return {"name": name, "kind": "pad", "kernel": 1, "padding": layer.padding}
    if hasattr(layer, "pool_size") or "Pool" in kind:
        kernel = getattr(layer, "pool_size", None) or layer.kernel_size
        stride = _first(layer, ("strides", "stride"))
        return {
            "name": name,
            "kind": "pool",
            "kernel": kernel,
            "stride": stride if stride is not None else kernel,
            "padding": getattr(layer, "padding", 0),
            "dilation": getattr(layer, "dilation", 1),
        }
    if hasattr(layer, "kernel_size"):
        return {
            "name": name,
            "kind": "conv",
            "kernel": layer.kernel_size,
            "stride": _first(layer, ("strides", "stride"), 1),
            "padding": getattr(layer, "padding", 0),
            "dilation": _first(layer, ("dilation_rate", "dilation"), 1),
        }
    return None


def _first(layer, names, default=None):
    for name in names:
        value = getattr(layer, name, None)
        if value is not None:
            return value
    return default
