"""The live canvas alone, with the server's reading beside it: for trying the component and timing it."""

import streamlit as st

from app_pages.ui.live_canvas import live_canvas
from core.images import preprocess

drawing = live_canvas("canvas", 20, live=("dnn", "convnet", "resnet"), lead="resnet")
gray = preprocess.canvas_png_to_gray(drawing["png"]) if drawing else None
pre = preprocess.from_canvas(gray) if gray is not None else None
if pre is not None and not pre.empty:
    st.metric("Ink", int((pre.image > 0.5).sum()))
