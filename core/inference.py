"""Fast single-image inference for interactive use.

``model.predict`` costs tens of milliseconds of set-up per call, far too much
for a prediction after every stroke. A ``Predictor`` wraps the model in a
``tf.function`` traced once for a single 28x28 image, so each call is just the
network's arithmetic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core import registry


@dataclass
class Predictor:
    name: str
    model: keras.Model

    def __post_init__(self) -> None:
        model = self.model
        self.shape = tuple(model.input_shape[1:])  # (28, 28, 1) for digits, (32, 32, 3) for photos
        self._fn = tf.function(lambda x: model(x, training=False), jit_compile=False,
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
