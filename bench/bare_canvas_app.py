"""The baseline the Draw page is compared with: only the canvas and a number (its ink total)."""

import streamlit as st

from app_pages.ui.live_canvas import live_canvas
from core.images import preprocess

sent = live_canvas("canvas", 20)
gray = preprocess.canvas_png_to_gray(sent["png"]) if sent else None
if gray is not None and gray.max() > 0:
    st.metric("Prediction", int((gray > 0.5).sum() % 10))
