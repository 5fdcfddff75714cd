"""The Draw page's answer panel: each chosen network's reading and what the network sees."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages.ui.charts import readings_row, to_png
from app_pages.ui.inputs import DRAW_A_DIGIT
from app_pages.ui.nets import NO_MODELS, best_model, predictors, title
from core.images import preprocess
from core.nets import registry

STEP_SIDE = 112  # each step's picture, in pixels, square
SQUARE_GREY = 0.25  # around a step's picture where it is not square: neither ink (white) nor ground (black)
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
    st.html(readings_row([dict(title=registry.get(name).title, blurb=registry.get(name).blurb, probs=probs, ms=ms)
                          for name, (probs, ms) in results.items()]))
    with st.expander("What the network sees", expanded=True):
        st.caption("MNIST digits were cropped, fitted into 20x20 and centred by their centre of mass. "
                   "Your drawing gets the same treatment, or the networks would misread it.")
        # One element for the four pictures, side by side: a column each would be nine messages a stroke, for
        # every learner on the server (bench/bench_classroom.py).
        shown = [step for step in STEP_CAPTIONS if step in pre.steps]
        st.image([to_png(in_square(pre.steps[step]), STEP_SIDE) for step in shown],
                 caption=[STEP_CAPTIONS[step] for step in shown], width=STEP_SIDE)


def in_square(image: np.ndarray) -> np.ndarray:
    """A step's picture centred on a square of dark grey: every step fills the same box, whatever the ink's
    shape (a 1 cropped to its ink is several times taller than wide), and the grey shows where the crop ends."""
    h, w = image.shape
    side = max(h, w)
    square = np.full((side, side), SQUARE_GREY, np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = image
    return square
