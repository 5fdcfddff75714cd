"""Looking inside a network: first-layer filters, feature maps of any layer, dense templates.

A conv layer's output is the input cross-correlated with each filter, plus a
bias, through the activation. ``filter2d`` computes exactly that with plain
NumPy/SciPy, so a student can check the network's first feature maps against
the textbook operation (report 002 did it with OpenCV's ``filter2D``).
Feature-map sub-models are plain Keras models from the input to the chosen
layers' outputs; build them once and reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import keras
import numpy as np
from scipy import signal

from core.images import preprocess

# Layers whose outputs are worth showing as maps, in the order the input flows through them.
MAP_LAYERS = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D,
              keras.layers.Activation, keras.layers.ReLU, keras.layers.BatchNormalization, keras.layers.Add)


@dataclass(frozen=True)
class LayerInfo:
    """A layer with 2-D maps: its name, its kind (class name), output shape (h, w, channels), parameters."""

    name: str
    kind: str
    output_shape: tuple
    params: int


def conv_layers(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers, input first."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def map_layers(model: keras.Model) -> list[LayerInfo]:
    """Every layer with 2-D feature maps (conv, pooling, activation, ...), with its output shape and parameters."""
    out = []
    for layer in model.layers:
        if isinstance(layer, MAP_LAYERS) and len(layer.output.shape) == 4:
            out.append(LayerInfo(layer.name, type(layer).__name__, tuple(layer.output.shape[1:]),
                                 int(layer.count_params())))
    return out


def flow_layers(model: keras.Model, max_layers: int = 12) -> list[LayerInfo]:
    """The layers for a strip of small pictures from the input to the answer.

    Convolutions and poolings tell the story of a plain ConvNet. In a ResNet
    each block's output (its Add) does, after the stem's convolution; the
    convolutions inside the blocks would crowd the strip. Too many layers are
    thinned evenly, always keeping the first and the last.
    """
    infos = map_layers(model)
    blocks = any(i.kind == "Add" for i in infos)
    first_conv = next((i for i in infos if i.kind == "Conv2D"), None)
    keep = [i for i in infos if i.kind in ("MaxPooling2D", "AveragePooling2D", "Add")
            or (i.kind == "Conv2D" and (not blocks or i is first_conv))]
    if len(keep) > max_layers:
        keep = [keep[j] for j in sorted(set(np.linspace(0, len(keep) - 1, max_layers).round().astype(int)))]
    return keep


class FirstLayer(NamedTuple):
    """The first conv layer: filters (n, kh, kw) for a one-channel input, biases (n,), name, padding."""

    filters: np.ndarray
    bias: np.ndarray
    name: str
    padding: str  # "valid" or "same", as the layer slides its filters
    relu: bool = False  # the layer applies ReLU itself (most here leave it to a later layer)


def first_layer_filters(model: keras.Model) -> FirstLayer:
    """The first conv layer's filters, biases, name and padding."""
    names = conv_layers(model)
    if not names:
        raise ValueError(f"{model.name} has no convolution layer")
    layer = model.get_layer(names[0])
    kernel = np.asarray(layer.kernel)  # (kh, kw, in, out)
    bias = np.asarray(layer.bias) if layer.use_bias else np.zeros(kernel.shape[-1], np.float32)
    relu = layer.activation is keras.activations.relu
    return FirstLayer(np.transpose(kernel[:, :, 0, :], (2, 0, 1)), bias, layer.name, layer.padding, relu)


def feature_model(model: keras.Model, layer_names: list[str]) -> keras.Model:
    """A sub-model from the input to the named layers' outputs (build once, call per drawing)."""
    outputs = [model.get_layer(n).output for n in layer_names]
    return keras.Model(model.input, outputs, name=f"{model.name}_features")


def feature_maps(sub_model: keras.Model, image: np.ndarray) -> list[np.ndarray]:
    """Each output of ``sub_model`` for one (28, 28) image, as (h, w, channels) arrays."""
    outs = sub_model(np.asarray(image, np.float32).reshape(1, 28, 28, 1), training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return [np.asarray(o)[0] for o in outs]


def strongest_map(maps: np.ndarray) -> np.ndarray:
    """The one map of a layer's (h, w, channels) output with the largest mean activation, scaled to [0, 1].

    One picture per layer is enough to follow a digit from input to answer; the
    most active channel is the one that responds most to this input.
    """
    maps = np.asarray(maps)
    best = maps[..., int(maps.reshape(-1, maps.shape[-1]).mean(axis=0).argmax())]
    peak = float(best.max())
    return np.clip(best / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(best)


def filter2d(image: np.ndarray, kernel: np.ndarray, bias: float = 0.0, relu: bool = False,
             padding: str = "valid") -> np.ndarray:
    """Plain 2-D filtering as a conv layer does it: cross-correlation plus bias, optionally ReLU.

    ``padding="valid"`` keeps only the places where the whole filter fits (a smaller map);
    ``"same"`` pads the image with zeros so the map keeps its size (odd-sized filters).
    """
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
    out = signal.correlate2d(np.asarray(image, np.float64), kernel, mode=padding) + bias
    return np.maximum(out, 0.0) if relu else out


class FirstLayerMaps(NamedTuple):
    """The first layer's maps two ways, each (n, h, w), and the largest difference between them."""

    network: np.ndarray  # the layer's real output
    by_hand: np.ndarray  # filter2d of the input with each filter, plus its bias (and ReLU if the layer has it)
    largest_difference: float


def first_layer_maps(first: FirstLayer, layer_output: np.ndarray, image: np.ndarray) -> FirstLayerMaps:
    """Put the first conv layer's output (h, w, n) beside the same filters applied by hand to ``image``."""
    network = np.transpose(np.asarray(layer_output), (2, 0, 1))
    by_hand = np.stack([filter2d(image, k, b, relu=first.relu, padding=first.padding)
                        for k, b in zip(first.filters, first.bias)])
    return FirstLayerMaps(network, by_hand, float(np.abs(by_hand - network).max()))


def dense_templates(model: keras.Model) -> np.ndarray | None:
    """The first dense layer's weights as (units, 28, 28) images, when it reads the raw pixels; else None."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            return None
        if isinstance(layer, keras.layers.Dense):
            w = np.asarray(layer.kernel)
            side = preprocess.FRAME
            return w.T.reshape(-1, side, side) if w.shape[0] == side * side else None
    return None


def upsample_nearest(maps: np.ndarray, h: int, w: int) -> np.ndarray:
    """(n, kh, kw) small maps (filters) enlarged to (n, h, w) by repeating pixels, to sit beside their outputs."""
    maps = np.asarray(maps)
    rows = np.arange(h) * maps.shape[1] // h
    cols = np.arange(w) * maps.shape[2] // w
    return maps[:, rows][:, :, cols]


def tile(maps: np.ndarray, cols: int, normalise: bool = False) -> np.ndarray:
    """Lay (n, h, w) maps out in a grid with ``cols`` columns, one NaN pixel between them.

    ``normalise`` scales each map to its own [-1, 1] (by its largest absolute
    value), for a per-map colour scale; otherwise values are kept, for a shared one.
    """
    maps = np.asarray(maps, np.float64)
    if normalise:
        peak = np.abs(maps).reshape(len(maps), -1).max(axis=1)
        maps = maps / np.where(peak > 0, peak, 1.0)[:, None, None]
    n, h, w = maps.shape
    rows = -(-n // cols)
    grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = maps[k]
    return grid
