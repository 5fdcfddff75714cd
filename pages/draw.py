"""Draw page: draw a digit and watch three networks read it after every stroke."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core import preprocess
from pages.common import show_predictions

st.title("Draw a digit")
st.write("Three networks trained on MNIST read your drawing after every stroke. "
         "Which one gets it right, and how sure is it?")

draw_tab, upload_tab = st.tabs(["Draw", "Upload a picture"])


@st.fragment
def drawing() -> None:
    left, right = st.columns([1, 2])
    with left:
        width = st.slider("Pen width", 8, 40, 20, key="pen_width")
        canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000",
                           width=280, height=280, drawing_mode="freedraw", key="canvas",
                           return_image_data=True, update_streamlit=True)
        st.caption("Undo and clear are in the canvas toolbar.")
    with right:
        rgba = canvas.image_data
        gray = preprocess.canvas_to_gray(rgba) if rgba is not None else None
        pre = preprocess.to_mnist(gray) if gray is not None else None
        if pre is None:
            st.info("Draw a digit: the canvas is empty, or holds only a dot.", icon=":material/draw:")
            return
        st.session_state["drawing_gray"] = gray
        show_predictions(pre, key="draw")


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
