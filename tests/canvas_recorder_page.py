"""A page holding only the app's drawing canvas, which writes down what the canvas hands to Python.

Served by ``python -m tests.record_canvas_payloads`` (never by the app). The canvas is made as
``app_pages.ui.inputs.drawing_canvas`` makes it (``inputs.CANVAS``); the pen width comes from the
address (``?pen=12``). Each run writes ``<n>.json`` to ``$VP_CANVAS_RECORD``: the canvas' ``json_data``
exactly as received, a summary of its ``image_data`` (shape, dtype, a hash, a 28x28 copy) and the PNG
the canvas sent (``image_bytes``, which ``image_data`` is read from).
"""

import base64
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from app_pages.ui import inputs
from core.images import preprocess


def image_summary(rgba: np.ndarray | None) -> dict | None:
    if rgba is None:
        return None
    gray = preprocess.canvas_to_gray(rgba)
    small = Image.fromarray(gray.astype(np.float32), mode="F").resize((28, 28), Image.Resampling.BOX)
    return {"shape": list(rgba.shape), "dtype": str(rgba.dtype),
            "sha256": hashlib.sha256(np.ascontiguousarray(rgba).tobytes()).hexdigest(),
            "alpha": [int(rgba[..., 3].min()), int(rgba[..., 3].max())] if rgba.shape[-1] == 4 else None,
            "gray_channels": bool((rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all()),
            "ink": round(float(gray.sum()), 2),  # the sum of the 280x280 gray picture in [0, 1]
            "gray28": np.rint(np.asarray(small) * 255).astype(int).tolist()}


pen = int(st.query_params.get("pen", 20))
canvas = st_canvas(stroke_width=pen, key="canvas", **inputs.CANVAS)
n = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
folder = Path(os.environ["VP_CANVAS_RECORD"]) / st.query_params.get("session", "0")
folder.mkdir(parents=True, exist_ok=True)
record = {"run": n, "pen": pen, "json_data": canvas.json_data, "image": image_summary(canvas.image_data),
          "png": base64.b64encode(canvas.image_bytes).decode() if canvas.image_bytes is not None else None}
tmp = folder / f"{n:04d}.tmp"
tmp.write_text(json.dumps(record))
tmp.rename(folder / f"{n:04d}.json")  # whole files only: the recorder polls the folder
st.write(f"run {n}")
