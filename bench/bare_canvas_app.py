"""The baseline the Draw page is compared with: only the canvas and a number (its ink total)."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

canvas = st_canvas(stroke_width=20, stroke_color="#FFFFFF", background_color="#000000", width=280, height=280,
                   drawing_mode="freedraw", key="canvas", return_image_data=True, update_streamlit=True)
if canvas.image_data is not None and canvas.image_data[..., :3].max() > 0:
    st.metric("Prediction", int(canvas.image_data[..., 0].astype(bool).sum() % 10))
