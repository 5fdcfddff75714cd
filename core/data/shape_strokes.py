"""Shapes and symbols written as pen strokes in many hands: classes that no file in the project holds.

The own-classes page promises that a few drawings teach any class, not only letters. No data set here
holds stars, hearts or arrows, and no network here learnt them, so they measure what a class the
networks never saw costs. Each shape is a set of strokes in the orders and forms people use (a
square in one stroke or two, a star in one, an arrow with its head apart or not), distorted as
another hand would write it (``strokes.restyle``) and drawn on the canvas with a random pen, size and
place, through the app's preprocessing. Hands made this way vary less than real people's: a score
here is an upper bound for real symbols, not a promise.
"""

from __future__ import annotations

import numpy as np

from core.data import unipen
from core.images import strokes

POINTS = 60  # points along each stroke, evenly spaced by length


def polyline(*corners: tuple[float, float]) -> np.ndarray:
    """A stroke along straight lines through its corners (x right, y up), ``POINTS`` points evenly spaced."""
    c = np.asarray(corners, np.float64)
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(c, axis=0), axis=1))])
    t = np.linspace(0.0, along[-1], POINTS)
    return np.stack([np.interp(t, along, c[:, 0]), np.interp(t, along, c[:, 1])], axis=1)


def curve(x, y) -> np.ndarray:
    """A stroke along a parametric curve: ``x(t)``, ``y(t)`` for t from 0 to 1."""
    t = np.linspace(0.0, 1.0, POINTS)
    return np.stack([x(t), y(t)], axis=1)


def _circle(start: float, turn: float) -> np.ndarray:
    return curve(lambda t: 0.5 + 0.5 * np.cos(start + turn * t), lambda t: 0.5 + 0.5 * np.sin(start + turn * t))


def _star() -> np.ndarray:
    angles = np.pi / 2 + np.arange(6) * 4 * np.pi / 5  # every second point of a pentagon: one stroke
    return polyline(*[(0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)) for a in angles])


def _heart(start: float, turn: float) -> np.ndarray:
    """The classic heart curve from angle ``start`` through ``turn`` (0 is the dip at the top, pi the point)."""
    def at(t):
        a = start + turn * t
        return a
    return curve(lambda t: 0.5 + np.sin(at(t)) ** 3 / 2,
                 lambda t: 0.55 + (13 * np.cos(at(t)) - 5 * np.cos(2 * at(t)) - 2 * np.cos(3 * at(t))
                                   - np.cos(4 * at(t))) / 34)


def _spiral(turns: float) -> np.ndarray:
    return curve(lambda t: 0.5 + 0.5 * t * np.cos(2 * np.pi * turns * t),
                 lambda t: 0.5 + 0.5 * t * np.sin(2 * np.pi * turns * t))


# Each shape's ways of being drawn: a list of strokes each.
STYLES: dict[str, list[list[np.ndarray]]] = {
    "circle": [[_circle(np.pi / 2, 2 * np.pi)], [_circle(np.pi / 2, -2 * np.pi)], [_circle(0.3, 2.2 * np.pi)]],
    "triangle": [[polyline((0.5, 1), (0, 0), (1, 0), (0.5, 1))],
                 [polyline((0.5, 1), (0, 0)), polyline((0, 0), (1, 0)), polyline((1, 0), (0.5, 1))]],
    "square": [[polyline((0, 1), (0, 0), (1, 0), (1, 1), (0, 1))],
               [polyline((0, 1), (0, 0), (1, 0)), polyline((0, 1), (1, 1), (1, 0))]],
    "star": [[_star()]],
    "heart": [[_heart(0, -np.pi), _heart(0, np.pi)], [_heart(0, 2 * np.pi)]],
    "arrow": [[polyline((0, 0.5), (1, 0.5)), polyline((0.65, 0.8), (1, 0.5), (0.65, 0.2))],
              [polyline((0, 0.5), (1, 0.5), (0.65, 0.8)), polyline((1, 0.5), (0.65, 0.2))]],
    "plus": [[polyline((0.5, 1), (0.5, 0)), polyline((0, 0.5), (1, 0.5))],
             [polyline((0, 0.5), (1, 0.5)), polyline((0.5, 1), (0.5, 0))]],
    "check": [[polyline((0, 0.45), (0.35, 0), (1, 1))], [polyline((0, 0.5), (0.3, 0.1), (0.35, 0), (0.9, 1))]],
    "spiral": [[_spiral(2.5)], [_spiral(3.0)[::-1]]],
    "lightning": [[polyline((0.65, 1), (0.2, 0.45), (0.75, 0.55), (0.3, 0))],
                  [polyline((0.6, 1), (0.3, 0.5), (0.7, 0.5), (0.35, 0), (0.5, 0.15))]],
    "infinity": [[curve(lambda t: 0.5 + 0.5 * np.sin(2 * np.pi * t), lambda t: 0.5 + 0.25 * np.sin(4 * np.pi * t))]],
    "hash": [[polyline((0.35, 1), (0.25, 0)), polyline((0.75, 1), (0.65, 0)),
              polyline((0, 0.68), (1, 0.68)), polyline((0, 0.32), (1, 0.32))]],
}
CLASSES = tuple(STYLES)


def records(per_class: int, seed: int = 0) -> list[dict]:
    """``per_class`` stroke records of each shape, the styles in turn, each in a new hand (``label`` is the
    class index)."""
    rng = np.random.default_rng(seed)
    out = []
    for label, shape in enumerate(CLASSES):
        for n in range(per_class):
            style = STYLES[shape][n % len(STYLES[shape])]
            rec = {"label": label, "y_axis": "up", "strokes": [s.tolist() for s in style]}
            out.append(strokes.restyle(rec, rng, strength=1.5))
    return out


def drawn(per_class: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The shapes drawn on the canvas and preprocessed: (N, 28, 28) float32 in [0, 1], and labels (N,)."""
    recs = records(per_class, seed)
    return unipen.drawings(recs, seed=seed), np.array([r["label"] for r in recs], np.uint8)
