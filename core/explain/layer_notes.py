"""What a layer does to the maps it is given, in words computed from the layer itself and its output.

The Filters page shows any layer's maps; the sentence under them must be about
that layer: a convolution's filters and how the maps' size changes, batch
normalisation's shift and scale, ReLU's zeros (how many, for this digit),
pooling's patches, a residual block's sum. Sizes come from the layer's input
and output shapes, never from what a typical network would do.
"""

from __future__ import annotations

import keras
import numpy as np

POOLS = {keras.layers.MaxPooling2D: ("max pooling", "the strongest response"),
         keras.layers.AveragePooling2D: ("average pooling", "the mean response")}


def _size(shape) -> str:
    """'24x24' from a (batch, h, w, channels) or (h, w, channels) shape."""
    h, w = tuple(shape)[-3:-1]
    return f"{h}x{w}"


def is_relu(layer: keras.layers.Layer) -> bool:
    """A layer whose whole job is ReLU (an Activation("relu") or a ReLU layer)."""
    return isinstance(layer, keras.layers.ReLU) or (
        isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.relu)


def inputs_of(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """The layers whose outputs this layer reads (two for a residual Add)."""
    return [node.operation for node in layer._inbound_nodes[0].parent_nodes] if layer._inbound_nodes else []


def _conv(layer: keras.layers.Conv2D) -> str:
    kh, kw = layer.kernel_size
    (before,) = inputs_of(layer) or [None]
    reads = f"all {layer.input.shape[-1]} maps of `{before.name}`" if before is not None and \
        layer.input.shape[-1] > 1 else "the input"
    text = f"A convolution: {layer.filters} filters of {kh}x{kw}, each weighing {reads} at once"
    size_in, size_out = _size(layer.input.shape), _size(layer.output.shape)
    if (kh, kw) == (1, 1):
        text += ", pixel by pixel: it mixes maps, it does not look around"
    if size_in == size_out:
        text += f"; the maps keep their {size_out} size"
        text += "." if layer.padding != "same" or (kh, kw) == (1, 1) else " (the border is padded with zeros)."
    elif layer.strides != (1, 1):
        text += f"; a stride of {layer.strides[0]} takes the maps from {size_in} to {size_out}."
    else:
        text += f"; the maps shrink from {size_in} to {size_out}, as a {kh}x{kw} filter fits " \
                f"{layer.input.shape[1] - kh + 1} times across {layer.input.shape[1]} pixels."
    if layer.activation is not keras.activations.linear:
        text += f" The layer applies {layer.activation.__name__} itself."
    return text


def note(layer: keras.layers.Layer, output: np.ndarray | None = None) -> str:
    """One or two sentences on what ``layer`` does; ``output``: its (h, w, channels) output for the digit shown."""
    if isinstance(layer, keras.layers.Conv2D):
        return _conv(layer)
    if isinstance(layer, keras.layers.BatchNormalization):
        return (f"Batch normalisation: each of the {layer.output.shape[-1]} maps of `{inputs_of(layer)[0].name}` "
                "is shifted and scaled by numbers learnt in training, so that the next layer gets values of a "
                f"steady size. The maps keep their {_size(layer.output.shape)} size and their pattern; red and "
                "blue can move, as the shift moves zero.")
    if is_relu(layer):
        zeros = f" For your digit {np.mean(np.asarray(output) == 0):.0%} of its values are 0." \
            if output is not None else ""
        return (f"ReLU: every negative value of `{inputs_of(layer)[0].name}` (blue) becomes 0 and every positive "
                f"one (red) passes unchanged; the maps keep their {_size(layer.output.shape)} size.{zeros}")
    for kind, (words, keeps) in POOLS.items():
        if isinstance(layer, kind):
            ph, pw = layer.pool_size
            return (f"{words.capitalize()}: each map shrinks from {_size(layer.input.shape)} to "
                    f"{_size(layer.output.shape)}, keeping {keeps} in every {ph}x{pw} patch. Later layers "
                    "then see larger parts of the digit at once: loops, bars, corners.")
    if isinstance(layer, keras.layers.Add):
        parts = [f"`{p.name}`" for p in inputs_of(layer)]
        return (f"A residual sum: {' and '.join(parts)} added map by map ({_size(layer.output.shape)}, "
                f"{layer.output.shape[-1]} maps). One of them is the block's input carried past its convolutions "
                "(the shortcut), so the block only learns a correction to it.")
    if isinstance(layer, keras.layers.Dense):
        return (f"A dense layer: each of its {layer.units} units weighs all {layer.input.shape[-1]} values it is "
                f"given at once, wherever they came from in the picture, then applies "
                f"{layer.activation.__name__}.")
    return f"`{layer.name}` ({type(layer).__name__}): output {tuple(layer.output.shape[1:])}."


STEPS = {keras.layers.BatchNormalization: "batch normalisation shifts and scales each map",
         keras.layers.MaxPooling2D: "max pooling keeps the strongest response of each patch",
         keras.layers.AveragePooling2D: "average pooling keeps the mean of each patch"}


def on_to_relu(model: keras.Model, name: str) -> list[str]:
    """What happens to layer ``name``'s maps until a ReLU: a phrase per layer, the ReLU last ([] when none).

    Follows the layer's only consumer, layer after layer: the first convolution of
    every network here feeds a chain (batch normalisation, pooling) that ends in ReLU.
    """
    steps, layer = [], model.get_layer(name)
    while len(layer._outbound_nodes) == 1:
        layer = layer._outbound_nodes[0].operation
        if is_relu(layer):
            return [*steps, f"ReLU (`{layer.name}`) keeps only the red"]
        words = next((w for kind, w in STEPS.items() if isinstance(layer, kind)), None)
        if words is None:
            return []
        steps.append(f"{words} (`{layer.name}`)")
    return []
