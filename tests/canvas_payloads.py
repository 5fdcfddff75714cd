"""What the drawing canvas really sent, recorded in Chromium (``tests/data/canvas_payloads.json``).

The tests of everything that reads the canvas take their drawings from here, not from JSON written
by hand: ``python -m tests.record_canvas_payloads`` recorded them (see there for what each one is).
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import io
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
    """One recorded payload (a copy): ``json_data``, ``image`` (its summary), ``drawn``, ``pen``, ``digit``."""
    return copy.deepcopy(next(p for p in _recorded()["payloads"] if p["label"] == label))


def json_data(label: str) -> dict:
    """``canvas.json_data`` as Python received it."""
    return payload(label)["json_data"]


def rgba(label: str) -> np.ndarray:
    """``canvas.image_data`` as Python received it: (280, 280, 4) uint8, checked against the recorded hash.
    Only for the payloads recorded with their whole picture (``gray_png``)."""
    image = payload(label)["image"]
    gray = np.asarray(Image.open(io.BytesIO(base64.b64decode(image["gray_png"]))))
    out = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    assert hashlib.sha256(out.tobytes()).hexdigest() == image["sha256"], label
    return out


def gray(label: str) -> np.ndarray:
    """The canvas' picture as the app reads it (``preprocess.canvas_to_gray``): 280x280, in [0, 1]."""
    return preprocess.canvas_to_gray(rgba(label))


def gray28(label: str) -> np.ndarray:
    """The canvas' picture box-downscaled to 28x28, in 0-255 (as recorded, or from the whole picture)."""
    image = payload(label)["image"]
    if "gray28" in image:
        return np.asarray(image["gray28"], np.float64)
    return downscale(gray(label) * 255)


def downscale(img: np.ndarray) -> np.ndarray:
    """A 280x280 picture box-downscaled to 28x28, as the recorder made ``gray28``."""
    small = Image.fromarray(np.asarray(img, np.float32), mode="F").resize((28, 28), Image.Resampling.BOX)
    return np.asarray(small, np.float64)


def drawing_state(label: str) -> dict:
    """What the shared canvas leaves in the session after this recorded drawing: its pixels and its JSON."""
    from tests.pages import drawing_state as state

    return state(gray(label), json_data(label))
