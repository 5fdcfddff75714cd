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


def canvas_strokes(json_data: dict | None) -> list[tuple[Stroke, int]]:
    """The pen strokes of a drawing canvas' JSON as (points in canvas pixels, pen width), in drawing order.

    What the canvas really sends (streamlit-drawable-canvas 0.13, Fabric.js 7; recorded in Chromium in
    ``tests/data/canvas_payloads.json``): one object of type ``"Path"`` per stroke (``"path"`` in older
    Fabric), whose ``path`` is a list of commands in the pixels where it was drawn: ``M x y``, then
    ``Q cx cy x y`` (the mouse positions are the control points, the curve runs through their midpoints),
    and a final ``L x y``; a click is ``M`` and ``L`` only. The object's placement comes with it:
    ``left``/``top`` at its origin (``originX``/``originY``, ``"center"`` in Fabric 7), ``scaleX``/``scaleY``,
    ``angle`` and flips. Those change when a stroke is dragged, scaled or turned with the canvas' edit
    toggle, while ``path`` stays as drawn, so the points are placed as Fabric places them.
    """
    strokes = []
    for obj in (json_data or {}).get("objects") or []:
        if str(obj.get("type", "")).lower() != "path" or obj.get("visible") is False:
            continue
        commands = [cmd for cmd in obj.get("path") or [] if len(cmd) >= 3]
        if not commands:
            continue
        points = _path_points(commands)
        matrix = _placement(obj, commands)
        if matrix is not None:
            points = points @ matrix[:, :2].T + matrix[:, 2]
        width = float(obj.get("strokeWidth", 18))
        if matrix is not None and not obj.get("strokeUniform"):
            width *= abs(float(np.linalg.det(matrix[:, :2]))) ** 0.5
        strokes.append(([(float(x), float(y)) for x, y in points], max(int(round(width)), 1)))
    return strokes


def _along(start: np.ndarray, op: str, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points at ``t`` along one path command from ``start``: a quadratic (Q) or cubic (C) curve, or a line."""
    t = t[:, None]
    end = values[-2:]
    if op == "Q" and len(values) == 4:
        c = values[:2]
        return (1 - t) ** 2 * start + 2 * (1 - t) * t * c + t ** 2 * end
    if op == "C" and len(values) == 6:
        c1, c2 = values[:2], values[2:4]
        return (1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t ** 2 * c2 + t ** 3 * end
    return start + t * (end - start)


_SAMPLES = np.array([0.25, 0.5, 0.75, 1.0])  # along each curve: enough for a pen curve a few pixels long


def _commands(commands: list):
    """Each command as (its start, its letter, its numbers); the path is absolute, as Fabric writes it."""
    here = None
    for cmd in commands:
        op, values = str(cmd[0]).upper(), np.asarray(cmd[1:], dtype=np.float64)
        yield (values[-2:] if here is None or op == "M" else here), op, values
        here = values[-2:]


def _path_points(commands: list) -> np.ndarray:
    """Points along a free-drawn path: each curve sampled where the canvas draws it."""
    return np.concatenate([values[None, -2:] if op == "M" else _along(start, op, values, _SAMPLES)
                           for start, op, values in _commands(commands)])


def _path_bounds(commands: list) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box of the path (not its pen width) as Fabric's ``Path._calcBoundsFromPath`` computes it,
    quirks included: a ``Q`` counts as the cubic with both control points at its one control point, and an
    ``L`` as the line from the subpath's ``M``."""
    points = []
    here = move = None
    for cmd in commands:
        op, values = str(cmd[0]).upper(), np.asarray(cmd[1:], dtype=np.float64)
        if op == "M":
            move = values[-2:]
        elif op == "L" and move is not None:
            points += [move, values[-2:]]
        elif op == "Q" and here is not None and len(values) == 4:
            points += _cubic_bounds(here, values[:2], values[:2], values[2:])
        elif op == "C" and here is not None and len(values) == 6:
            points += _cubic_bounds(here, values[:2], values[2:4], values[4:])
        else:
            points.append(values[-2:])
        here = values[-2:]
    allp = np.array(points if points else [here])
    return allp.min(axis=0), allp.max(axis=0)


def _cubic_bounds(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> list[np.ndarray]:
    """The ends of a cubic Bezier curve and its points where x or y turns back."""
    a, b, c = -p0 + 3 * p1 - 3 * p2 + p3, 2 * (p0 - 2 * p1 + p2), p1 - p0  # B'(t) / 3 = a t^2 + b t + c
    ts = []
    for axis in range(2):
        if abs(a[axis]) < 1e-12:
            if abs(b[axis]) > 1e-12:
                ts.append(-c[axis] / b[axis])
            continue
        disc = b[axis] ** 2 - 4 * a[axis] * c[axis]
        if disc >= 0:
            ts += [(-b[axis] + sign * disc ** 0.5) / (2 * a[axis]) for sign in (1, -1)]
    t = np.array([x for x in ts if 0 < x < 1])
    inner = _along(p0, "C", np.concatenate([p1, p2, p3]), t) if len(t) else []
    return [p0, *inner, p3]


_ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


def _placement(obj: dict, commands: list) -> np.ndarray | None:
    """Fabric's transform of a path object, from its path's own pixels to the canvas' (a 2x3 matrix);
    None when the object carries no placement (``left``/``top``), as in a drawing written by hand."""
    if obj.get("left") is None or obj.get("top") is None:
        return None
    lo, hi = _path_bounds(commands)
    offset = (lo + hi) / 2  # Fabric's pathOffset: the path's own centre
    flip_x, flip_y = (-1.0 if obj.get("flipX") else 1.0), (-1.0 if obj.get("flipY") else 1.0)
    sx, sy = float(obj.get("scaleX", 1)) * flip_x, float(obj.get("scaleY", 1)) * flip_y
    linear = np.diag([sx, sy])
    if obj.get("skewX"):
        linear = linear @ np.array([[1.0, np.tan(np.radians(float(obj["skewX"])))], [0.0, 1.0]])
    if obj.get("skewY"):
        linear = linear @ np.array([[1.0, 0.0], [np.tan(np.radians(float(obj["skewY"]))), 1.0]])
    angle = np.radians(float(obj.get("angle", 0)))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotate @ linear
    # Where the origin point sits from the centre, in the object's scaled box (its pen width included).
    stroke = 0.0 if obj.get("strokeUniform") else float(obj.get("strokeWidth", 1))
    size = np.array([float(obj.get("width", hi[0] - lo[0])) + stroke, float(obj.get("height", hi[1] - lo[1])) + stroke])
    origin = np.array([_origin(obj.get("originX", "center")), _origin(obj.get("originY", "center"))])  # Fabric 7
    centre = np.array([float(obj["left"]), float(obj["top"])]) + rotate @ ((0.5 - origin) * size * np.abs([sx, sy]))
    return np.hstack([linear, (centre - linear @ offset)[:, None]])


def _origin(value) -> float:
    return float(_ORIGIN.get(value, 0.0)) if isinstance(value, str) else float(value)


def render_strokes(strokes: list[tuple[Stroke, int]], size: int = CANVAS_SIDE) -> np.ndarray:
    """Redraw canvas strokes (each with its own pen width) white on black: a (size, size) uint8 image."""
    img = np.zeros((size, size), np.uint8)
    for points, width in strokes:
        img = np.maximum(img, render([points], size=size, width=width))
    return img
