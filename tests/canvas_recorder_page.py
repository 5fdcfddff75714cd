"""A page holding only the app's drawing canvas, which writes down what the canvas hands to Python.

Served by ``python -m tests.record_canvas_payloads`` (never by the app). The canvas is mounted as
``app_pages.ui.inputs.drawing_canvas`` mounts it (``live_canvas``); the pen width comes from the
address (``?pen=12``); with ``?send=Send`` it is mounted as a class's sheet mounts it (``sending_canvas``: a Send
button, the drawing sent only with it). Each run writes ``<n>.json`` to ``$VP_CANVAS_RECORD``: what ``live_canvas``
returned, or what a Send handed to its callback (``{"strokes", "png"}``, or None before the first stroke or without
a Send), exactly as received.
"""

import json
import os
from pathlib import Path

import streamlit as st

from app_pages.ui.live_canvas import live_canvas, sending_canvas

pen = int(st.query_params.get("pen", 20))
if label := st.query_params.get("send"):  # a class's sheet: the drawing comes only with Send, to its callback
    sending_canvas("canvas", pen, label, lambda drawing: st.session_state.update(sent=drawing))
    sent = st.session_state.pop("sent", None)
else:
    sent = live_canvas("canvas", pen)
n = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
folder = Path(os.environ["VP_CANVAS_RECORD"]) / st.query_params.get("session", "0")
folder.mkdir(parents=True, exist_ok=True)
tmp = folder / f"{n:04d}.tmp"
tmp.write_text(json.dumps({"run": n, "pen": pen, "sent": sent}))
tmp.rename(folder / f"{n:04d}.json")  # whole files only: the recorder polls the folder
st.write(f"run {n}")
