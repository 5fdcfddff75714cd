"""Vision Playground: learn image recognition with deep networks by doing it.

Run with ``streamlit run app.py``. This file only sets up the pages; every
page is a thin lesson over the ``core`` package. The pages live in
``app_pages/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside the
entry script as its legacy auto-discovered pages, and a fresh server whose first
visitor opens a page's own address (``/filters``) would run that file alone,
without this frame.
"""

import streamlit as st

from app_pages.ui import nets, sessions, streamlit_patches
from core.base import device, paths

ROOT = paths.ROOT

# The server and the model share the CPU: keep the model to one thread so the page stays responsive.
device.configure_threads(intra_op=1, inter_op=1)

# Streamlit would call keras.backend.clear_session() after every rerun, throwing away TensorFlow's compiled kernels
# (about 200 ms a stroke): turned off here, on every rerun (tests/test_app.py checks it stays off).
streamlit_patches.keep_compiled_kernels()

# A local icon: a Material icon here would make every page load fetch it from a font server, which an offline
# classroom cannot reach.
st.set_page_config(page_title="Vision Playground", page_icon=str(ROOT / "assets" / "icon.png"), layout="wide")

navigation = st.navigation(
    {
        "Explore": [
            st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:", default=True),
            st.Page("app_pages/filters.py", title="Filters", icon=":material/filter:"),
            st.Page("app_pages/explain.py", title="Explain", icon=":material/psychology:"),
        ],
        "Class": [
            st.Page("app_pages/classroom.py", title="Class", icon=":material/school:", url_path="class"),
        ],
        "Training lab": [
            st.Page("app_pages/compare.py", title="Compare", icon=":material/leaderboard:"),
            st.Page("app_pages/lr_sweep.py", title="Learning rate", icon=":material/speed:", url_path="learning-rate"),
            st.Page("app_pages/grid.py", title="Grid and search", icon=":material/grid_on:", url_path="grid"),
            st.Page("app_pages/datasets.py", title="Data sets", icon=":material/photo_library:", url_path="datasets"),
        ],
        "Transfer lab": [
            st.Page("app_pages/transfer.py", title="Digits to letters", icon=":material/translate:",
                    url_path="letters"),
            st.Page("app_pages/own_classes.py", title="Your own classes", icon=":material/category:",
                    url_path="own-classes"),
            st.Page("app_pages/backbones.py", title="Backbones for photos", icon=":material/photo_camera:",
                    url_path="backbones"),
        ],
    }
)
with st.sidebar:
    st.caption(f"Computing on **{device.device_label()}**")
# Runs left RUNNING by an earlier server are marked FAILED when this one starts, whichever page is opened first
# (on a side thread, once per process).
nets.reconcile_on_start()
# The Explain page's nearest-digit indexes are computed ahead, on a side thread, so a first visit need not wait.
nets.build_indexes_ahead()
sessions.tidy_while_serving()  # a class's memory comes back after it leaves
navigation.run()
