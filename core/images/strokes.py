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

CANVAS_SIDE = 280  # the app's drawing canvas, in pixels: ten times MNIST's 28
PEN_WIDTHS = (8, 40)  # the pen width slider's range, in canvas pixels
PEN_WIDTH = 20  # its start: close to MNIST's stroke once the drawing is fitted into 20x20


def canvas_paths(record: dict, size: int = CANVAS_SIDE, box: float = 180.0, offset: tuple[float, float] = (0.0, 0.0)
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


def restyle(record: dict, rng: np.random.Generator, strength: float = 1.0) -> dict:
    """The record's strokes as another hand might write them: the whole letter slanted, stretched and turned a
    little, each stroke moved and reshaped a little on its own, and a slow wobble along each stroke.

    The few hundred writers of a pen-stroke set are few hands to learn a class from; distortions of the strokes
    (before they are drawn, so the pen keeps its width) add hands that image distortions do not. ``strength`` 1
    moves points by a few percent of the letter's size.
    """
    points = [np.asarray(s, np.float64) for s in record["strokes"] if len(s)]
    every = np.concatenate(points)
    lo, hi = every.min(axis=0), every.max(axis=0)
    size, centre = max(float((hi - lo).max()), 1e-9), (lo + hi) / 2
    whole = np.eye(2) + rng.normal(0, 0.12 * strength, (2, 2))  # slant, stretch, turn
    out = []
    for p in points:
        own = np.eye(2) + rng.normal(0, 0.05 * strength, (2, 2))
        q = ((p - centre) / size) @ whole.T @ own.T + rng.normal(0, 0.04 * strength, 2)
        if len(q) > 3:  # a wave of 1 to 3 periods along the stroke, in x and y
            t = np.linspace(0, 1, len(q))[:, None]
            phase = rng.uniform(0, 2 * np.pi, (1, 2))
            q = q + 0.03 * strength * np.sin(2 * np.pi * rng.uniform(1, 3, (1, 2)) * t + phase)
        out.append(q.tolist())
    return {**record, "strokes": out}


def render(paths: list[Stroke], size: int = CANVAS_SIDE, width: int = 18, ink: int = 255, paper: int = 0) -> np.ndarray:
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


def canvas_strokes(drawn: list | None) -> list[tuple[Stroke, int]]:
    """The pen strokes the canvas sends (``app_pages.ui.live_canvas``: ``[{"points": [[x, y], ...], "width": w}]``,
    canvas pixels, in drawing order) as (points, pen width); strokes that are not such lists are left out.

    What the canvas really sends is recorded in Chromium in ``tests/data/canvas_payloads.json``.
    """
    out = []
    for stroke in drawn or []:
        if not isinstance(stroke, dict):
            continue
        try:
            points = np.asarray(stroke.get("points") or [], dtype=np.float64)
            width = float(stroke.get("width", PEN_WIDTH))
        except (TypeError, ValueError):
            continue
        if points.ndim != 2 or points.shape[1:] != (2,) or not len(points) or not np.isfinite(points).all() \
                or not np.isfinite(width):
            continue
        out.append(([(float(x), float(y)) for x, y in points], max(int(round(width)), 1)))
    return out


def render_strokes(strokes: list[tuple[Stroke, int]], size: int = CANVAS_SIDE) -> np.ndarray:
    """Redraw canvas strokes (each with its own pen width) white on black: a (size, size) uint8 image."""
    img = np.zeros((size, size), np.uint8)
    for points, width in strokes:
        img = np.maximum(img, render([points], size=size, width=width))
    return img
