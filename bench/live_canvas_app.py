"""The live canvas alone, with the server's ink count under it: for trying the component and timing it
(``bench/bench_browser.py --live``)."""

import streamlit as st

from app_pages.ui.live_canvas import live_canvas
from core.images import preprocess

live = tuple(st.query_params.get("live", "dnn,convnet,resnet").split(","))  # ?live=dnn: the DNN alone
drawing = live_canvas("canvas", 20, live=live, lead=live[-1])
gray = preprocess.canvas_png_to_gray(drawing["png"]) if drawing else None
pre = preprocess.from_canvas(gray) if gray is not None else None
if pre is not None and not pre.empty:
    st.metric("Ink", int((pre.image > 0.5).sum()))
