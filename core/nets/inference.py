"""Fast single-image inference for interactive use.

``model.predict`` costs tens of milliseconds of set-up per call, far too much
for a prediction after every stroke. A ``Predictor`` wraps the model in a
``tf.function`` traced once for a single 28x28 image, so each call is just the
network's arithmetic. Photo nets read each photo and its mirror image (``with_mirror``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core.nets import registry


def with_mirror(call: Callable) -> Callable:
    """``call`` on a batch of photos and on their mirror images, the two answers averaged (test-time flip).

    A photo's class does not change in a mirror, and the photo nets learn from mirrored copies; reading both
    views corrects some of one view's mistakes (the CIFAR-10 ResNet-9: 89.8% -> 90.6% of the test photos).
    Digits and letters are not read this way: a mirrored 2 is not a 2.
    """
    return lambda x: (call(x) + call(x[:, :, ::-1])) / 2


def is_photo_model(model: keras.Model) -> bool:
    """Colour input: a photo net, read with ``with_mirror``."""
    return model.input_shape[-1] == 3


@dataclass
class Predictor:
    name: str
    model: keras.Model

    def __post_init__(self) -> None:
        model = self.model
        self.shape = tuple(model.input_shape[1:])  # (28, 28, 1) for digits, (32, 32, 3) for photos
        call = lambda x: model(x, training=False)  # noqa: E731
        self._fn = tf.function(with_mirror(call) if is_photo_model(model) else call, jit_compile=False,
                               input_signature=[tf.TensorSpec((None, *self.shape), tf.float32)])
        self.predict(np.zeros(self.shape, np.float32))  # trace now, not on the user's first stroke

    @classmethod
    def load(cls, name: str, models_dir: Path | None = None) -> Predictor:
        return cls(name, registry.load(name, models_dir))

    def predict(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Probabilities (10,) for one image in [0, 1] ((28, 28) for digits), and the call's time in ms."""
        x = np.asarray(image, np.float32).reshape(1, *self.shape)
        start = time.perf_counter()
        probs = self._fn(tf.constant(x)).numpy()[0]
        return probs, (time.perf_counter() - start) * 1000.0

    def predict_batch(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Probabilities (N, 10) for many images (benchmarks, tests, the Compare page)."""
        images = np.asarray(images, np.float32).reshape(-1, *self.shape)
        return np.concatenate([self._fn(tf.constant(images[i : i + batch_size])).numpy()
                               for i in range(0, len(images), batch_size)] or [np.zeros((0, 10))])


def top_k(probs: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The k most probable classes with their probabilities, best first."""
    order = np.argsort(probs)[::-1][:k]
    return [(int(i), float(probs[i])) for i in order]
