"""Real pen digits as the canvas sends them, for the class-mode tests and benchmark: a UNIPEN record's strokes
in canvas pixels and the picture the canvas would draw of them (``core.images.strokes``, the app's own path)."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from core.images import strokes


def unipen_payload(record: dict) -> dict:
    """A UNIPEN digit as the canvas would send it: its strokes in canvas pixels and the picture as a PNG."""
    paths = strokes.canvas_paths(record)
    drawn = [{"points": [[round(x, 1), round(y, 1)] for x, y in path], "width": strokes.PEN_WIDTH} for path in paths]
    gray = strokes.render_strokes(strokes.canvas_strokes(drawn))
    rgba = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    return {"strokes": drawn, "png": "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()}


def class_of_writers(records: list[dict]) -> tuple[str, str]:
    """A class whose students are the UNIPEN writers of ``records``: in turns, each sends one of their own digits of
    the label the store asks them for, until none has the digit asked left. Returns (code, teacher's secret)."""
    from core.classroom import store

    hands: dict[str, dict[str, list[dict]]] = {}
    for record in records:
        hands.setdefault(record["writer_key"], {}).setdefault(str(record["label"]), []).append(record)
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    drawing = {writer: store.join(info.code)[1] for writer in hands}
    while drawing:
        for writer, token in list(drawing.items()):
            prompt = store.rejoin(info.code, token).prompt
            if not hands[writer].get(prompt):
                del drawing[writer]  # out of this digit: the student stops
                continue
            record = hands[writer][prompt].pop()
            store.submit(info.code, token, record["id"], prompt, **unipen_payload(record))
    return info.code, secret
