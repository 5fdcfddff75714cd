"""Where a network looked: Grad-CAM and integrated gradients for one image.

- **Grad-CAM** (Selvaraju et al., 2017) weighs the last convolution layer's maps
  by how much the class score grows with each of them, keeps the positive part
  and scales it up to the picture: a coarse "where", for conv networks only.
- **Integrated gradients** (Sundararajan et al., 2017) adds up the gradient of the
  class probability along a straight path from a blank picture to the drawing,
  times the pixel change: a per-pixel "how much", for any network (the DNN too),
  whose attributions add up to f(drawing) - f(blank) ("completeness").

Both take the same (28, 28) float image in [0, 1] that ``core.images.preprocess`` makes.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from core.nets.heads import HEAD

SPATIAL = (keras.layers.Conv2D, keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.Add)


def last_conv_layer(model: keras.Model) -> str | None:
    """The last convolution stage's output: the last layer with maps (a conv, its norm, activation or a
    residual sum), before pooling flattens them; None for a network without convolutions (the DNN)."""
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
        return None
    for layer in reversed(model.layers):
        if isinstance(layer, SPATIAL) and len(layer.output.shape) == 4:
            return layer.name
    return None


def _logits(model: keras.Model, features: tf.Tensor) -> tf.Tensor:
    """The class scores before the softmax, from the head's input (Grad-CAM's y^c)."""
    head = model.get_layer(HEAD)
    return tf.matmul(tf.cast(features, tf.float32), head.kernel) + head.bias


def grad_cam_model(model: keras.Model, layer: str | None = None) -> keras.Model | None:
    """A model that returns (the conv layer's maps, the head's input); build once per network and reuse."""
    layer = layer or last_conv_layer(model)
    if layer is None:
        return None
    return keras.Model(model.inputs[0], [model.get_layer(layer).output, model.get_layer(HEAD).input])


_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compile(model: keras.Model, key: str, build):
    """One traced TensorFlow function per model and purpose: eager gradients cost a page a stroke's time."""
    fns = _compiled.setdefault(model, {})
    if key not in fns:
        fns[key] = tf.function(build(), reduce_retracing=True)
    return fns[key]


def grad_cam(model: keras.Model, cam_model: keras.Model, image: np.ndarray, class_index: int) -> np.ndarray:
    """Grad-CAM heat map of ``class_index`` over the image: (h, w) in [0, 1] at the input's size."""
    def build():
        def cam_of(x, c):
            with tf.GradientTape() as tape:
                maps, features = cam_model(x, training=False)
                score = _logits(model, features)[0, c]
            weights = tf.reduce_mean(tape.gradient(score, maps)[0], axis=(0, 1))
            cam = tf.nn.relu(tf.reduce_sum(maps[0] * weights, axis=-1))
            return tf.image.resize(cam[..., None], model.input_shape[1:3], method="bilinear")[..., 0]
        return cam_of

    x = tf.constant(np.asarray(image, np.float32).reshape(1, *model.input_shape[1:]))
    cam = _compile(model, f"cam:{id(cam_model)}", build)(x, tf.constant(class_index, tf.int32)).numpy()
    top = cam.max()
    return cam / top if top > 0 else cam


def integrated_gradients(model: keras.Model, image: np.ndarray, class_index: int | Sequence[int], steps: int = 32,
                         baseline: np.ndarray | None = None) -> np.ndarray | list[np.ndarray]:
    """Attribution of each pixel to the probability of ``class_index`` (same shape as ``image``).

    Several classes at once (a sequence) give one map each, from a single batched pass through the
    network: for "why 4 and not 9?" that is one call instead of two.
    """
    classes = [int(class_index)] if np.isscalar(class_index) else [int(c) for c in class_index]
    x = np.asarray(image, np.float32).reshape(model.input_shape[1:])
    base = np.zeros_like(x) if baseline is None else np.asarray(baseline, np.float32).reshape(x.shape)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32).reshape(-1, *([1] * x.ndim))
    path = np.tile(base + alphas * (x - base), (len(classes), *([1] * x.ndim)))
    rows = np.repeat(np.asarray(classes, np.int32), steps + 1)

    def build():
        def gradients(path, c):
            with tf.GradientTape() as tape:
                tape.watch(path)
                # Each row's own class; the rows do not interact, so the gradient of the sum is each row's.
                probs = tf.gather(model(path, training=False), c, batch_dims=1)
            return tape.gradient(probs, path)
        return gradients

    grads = _compile(model, "ig", build)(tf.constant(path), tf.constant(rows)).numpy()
    maps = []
    for g in np.split(grads, len(classes)):
        average = ((g[:-1] + g[1:]) / 2).mean(axis=0)  # the trapezoid rule along the path
        maps.append(((x - base) * average).reshape(np.shape(image)))
    return maps[0] if np.isscalar(class_index) else maps


def probability(model: keras.Model, image: np.ndarray, class_index: int) -> float:
    """The network's probability of ``class_index`` for one image."""
    x = np.asarray(image, np.float32).reshape(1, *model.input_shape[1:])
    return float(model(x, training=False)[0, class_index])
