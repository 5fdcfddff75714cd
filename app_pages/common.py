"""Pieces of UI shared by several pages: cached models and the prediction panel."""

from __future__ import annotations

import contextlib
import sys
import threading

import keras
import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from core import inference, preprocess, registry, runs, samples

_warming = threading.Lock()


# Cached per file version, so a model retrained while the app runs is picked up, not served stale.
@st.cache_resource(show_spinner="Loading a trained network...", max_entries=8)
def _model(name: str, version: int) -> keras.Model:
    return registry.load(name)


def model(name: str) -> keras.Model:
    """A shipped model, loaded once per server (and again when its file changes)."""
    return _model(name, registry.version(name))


@st.cache_resource(show_spinner="Preparing a trained network...", max_entries=8)
def _predictor(name: str, version: int) -> inference.Predictor:
    return inference.Predictor(name, model(name))


def predictor(name: str) -> inference.Predictor:
    """A shipped model ready for one-image calls (compiled once per server and model file)."""
    return _predictor(name, registry.version(name))


def predictors(names: list[str] | None = None) -> dict[str, inference.Predictor]:
    """The chosen models (default: the shipped Draw models), ready for one-image calls."""
    chosen = names if names is not None else registry.DRAW_MODELS
    return {name: predictor(name) for name in chosen if registry.version(name)}


@st.cache_data(ttl=10, show_spinner=False)
def _lab_models(dataset: str) -> list[str]:
    try:
        return registry.trained_in_lab(dataset)
    except Exception:  # noqa: BLE001 - an unreachable run store must not break the drawing pages
        return []


def _warm_store() -> None:
    with contextlib.suppress(Exception):
        runs.client()  # imports MLflow and opens the store


def lab_models(dataset: str = "mnist") -> list[str]:
    """Models trained in the lab on ``dataset`` (``run:<id>``), newest first; checked again every 10 s.

    MLflow takes a second or two to import. On a fresh server it is loaded by a side thread, so the first
    drawing is not kept waiting: the lab's models are offered from the next stroke on.
    """
    if not runs.store_exists():
        return []
    if "mlflow" not in sys.modules:
        with _warming:
            if not any(t.name == "warm-run-store" for t in threading.enumerate()):
                threading.Thread(target=_warm_store, name="warm-run-store", daemon=True).start()
        return []
    return _lab_models(dataset)


def title(name: str) -> str:
    """A model's title: 'ResNet', or 'ConvNet, run 7 (lr 0.01)' for one trained in the lab."""
    try:
        return registry.get(name).title
    except registry.ModelNotFound:
        return name


def network_picker(key: str) -> list[str]:
    """Which networks read the drawing: the shipped three by default, and any trained in the lab."""
    shipped = [n for n in (*registry.DRAW_MODELS, "net002") if registry.version(n)]
    options = shipped + lab_models("mnist")
    default = [n for n in registry.DRAW_MODELS if n in shipped]
    chosen = st.multiselect("Networks", options, default=default, format_func=title, key=key, max_selections=4,
                            help="Networks trained in the Training lab appear here when their runs finish.")
    return chosen or default


NO_MODELS = "No trained models found in assets/models. Train them with `./train_all.sh`."
DRAW_A_DIGIT = "Draw a digit: the canvas is empty, or holds only a dot."
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]


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
    width = st.slider("Pen width", 8, 40, st.session_state.get("pen", 20), key="pen_width")
    st.session_state["pen"] = width  # widget state is dropped on pages without the slider; this is not
    return width


def drawing_canvas(key: str, stroke_width: int | None = None, shared: bool = True) -> np.ndarray | None:
    """The drawing canvas, shared across pages: returns its picture as gray in [0, 1], or None.

    The drawing itself is kept in the session, so a canvas on another page
    starts from it. It is handed to the canvas only when the canvas first
    appears, because a changed initial drawing resets the canvas and its undo.
    ``shared=False``: a canvas of its own that starts blank (drawing examples to collect).
    """
    if not shared:
        canvas = st_canvas(stroke_width=stroke_width or st.session_state.get("pen", 20), stroke_color="#FFFFFF",
                           background_color="#000000", width=280, height=280, drawing_mode="freedraw", key=key,
                           return_image_data=True, update_streamlit=True)
        return preprocess.canvas_to_gray(canvas.image_data) if canvas.image_data is not None else None
    if key not in st.session_state:
        st.session_state[f"{key}_initial"] = st.session_state.get("drawing_json")
    stroke_width = stroke_width or st.session_state.get("pen", 20)
    canvas = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF", background_color="#000000",
                       width=280, height=280, drawing_mode="freedraw", key=key, return_image_data=True,
                       update_streamlit=True, initial_drawing=st.session_state.get(f"{key}_initial"))
    if canvas.json_data is not None and canvas.json_data.get("objects") is not None:
        st.session_state["drawing_json"] = canvas.json_data
    rgba = canvas.image_data
    if rgba is None:
        # A canvas restored from the session has not sent its pixels yet: use the last ones seen.
        return st.session_state.get("drawing_gray") if st.session_state.get("drawing_json") else None
    gray = preprocess.canvas_to_gray(rgba)
    st.session_state["drawing_gray"] = gray
    return gray


