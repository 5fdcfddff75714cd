"""Vision Playground: learn image recognition with deep networks by doing it.

Run with ``streamlit run app.py``. This file only sets up the pages; every
page is a thin lesson over the ``core`` package.
"""

import streamlit as st

from core import device

# The server and the model share the CPU: keep the model to one thread so the page stays responsive.
device.configure_threads(intra_op=1, inter_op=1)

st.set_page_config(page_title="Vision Playground", page_icon=":material/draw:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page("pages/filters.py", title="Filters", icon=":material/filter:"),
    ]
)
with st.sidebar:
    st.caption(f"Computing on **{device.device_label()}**")
navigation.run()
