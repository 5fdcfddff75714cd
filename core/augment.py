"""Data augmentation that makes MNIST look more like what people draw.

Small rotations, zooms, shears and shifts, and a random stroke thickness
(a blend towards a dilated or eroded copy), applied to whole batches in the
``tf.data`` pipeline so the saved models carry no augmentation layers.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def make_augmenter(seed: int = 0) -> keras.Sequential:
    """Geometric augmentation for 28x28x1 digits in [0, 1]."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(0.035, fill_mode="constant", seed=seed),  # about +-12 degrees
            keras.layers.RandomShear(x_factor=0.15, y_factor=0.0, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom(0.12, fill_mode="constant", seed=seed + 2),
            keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 3),
        ],
        name="augment",
    )


def random_thickness(images: tf.Tensor, strength: float = 0.8) -> tf.Tensor:
    """Thicken or thin each digit's strokes by a random amount.

    People draw with pens of every width; MNIST has one. Each image is blended
    towards its 3x3 dilation (thicker) or erosion (thinner) by a factor drawn
    uniformly from [-strength, strength].
    """
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    t = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], -strength, strength)
    return tf.where(t > 0, images + t * (dilated - images), images - t * (eroded - images))