@st.cache_data(max_entries=4)
def _best_model(versions: tuple[int, ...]) -> str:
    return registry.best_model()


def best_model() -> str:
    """The Draw model behind ``Prediction``: the most accurate on MNIST's test set."""
    return _best_model(tuple(registry.version(n) for n in registry.DRAW_MODELS))


def to_png(image: np.ndarray, size: int = 112) -> Image.Image:
    """A float image in [0, 1] as a grayscale picture, enlarged with hard pixel edges."""
    img = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8), mode="L")
    scale = size / max(img.size)
    new = (max(int(img.width * scale), 1), max(int(img.height * scale), 1))
    return img.resize(new, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BOX)


# Passing the layout to the constructor is several times faster than update_layout, which matters per stroke.
PROB_LAYOUT = dict(height=180, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                   yaxis=dict(range=[0, 1], tickformat=".0%"), xaxis=dict(type="category"))
DIGITS = [str(i) for i in range(10)]


def prob_chart(probs: np.ndarray, highlight: int, labels: list[str] | None = None) -> go.Figure:
    """A bar per class (digits unless ``labels`` are given), the ``highlight``-ed one in red."""
    colours = ["#ff4b4b" if i == highlight else "#8aa8c8" for i in range(len(probs))]
    bar = go.Bar(x=labels or DIGITS[: len(probs)], y=probs, marker_color=colours,
                 hovertemplate=("%{x}" if labels else "digit %{x}") + ": %{y:.1%}<extra></extra>")
    return go.Figure(data=[bar], layout=PROB_LAYOUT)


STEP_CAPTIONS = {
    "input": "1. your picture (ink made white)",
    "crop": "2. cropped to the ink",
    "fit20": "3. fitted into a 20x20 box",
    "centred": "4. centred by mass in 28x28",
}


def show_predictions(pre: preprocess.Preprocessed | None, key: str, names: list[str] | None = None) -> None:
    """The chosen networks' readings of one preprocessed input (default: the shipped three), and what they saw."""
    if pre is None or pre.empty:
        st.info(DRAW_A_DIGIT, icon=":material/draw:")
        return
    models = predictors(names)
    if not models:
        st.error(NO_MODELS)
        return
    results = {name: p.predict(pre.image) for name, p in models.items()}
    best = best_model() if best_model() in results else next(iter(results))
    best_probs = results[best][0]
    top = int(best_probs.argmax())
    st.metric("Prediction", top, help=f"The {title(best)}'s answer, the most accurate network here.")
    st.caption(f"{title(best)} is {best_probs[top]:.1%} sure.")
    for col, (name, (probs, ms)) in zip(st.columns(len(results)), results.items()):
        with col:
            spec = registry.get(name)
            first = inference.top_k(probs, 3)
            st.markdown(f"**{spec.title}** reads **{first[0][0]}**", help=spec.blurb)
            st.caption(" · ".join(f"{d}: {p:.1%}" for d, p in first) + f" — {ms:.1f} ms")
            st.plotly_chart(prob_chart(probs, first[0][0]), key=f"{key}-{name}",
                            config={"displayModeBar": False})
    with st.expander("What the network sees", expanded=True):
        st.caption("MNIST digits were cropped, fitted into 20x20 and centred by their centre of mass. "
                   "Your drawing gets the same treatment, or the networks would misread it.")
        cols = st.columns(len(STEP_CAPTIONS))
        for col, (step, caption) in zip(cols, STEP_CAPTIONS.items()):
            if step in pre.steps:
                col.image(to_png(pre.steps[step]), caption=caption, width=112)


def panels(traces: list[list[go.Scatter | dict]], titles: list[str], height: int, x_title: str = "epoch",
           shared_y: bool = False, **layout) -> go.Figure | dict:
    """Charts side by side in one figure, laid out by hand: several times faster to build than
    ``make_subplots``, which matters on a page that refreshes every two seconds.

    Traces given as plain dicts give the figure as a plain dict: ``st.plotly_chart`` checks it once,
    instead of once per trace and again for the figure (about 30 ms saved per stroke for 12 curves).
    """
    n, gap = len(traces), 0.08
    width = (1 - gap * (n - 1)) / n
    axes, data = {}, []
    for i, group in enumerate(traces):
        suffix = "" if i == 0 else str(i + 1)
        axes[f"xaxis{suffix}"] = dict(domain=[i * (width + gap), i * (width + gap) + width], title=x_title,
                                      anchor=f"y{suffix}")
        axes[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", **({"matches": "y"} if shared_y and i else {}))
        for trace in group:
            trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
            data.append(trace)
    notes = [dict(text=t, x=i * (width + gap) + width / 2, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                  showarrow=False) for i, t in enumerate(titles)]
    merged = dict(height=height, margin=dict(l=0, r=0, t=24, b=0), annotations=notes,
                  legend=dict(orientation="h", y=-0.3), **axes)
    for key, value in layout.items():
        merged[key] = merged.get(key, {}) | value if isinstance(value, dict) else value
    if data and all(isinstance(trace, dict) for trace in data):
        return {"data": data, "layout": merged}
    return go.Figure(data=data, layout=merged)
