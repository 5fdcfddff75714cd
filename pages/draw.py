"""Draw page: draw a digit and watch three networks read it after every stroke."""

import streamlit as st

from core import preprocess
from pages.common import drawing_canvas, predictors, show_predictions

st.title("Draw a digit")
st.write("Three networks trained on MNIST read your drawing after every stroke. "
         "Which one gets it right, and how sure is it?")

predictors()  # load the networks with the page, not on the first stroke
draw_tab, upload_tab = st.tabs(["Draw", "Upload a picture"])


@st.fragment
def drawing() -> None:
    left, right = st.columns([1, 2])
    with left:
        width = st.slider("Pen width", 8, 40, 20, key="pen_width")
        gray = drawing_canvas("canvas", width)
        st.caption("Undo and clear are in the canvas toolbar.")
    with right:
        if gray is None:
            st.info("Draw a digit: the canvas is empty, or holds only a dot.", icon=":material/draw:")
            return
        show_predictions(preprocess.to_mnist(gray), key="draw")


@st.fragment
def upload() -> None:
    st.write(f"A photo, scan or drawing of one digit, dark on light or light on dark "
             f"(up to {preprocess.MAX_UPLOAD_BYTES // 2**20} MB and {preprocess.MAX_PIXELS // 10**6} megapixels).")
    file = st.file_uploader("Picture of a digit", type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"],
                            key="upload")
    if file is None:
        return
    try:
        pre = preprocess.to_mnist(preprocess.decode_image(file.getvalue()))
    except preprocess.InputError as e:
        st.error(f"Cannot read {file.name}: {e}.", icon=":material/error:")
        return
    if pre.empty:
        st.warning(f"No digit found in {file.name}: is it a picture of one digit?")
        return
    st.caption(f"Read as {'dark ink on light paper' if pre.inverted else 'light ink on a dark ground'}.")
    show_predictions(pre, key="upload")


with draw_tab:
    drawing()
with upload_tab:
    upload()
