"""Fooling a network: the smallest change to the 28x28 input that flips its answer.

FGSM (Goodfellow et al., 2015) takes one step of size epsilon along the sign of
the loss gradient; PGD (Madry et al., 2018) takes several smaller steps and
projects back into the epsilon box each time, a stronger attack. Every pixel
moves by at most epsilon and stays in [0, 1]. The same perturbation can then be
shown to the other networks: adversarial examples often transfer.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _loss_gradient(model: keras.Model, x: tf.Tensor, label: int) -> tf.Tensor:
    """d(cross-entropy of ``label``)/d(input), traced once per model (eager gradients are slow per stroke)."""
    if model not in _compiled:
        def gradient(x, label):
            with tf.GradientTape() as tape:
                tape.watch(x)
                probs = model(x, training=False)
                loss = keras.losses.sparse_categorical_crossentropy(tf.fill([tf.shape(x)[0]], label), probs)
            return tape.gradient(loss, x)
        _compiled[model] = tf.function(gradient, reduce_retracing=True)
    return _compiled[model](x, tf.constant(label, tf.int32))


def _as_batch(model: keras.Model, images: np.ndarray) -> tf.Tensor:
    return tf.constant(np.asarray(images, np.float32).reshape(-1, *model.input_shape[1:]))


def fgsm(model: keras.Model, images: np.ndarray, label: int, epsilon: float) -> np.ndarray:
    """One signed-gradient step of size ``epsilon`` away from ``label`` (images: (28, 28) or a batch)."""
    x = _as_batch(model, images)
    adv = tf.clip_by_value(x + epsilon * tf.sign(_loss_gradient(model, x, label)), 0.0, 1.0)
    return adv.numpy().reshape(np.shape(images))


def pgd(model: keras.Model, images: np.ndarray, label: int, epsilon: float, steps: int = 10,
        step_size: float | None = None) -> np.ndarray:
    """Projected gradient descent: ``steps`` signed steps, each kept within ``epsilon`` of the original."""
    x0 = _as_batch(model, images)
    step_size = step_size or 2.5 * epsilon / steps
    x = x0
    for _ in range(steps):
        x = x + step_size * tf.sign(_loss_gradient(model, x, label))
        x = tf.clip_by_value(tf.clip_by_value(x, x0 - epsilon, x0 + epsilon), 0.0, 1.0)
    return x.numpy().reshape(np.shape(images))


EPSILON_MAX = 0.3  # the largest change a pixel the Explain page lets an attack make (its slider's end)


def verdict(answer: int, reading: int, epsilon: float, method: str, largest: float = EPSILON_MAX) -> str:
    """What an attack's result says, in markdown: fooled or not, and what to try next only where it can be tried
    (a larger epsilon while the slider has room, PGD after FGSM, nothing after PGD at the largest)."""
    if reading != answer:
        return "**Fooled.**"
    if epsilon < largest - 1e-9:
        return f"**Not fooled yet:** raise epsilon (up to {largest:.2f})."
    if method == "FGSM":
        return f"**Not fooled,** even at the largest change ({largest:.2f} a pixel): try PGD, the stronger attack."
    return (f"**Not fooled,** even by PGD at the largest change ({largest:.2f} a pixel): it found no change that "
            f"small that makes this network read anything but {answer}.")
