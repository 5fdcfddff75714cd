"""Data augmentation: digits that look more like what people draw, and shifted, mirrored photos.

Small rotations, zooms, shears and shifts, and a random stroke thickness
(a blend towards a dilated or eroded copy), applied to whole batches in the
``tf.data`` pipeline so the saved models carry no augmentation layers; and
extra digits in writing habits MNIST lacks (``writing_styles``).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from core.images import preprocess


def make_augmenter(seed: int = 0, aspect: float = 0.0) -> keras.Sequential:
    """Geometric augmentation for 28x28x1 digits in [0, 1].

    ``aspect`` > 0 also stretches or squeezes the width by up to that fraction: the Greek letters'
    27 examples come from few hands, each with its own proportions (a wide alpha, a tall one).
    Always float32: it prepares the input, so a mixed-precision policy (on a
    GPU) must not turn it to float16; the network casts its input itself.
    """
    f32 = dict(fill_mode="constant", dtype="float32")
    steps = [
        keras.layers.RandomRotation(0.035, seed=seed, **f32),  # about +-12 degrees
        keras.layers.RandomShear(x_factor=0.15, y_factor=0.0, seed=seed + 1, **f32),
        keras.layers.RandomZoom(0.12, seed=seed + 2, **f32),
        keras.layers.RandomTranslation(0.08, 0.08, seed=seed + 3, **f32),
    ]
    if aspect:
        steps.insert(0, keras.layers.RandomZoom(0.0, width_factor=(-aspect, aspect), seed=seed + 4, **f32))
    return keras.Sequential(steps, name="augment")


def make_photo_augmenter(seed: int = 0) -> keras.Sequential:
    """Augmentation for 32x32 colour photos in [0, 1]: shifts of up to 4 pixels (reflected edges) and
    horizontal flips, per image, the standard CIFAR-10 recipe (a cat facing left is still a cat)."""
    f32 = dict(dtype="float32")
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(0.125, 0.125, fill_mode="reflect", interpolation="nearest", seed=seed,
                                           **f32),
            keras.layers.RandomFlip("horizontal", seed=seed + 1, **f32),
        ],
        name="augment_photos",
    )


def cutout(images: tf.Tensor, size: int = 8, fill: tuple[float, ...] = (0.4913, 0.4821, 0.4465)) -> tf.Tensor:
    """Cutout (DeVries & Taylor, 2017): a ``size`` x ``size`` square at a random place in each photo is painted
    the data set's mean colour, so the network must use the whole object, not its one most telling patch.
    The square may hang over the edge, as in the paper. Worth about half a point on CIFAR-10's test set."""
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    cy = tf.random.uniform([n, 1, 1], 0, h, dtype=tf.int32)
    cx = tf.random.uniform([n, 1, 1], 0, w, dtype=tf.int32)
    dy, dx = tf.range(h)[None, :, None] - cy, tf.range(w)[None, None, :] - cx
    half = size // 2
    inside = (dy >= -half) & (dy < size - half) & (dx >= -half) & (dx < size - half)
    return tf.where(inside[..., None], tf.constant(fill, images.dtype), images)


def random_thickness(images: tf.Tensor, strength: float = 0.8) -> tf.Tensor:
    """Thicken or thin each digit's strokes by a random amount.

    People draw with pens of every width; MNIST has one. Each image is blended
    towards its 3x3 dilation (thicker) or erosion (thinner) by a factor drawn
    uniformly from [-strength, strength].
    """
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    t = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], -strength, strength, dtype=images.dtype)
    return tf.where(t > 0, images + t * (dilated - images), images - t * (eroded - images))


def _add_stroke(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (28x28 uint8) with a stroke of a European writing habit added, re-framed as MNIST."""
    big = Image.fromarray(image).resize((112, 112), Image.Resampling.BILINEAR)
    arr = preprocess.scale_pixels(big)
    ys, xs = np.nonzero(arr > 0.3)
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    h, w = y1 - y0, x1 - x0
    width = max(int(round(preprocess.stroke_width(arr > 0.5))), 4)
    draw = ImageDraw.Draw(big)
    j = lambda s: rng.uniform(-s, s)  # noqa: E731 - jitter
    if kind == "slashed_zero":  # a diagonal bar through the loop, past its edges
        a = (x0 - 0.15 * w + j(4), y1 + 0.12 * h + j(4))
        b = (x1 + 0.15 * w + j(4), y0 - 0.12 * h + j(4))
    elif kind == "flagged_one":  # the up-stroke that starts a European 1
        top = (float(xs[ys == y0].mean()), float(y0))
        a = (top[0] - rng.uniform(0.25, 0.45) * h, top[1] + rng.uniform(0.2, 0.4) * h)
        b = top
    else:  # "crossed_seven": a bar across the stem
        yc = y0 + rng.uniform(0.45, 0.6) * h
        a, b = (x0 + 0.1 * w + j(3), yc + j(3)), (x1 - 0.1 * w + j(3), yc + j(3))
    draw.line([a, b], fill=255, width=width)
    r = width / 2
    for x, y in (a, b):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    out = preprocess.to_mnist(preprocess.scale_pixels(big), invert=False, keep_steps=False).image
    return (out * 255).astype(np.uint8)


STYLE_STROKES = {0: "slashed_zero", 1: "flagged_one", 7: "crossed_seven"}


def writing_styles(x: np.ndarray, y: np.ndarray, fraction: float = 0.3, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Extra training digits written the European way: slashed 0, flagged 1, crossed 7.

    MNIST was written by Americans, so a network trained on it reads a slashed
    zero as an 8 and a flagged one as a 7. These variants are made from a
    ``fraction`` of MNIST's own 0s, 1s and 7s and returned to be added to it.
    """
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for label, kind in STYLE_STROKES.items():
        idx = np.flatnonzero(y == label)
        for i in rng.choice(idx, int(fraction * len(idx)), replace=False):
            xs.append(_add_stroke(x[i], kind, rng))
            ys.append(label)
    if not xs:  # a slice too small to hold any 0, 1 or 7 to restyle
        return np.zeros((0, *x.shape[1:]), x.dtype), np.zeros(0, y.dtype)
    return np.stack(xs), np.asarray(ys, dtype=y.dtype)
