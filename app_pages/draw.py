"""Draw page: draw a digit and watch three networks read it after every stroke."""

import streamlit as st

from app_pages.ui.inputs import drawing_canvas, pen_width, upload_input
from app_pages.ui.nets import best_model, live_models, live_reading_offer, network_picker, predictors
from app_pages.ui.readings import show_predictions
from core.images import preprocess
from core.nets import registry

st.title("Draw a digit")
st.write("Three networks trained on MNIST read your drawing as you draw it, and again in full after every "
         "stroke. Which one gets it right, and how sure is it?")

predictors()  # load the networks with the page, not on the first stroke
draw_tab, upload_tab = st.tabs(["Draw", "Upload a picture"])


@st.fragment
def drawing() -> None:
    left, right = st.columns([1, 2])
    # The networks also read the drawing in the browser while the pen moves (their ONNX copies): the shipped ones,
    # and the lab's chosen below once they have a copy (the picker's value from the run before: it comes later).
    lab = tuple(n for n in st.session_state.get("draw_networks") or [] if n.startswith(registry.RUN_PREFIX))
    with left:
        gray = drawing_canvas("canvas", pen_width(), live=live_models(lab), lead=best_model())
    with right:  # after the canvas, so the canvas is drawable before the lab's models are listed
        names = network_picker("draw_networks")
        live_reading_offer(names)
        show_predictions(preprocess.from_canvas(gray) if gray is not None else None, key="draw", names=names)


@st.fragment
def upload() -> None:
    pre = upload_input("upload")
    if pre is not None:
        show_predictions(pre, key="upload", names=network_picker("upload_networks"))


with draw_tab:
    drawing()
with upload_tab:
    upload()
