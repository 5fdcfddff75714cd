"""The Draw page's answer panel: each chosen network's reading and what the network sees."""

from __future__ import annotations

import streamlit as st

from app_pages.ui.charts import prob_chart, to_png
from app_pages.ui.inputs import DRAW_A_DIGIT
from app_pages.ui.nets import NO_MODELS, best_model, predictors, title
from core.images import preprocess
from core.nets import inference, registry

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
    # Three side by side; four in two rows of two: a chart a quarter of the column wide is clipped (plotly draws it
    # at least 150 px wide).
    per_row = len(results) if len(results) <= 3 else 2
    cols = [col for _ in range(0, len(results), per_row) for col in st.columns(per_row)]
    for col, (name, (probs, ms)) in zip(cols, results.items()):
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
        # One element for the four pictures, side by side: a column each would be nine messages a stroke, for
        # every learner on the server (bench/bench_classroom.py).
        shown = [step for step in STEP_CAPTIONS if step in pre.steps]
        st.image([to_png(pre.steps[step]) for step in shown], caption=[STEP_CAPTIONS[step] for step in shown],
                 width=112)
