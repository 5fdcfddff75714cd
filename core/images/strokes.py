"""Pen strokes: real handwriting replayed as canvas drawings.

Records of ``core.data.unipen`` (digits and letters written on tablets) become
canvas paths here. The benchmarks render them as the canvas would (white round-capped strokes on
black) and the browser test replays the same paths as mouse strokes, so both
measure how the app reads human drawing rather than MNIST.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]


def canvas_paths(record: dict, size: int = 280, box: float = 180.0, offset: tuple[float, float] = (0.0, 0.0)
                 ) -> list[Stroke]:
    """The digit's strokes in canvas pixels: fitted into a ``box``-pixel square, centred, y pointing down."""
    points = [np.asarray(s, dtype=np.float64) for s in record["strokes"] if len(s)]
    allp = np.concatenate(points)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    scale = box / max(float((hi - lo).max()), 1e-9)
    centre = (lo + hi) / 2
    paths = []
    for p in points:
        q = (p - centre) * scale
        if record.get("y_axis", "up") == "up":
            q[:, 1] = -q[:, 1]
        q += np.array([size / 2 + offset[0], size / 2 + offset[1]])
        paths.append([(float(a), float(b)) for a, b in q])
    return paths


def render(paths: list[Stroke], size: int = 280, width: int = 18, ink: int = 255, paper: int = 0) -> np.ndarray:
    """Draw strokes as the canvas does: round caps and joins; returns a (size, size) uint8 image."""
    img = Image.new("L", (size, size), paper)
    draw = ImageDraw.Draw(img)
    r = width / 2
    for path in paths:
        if len(path) > 1:
            draw.line(path, fill=ink, width=width, joint="curve")
        for x, y in (path[0], path[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return np.asarray(img)


def canvas_strokes(json_data: dict | None) -> list[tuple[Stroke, int]]:
    """The pen strokes of a drawing canvas' JSON (Fabric.js paths) as (points, pen width), in drawing order.

    A free-drawn Fabric path is a list of commands in canvas pixels: ``M x y`` then ``Q cx cy x y`` (and a
    final ``L x y``); the end points of the commands trace the stroke closely enough to redraw it.
    """
    strokes = []
    for obj in (json_data or {}).get("objects") or []:
        if obj.get("type") != "path":
            continue
        points = [(float(cmd[-2]), float(cmd[-1])) for cmd in obj.get("path") or [] if len(cmd) >= 3]
        if points:
            strokes.append((points, int(round(float(obj.get("strokeWidth", 18))))))
    return strokes


def render_strokes(strokes: list[tuple[Stroke, int]], size: int = 280) -> np.ndarray:
    """Redraw canvas strokes (each with its own pen width) white on black: a (size, size) uint8 image."""
    img = np.zeros((size, size), np.uint8)
    for points, width in strokes:
        img = np.maximum(img, render([points], size=size, width=width))
    return img
