"""Drawn shapes for the own-classes tests and benchmark: circles, crosses and triangles with jitter.

Each shape is drawn as the canvas would be (white strokes on black, 280x280)
with a random position, size, stroke width and tilt, then goes through the
app's one preprocessing path, ``preprocess.from_canvas``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from core.images import preprocess

SHAPES = ("circle", "cross", "triangle")


def draw(kind: str, rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """One shape drawn white on black: a (size, size) float image in [0, 1]."""
    img = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(img)
    r = rng.uniform(40, 100)
    cx, cy = size / 2 + rng.uniform(-30, 30, 2)
    width = int(rng.integers(10, 26))
    tilt = rng.uniform(-0.25, 0.25)
    if kind == "circle":
        rx, ry = r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.2)
        pen.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=255, width=width)
    elif kind == "cross":
        ends = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a in np.array([0.25, 0.75, 1.25, 1.75]) * np.pi + tilt]
        pen.line([ends[0], ends[2]], fill=255, width=width)
        pen.line([ends[1], ends[3]], fill=255, width=width)
    elif kind == "triangle":
        corners = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a in np.array([-0.5, 1 / 6, 5 / 6]) * np.pi + tilt]
        pen.line([*corners, corners[0]], fill=255, width=width, joint="curve")
    else:
        raise ValueError(f"unknown shape {kind!r}")
    return np.asarray(img, np.float32) / 255.0


def drawn_shapes(per_class: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` drawings of each shape, preprocessed: (N, 28, 28) float32 images and labels (N,)."""
    rng = np.random.default_rng(seed)
    images = [preprocess.from_canvas(draw(kind, rng)).image for kind in SHAPES for _ in range(per_class)]
    return np.stack(images), np.repeat(np.arange(len(SHAPES)), per_class)
