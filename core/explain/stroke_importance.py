"""Which of your strokes mattered: the drawing read again with each stroke left out in turn.

The canvas keeps every pen stroke separately, so the drawing can be redrawn
without one of them and sent through the app's one preprocessing path; the
drop in the network's probability for its answer is that stroke's importance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.images import preprocess, strokes
from core.nets.inference import Predictor


@dataclass
class StrokeEffect:
    index: int
    probability: float  # of the original answer, without this stroke
    reading: int | None  # what the network reads without it (None: nothing left to read)
    image: np.ndarray  # the drawing without the stroke (280x280 uint8)


def leave_one_out(drawing: list | None, predictor: Predictor, answer: int) -> list[StrokeEffect]:
    """For each stroke of the canvas' ``drawing`` (its strokes, as it sends them): the drawing without it, and
    what ``predictor`` then makes of it."""
    drawn = strokes.canvas_strokes(drawing)
    effects = []
    for i in range(len(drawn)):
        rest = strokes.render_strokes(drawn[:i] + drawn[i + 1:])
        pre = preprocess.from_canvas(preprocess.scale_pixels(rest))
        if pre.empty:
            effects.append(StrokeEffect(i, 0.0, None, rest))
            continue
        probs, _ = predictor.predict(pre.image)
        effects.append(StrokeEffect(i, float(probs[answer]), int(probs.argmax()), rest))
    return effects


def by_importance(effects: list[StrokeEffect]) -> list[StrokeEffect]:
    """The strokes whose absence costs the answer most first: the one that mattered most leads."""
    return sorted(effects, key=lambda e: e.probability)
