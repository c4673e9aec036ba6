"""``Model.summary()``: each layer, its output shape and its parameter count, as Keras prints."""

import numpy as np


def _count(module) -> tuple:
    """(trainable, non-trainable) sizes; like Keras, buffers such as BatchNorm's moving
    statistics count as non-trainable."""
    trainable = sum(p.size for p in module.parameters() if p.requires_grad)
    frozen = sum(p.size for p in module.parameters() if not p.requires_grad)
    frozen += sum(np.size(b) for _, b in module.named_buffers() if np.asarray(b).dtype.kind == "f")
    return trainable, frozen


def summary_text(model) -> str:
    """The summary table of ``model``; output shapes need the model built (or Sequential
    with an input shape) and are recorded by one inference pass over a zero sample."""
    shapes = _output_shapes(model)
    rows = []
    for name, layer in model.named_children():
        label = f"{getattr(layer, 'name', name)} ({type(layer).__name__})"
        shape = shapes.get(id(layer), "?")
        rows.append((label, shape, sum(_count(layer))))
    trainable, frozen = _count(model)
    width = max([len(r[0]) for r in rows] + [20]) + 2
    lines = [f'Model: "{getattr(model, "name", type(model).__name__)}"']
    rule = "-" * (width + 38)
    lines += [rule, f"{'Layer (type)':{width}s}{'Output Shape':26s}{'Param #':>12s}", rule]
    lines += [f"{label:{width}s}{str(shape):26s}{n:>12,d}" for label, shape, n in rows]
    lines += [
        rule,
        f"Total params: {trainable + frozen:,d}",
        f"Trainable params: {trainable:,d}",
        f"Non-trainable params: {frozen:,d}",
    ]
    return "\n".join(lines)


def _output_shapes(model) -> dict:
    """id(child) -> its output shape with the batch axis shown as None."""
    sample = getattr(model, "_build_sample", None)
    if sample is None and getattr(model, "input_shape", None) is not None:
        sample = np.zeros((1, *model.input_shape), np.float32)
    if sample is None:
        return {}
    shapes, handles = {}, []
    for child in model.children():
        handles.append(child.register_forward_hook(_recorder(shapes)))
    try:
        model._build_from(sample)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _recorder(shapes: dict):
    def hook(module, inputs, output):
        shapes[id(module)] = (None, *output.shape[1:])

    return hook
