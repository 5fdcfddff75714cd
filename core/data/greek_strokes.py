"""Greek letters written as pen strokes in several hands: a validation set for the Greek model.

The shipped Greek letters are 27 photos of one person's ink on paper (train) and 12
letters on a white canvas (test): too few, and too alike, to tell a good choice from a
lucky one. Here alpha, beta and gamma are written as pen strokes in the shapes people use
(alpha as a fish or as a round "a" with a tail; beta with one stroke or two; gamma as a
"y", with a loop, or as a "v" on a stem), each distorted as another hand would write it
(``strokes.restyle``) and drawn on the canvas with a random pen, size and place, through the
app's preprocessing: thin digital strokes to thick ones. It validates choices; it never
trains the shipped model, and the 12 test letters play no part in it.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_interp_spline

from core.data import unipen
from core.images import strokes

# Control points (x right, y up, the letter about one unit tall) of each hand's strokes, smoothed by a spline.
STYLES: dict[str, list[list[list[tuple[float, float]]]]] = {
    "alpha": [
        [[(1.0, 0.85), (0.75, 0.5), (0.55, 0.2), (0.35, 0.04), (0.15, 0.08), (0.03, 0.35), (0.08, 0.65),
          (0.28, 0.85), (0.48, 0.8), (0.66, 0.5), (0.82, 0.2), (1.0, 0.0)]],  # the fish, in one stroke
        [[(0.72, 0.72), (0.5, 0.86), (0.22, 0.78), (0.05, 0.48), (0.12, 0.16), (0.38, 0.03), (0.62, 0.2),
          (0.74, 0.55), (0.78, 0.86), (0.8, 0.35), (0.88, 0.06), (1.0, 0.02)]],  # a round "a" with a tail
        [[(0.95, 0.9), (0.8, 0.55), (0.62, 0.22), (0.4, 0.05), (0.18, 0.1), (0.06, 0.4), (0.2, 0.72),
          (0.45, 0.8), (0.62, 0.55), (0.78, 0.18), (0.9, 0.03), (1.02, 0.1)]],  # the fish, tail curled up
    ],
    "beta": [
        [[(0.15, -0.55), (0.14, 0.2), (0.18, 0.8), (0.35, 1.0), (0.58, 0.98), (0.7, 0.82), (0.6, 0.6),
          (0.32, 0.5), (0.66, 0.42), (0.8, 0.2), (0.66, 0.02), (0.38, -0.02), (0.16, 0.1)]],  # one stroke
        [[(0.15, -0.55), (0.15, 0.3), (0.16, 1.0)],
         [(0.16, 1.0), (0.5, 1.02), (0.68, 0.84), (0.52, 0.58), (0.2, 0.52), (0.7, 0.44), (0.8, 0.18),
          (0.56, 0.0), (0.16, 0.05)]],  # the stem, then the two bumps
    ],
    "gamma": [
        [[(0.0, 0.9), (0.12, 0.98), (0.3, 0.75), (0.46, 0.3), (0.5, -0.1), (0.45, -0.45), (0.36, -0.35),
          (0.44, -0.05), (0.62, 0.35), (0.82, 0.72), (1.0, 0.95)]],  # with a loop below
        [[(0.0, 1.0), (0.25, 0.6), (0.5, 0.2)], [(1.0, 1.0), (0.72, 0.55), (0.5, 0.2), (0.4, -0.15),
                                                 (0.3, -0.55)]],  # a "y"
        [[(0.0, 0.95), (0.2, 0.55), (0.45, 0.05), (0.45, -0.25), (0.45, -0.55)],
         [(0.45, 0.05), (0.7, 0.5), (0.98, 0.98)]],  # a "v" on a stem
    ],
}
CLASSES = tuple(STYLES)  # the Greek data set's order: alpha, beta, gamma
POINTS = 40  # points along each smoothed stroke


def smooth(control: list[tuple[float, float]]) -> np.ndarray:
    """A stroke through its control points (a cubic spline when there are four or more)."""
    c = np.asarray(control, np.float64)
    t = np.linspace(0, 1, len(c))
    return make_interp_spline(t, c, k=min(3, len(c) - 1))(np.linspace(0, 1, POINTS))


def records(per_class: int, seed: int = 0) -> list[dict]:
    """``per_class`` stroke records of each letter, the styles in turn, each in a new hand (``label`` is the
    class index)."""
    rng = np.random.default_rng(seed)
    out = []
    for label, letter in enumerate(CLASSES):
        for n in range(per_class):
            style = STYLES[letter][n % len(STYLES[letter])]
            rec = {"label": label, "y_axis": "up", "strokes": [smooth(s).tolist() for s in style]}
            out.append(strokes.restyle(rec, rng, strength=1.5))
    return out


def drawn(per_class: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The letters drawn on the canvas and preprocessed: (N, 28, 28) float32 in [0, 1], and labels (N,)."""
    recs = records(per_class, seed)
    return unipen.drawings(recs, seed=seed), np.array([r["label"] for r in recs], np.uint8)
