"""What the drawing canvas really sent, recorded in Chromium (``tests/data/canvas_payloads.json``).

The tests of everything that reads the canvas take their drawings from here, not from payloads written
by hand: ``python -m tests.record_canvas_payloads`` recorded them (see there for what each one is).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import numpy as np
from PIL import Image

from core.images import preprocess

FIXTURE = Path(__file__).resolve().parent / "data" / "canvas_payloads.json"


@functools.cache
def _recorded() -> dict:
    return json.loads(FIXTURE.read_text())


def meta() -> dict:
    return _recorded()["meta"]


def labels() -> list[str]:
    return [p["label"] for p in _recorded()["payloads"]]


def payload(label: str) -> dict:
    """One recorded payload (a copy): ``sent``, ``drawn`` (the mouse's path), ``pen``, ``digit``."""
    return copy.deepcopy(next(p for p in _recorded()["payloads"] if p["label"] == label))


def sent(label: str) -> dict | None:
    """What ``live_canvas`` returned to the page: ``{"strokes", "png"}``, None before the first stroke."""
    return payload(label)["sent"]


def drawn_strokes(label: str) -> list[dict]:
    """The strokes the canvas sent (``[{"points", "width"}]``)."""
    return (sent(label) or {}).get("strokes") or []


def gray(label: str) -> np.ndarray | None:
    """The canvas' picture as the app reads it (``preprocess.canvas_png_to_gray``): 280x280, in [0, 1]."""
    return preprocess.canvas_png_to_gray((sent(label) or {}).get("png"))


def downscale(img: np.ndarray) -> np.ndarray:
    """A 280x280 picture box-downscaled to 28x28."""
    small = Image.fromarray(np.asarray(img, np.float32), mode="F").resize((28, 28), Image.Resampling.BOX)
    return np.asarray(small, np.float64)


def gray28(label: str) -> np.ndarray:
    """The canvas' picture box-downscaled to 28x28, in 0-255."""
    return downscale(gray(label) * 255)


def drawing_state(label: str) -> dict:
    """What the shared canvas leaves in the session after this recorded drawing: its pixels and its strokes."""
    from tests.pages import drawing_state as state

    return state(gray(label), drawn_strokes(label))
