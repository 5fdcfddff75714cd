"""A page holding only the app's drawing canvas, which writes down what the canvas hands to Python.

Served by ``python -m tests.record_canvas_payloads`` (never by the app). The canvas is mounted as
``app_pages.ui.inputs.drawing_canvas`` mounts it (``live_canvas``); the pen width comes from the
address (``?pen=12``). Each run writes ``<n>.json`` to ``$VP_CANVAS_RECORD``: what ``live_canvas``
returned (``{"strokes", "png"}``, or None before the first stroke), exactly as received.
"""

import json
import os
from pathlib import Path

import streamlit as st

from app_pages.ui.live_canvas import live_canvas

pen = int(st.query_params.get("pen", 20))
sent = live_canvas("canvas", pen)
n = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
folder = Path(os.environ["VP_CANVAS_RECORD"]) / st.query_params.get("session", "0")
folder.mkdir(parents=True, exist_ok=True)
tmp = folder / f"{n:04d}.tmp"
tmp.write_text(json.dumps({"run": n, "pen": pen, "sent": sent}))
tmp.rename(folder / f"{n:04d}.json")  # whole files only: the recorder polls the folder
st.write(f"run {n}")
