"""What a learner gives a page: the shared drawing canvas, the pen width, an uploaded picture."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages.ui import state
from app_pages.ui.charts import to_png
from app_pages.ui.live_canvas import live_canvas
from core.data import samples
from core.images import preprocess, strokes

DRAW_A_DIGIT = "Draw a digit: the canvas is empty, or holds only a dot."


UPLOAD_TYPES = [suffix.removeprefix(".") for suffix in preprocess.IMAGE_SUFFIXES]


def upload_input(key: str) -> preprocess.Preprocessed | None:
    """An uploaded picture of a digit, preprocessed; None, with a clear message, when there is none to read."""
    st.write(f"A photo, scan or drawing of one digit, dark on light or light on dark "
             f"(up to {preprocess.MAX_UPLOAD_BYTES // 2**20} MB and {preprocess.MAX_PIXELS // 10**6} megapixels).")
    file = st.file_uploader("Picture of a digit", type=UPLOAD_TYPES, key=key)
    if file is not None:
        name, content = file.name, file.getvalue()
        shown = st.empty()  # the picture as uploaded, once it is known to be one
    else:
        shipped = samples.examples()
        choice = st.pills("No picture at hand? Try one of these", list(shipped), key=f"{key}_example")
        if choice is None:
            return None
        name, content = shipped[choice].name, shipped[choice].read_bytes()
        st.image(content, caption=f"{choice}, as uploaded", width=160)
        shown = None
    try:
        decoded = preprocess.decode_image(content)
        if shown is not None:  # shown as read (first inked frame of an animation, turned upright), as a PNG
            shown.image(to_png(decoded, 160), caption=f"{name}, as uploaded", width=160)
        if (frame := preprocess.animation_frame(content)) is not None:
            st.caption(f"{name} is an animation of {frame[1]} frames: only one is read, frame {frame[0] + 1}, "
                       f"the first with ink.")
        pre = preprocess.to_mnist(decoded)
    except preprocess.InputError as e:
        st.error(f"Cannot read {name}: {e}.", icon=":material/error:")
        return None
    except Exception as e:  # noqa: BLE001 - a picture nobody foresaw gets words, not a traceback
        st.error(f"Cannot read {name}: this picture could not be processed ({type(e).__name__}: {e}).",
                 icon=":material/error:")
        return None
    if pre.empty:
        st.warning(f"No digit found in {name}: is it a picture of one digit?")
        return None
    st.caption(f"Read as {'dark ink on light paper' if pre.inverted else 'light ink on a dark ground'}.")
    return pre


def pen_width() -> int:
    """The pen width slider; its value is kept for the session, so every page's canvas draws alike."""
    width = st.slider("Pen width", *strokes.PEN_WIDTHS, st.session_state.get(state.PEN, strokes.PEN_WIDTH),
                      key="pen_width")
    st.session_state[state.PEN] = width  # widget state is dropped on pages without the slider; this is not
    return width


def drawing_canvas(key: str, stroke_width: int | None = None, shared: bool = True, live: tuple[str, ...] = (),
                   lead: str | None = None) -> np.ndarray | None:
    """The drawing canvas, shared across pages: returns its picture as gray in [0, 1], or None.

    The drawing itself is kept in the session, so a canvas on another page
    starts from it. It is handed to the canvas only when the canvas first
    appears, so that the canvas keeps its own undo history while it lives.
    ``shared=False``: a canvas of its own that starts blank (drawing examples to collect).
    ``live``: networks that read the drawing in the browser while the pen moves (``live_canvas``).
    """
    pen = stroke_width or st.session_state.get(state.PEN, strokes.PEN_WIDTH)
    if not shared:
        sent = live_canvas(key, pen, live=live, lead=lead)
        return preprocess.canvas_png_to_gray(sent.get("png")) if sent else None
    if key not in st.session_state:
        st.session_state[f"{key}_initial"] = st.session_state.get(state.DRAWING)
    sent = live_canvas(key, pen, drawn=st.session_state.get(f"{key}_initial"), live=live, lead=lead)
    if not sent:
        # A canvas restored from the session has not sent its picture yet: use the last one seen.
        return st.session_state.get(state.DRAWING_GRAY)
    gray = preprocess.canvas_png_to_gray(sent.get("png"))
    st.session_state[state.DRAWING] = sent.get("strokes") or []
    st.session_state[state.DRAWING_GRAY] = gray
    return gray
