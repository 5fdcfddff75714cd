"""The teacher's section of "Letters with many hands" (activity 4) on the Class page: name the letters, start the
activity, teach the two heads, and see one hand's head beside the class's, both read on held-out students.

The heads are taught in the background (``core.classroom.letters.train_in_background``): the page never waits for
them; the section's figures look for the result every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app_pages.ui import nets
from core import own_classes
from core.classroom import captions, letters, store

REFRESH_S = 2  # the figures look for a new result this often
TYPED, REFUSED = "class_letters_typed", "class_letters_refused"


def ask(label: str) -> str:
    """What a student is asked: "Draw the letter beta (β)"; the glyph where the letter is a Greek one."""
    names = letters.greek_names([label])
    glyph = letters.greek_hands.GLYPHS.get(names[0]) if names else None
    return f"Draw the letter {label}" + (f" ({glyph})" if glyph and glyph != label else "")


def percent(score: letters.HeadScore | None) -> str:
    return f"{score.accuracy:.0%}" if score is not None and score.read else "-"


@st.fragment(run_every=REFRESH_S)
def figures(code: str, hook: Callable[..., None]) -> None:
    """How many of each letter the class drew, and the two heads side by side once taught."""
    try:
        info = store.class_info(code)
        drawn = store.drawn_counts(code, letters=True)
    except store.ClassError as e:
        st.error(str(e), icon=":material/error:")
        return
    st.caption("Drawn so far: " + ", ".join(f"{letter} {drawn[letter]}" for letter in info.letters))
    result = letters.latest(code)
    if letters.running(code):
        st.info("Teaching the two heads...", icon=":material/hourglass_top:")
    if info.activity != store.LETTERS:  # during the activity the wall below says it (``captions.caption``)
        st.subheader(captions.letters_caption(result))
    if result is None:
        return
    left, right = st.columns(2)
    for column, score, testid, name in ((left, result.one_hand, "vp-class-letters-one", "Taught by one hand"),
                                        (right, result.many_hands, "vp-class-letters-class", "Taught by the class")):
        with column:
            hook(testid, accuracy=f"{score.accuracy:.4f}" if score else "",
                 right=score.right if score else "", read=score.read if score else "")
            if score is None:
                st.metric(name, "-")
                continue
            st.metric(name, percent(score), help=f"{score.right} of the {score.read} letters of the "
                                                 f"{result.held_out_students} held-out students read right")
            st.caption(f"{score.taught_by}: {score.drawings} drawings by {score.students} "
                       f"{'hand' if score.students == 1 else 'students'}")
    st.caption(f"Both heads: a new last layer on the {nets.title(result.model)}'s frozen features, read on "
               f"{result.held_out_students} students held out of both (split by student, never by drawing).")


def start(code: str, secret: str) -> None:
    """The press of "Start letters" (a callback: it runs before the page is drawn again, and the activity picker
    above follows the store's new activity)."""
    try:
        store.set_letters(code, secret, [t for t in st.session_state[TYPED].split(",") if t.strip()])
        store.set_activity(code, secret, store.LETTERS)
    except store.ClassError as e:
        st.session_state[REFUSED] = str(e)


def section(code: str, secret: str, info: store.ClassInfo, hook: Callable[..., None]) -> None:
    """Letters with many hands: the teacher names the letters, starts the activity and teaches the heads."""
    with st.expander("Letters with many hands: one hand's letter reader against the class's, on classmates "
                     "neither saw", expanded=info.activity == store.LETTERS):
        with st.form("class_letters_start"):
            st.text_input(f"The letters to draw (2 to {store.MAX_LETTERS}, separated by commas: letters, or any "
                          "classes)", ", ".join(info.letters), key=TYPED)
            st.form_submit_button("Start letters", icon=":material/translate:", type="primary", on_click=start,
                                  args=(code, secret))
        if st.session_state.get(REFUSED):
            st.error(st.session_state.pop(REFUSED), icon=":material/error:")
        cols = st.columns([2, 1])
        model = cols[0].selectbox("Frozen network", own_classes.NETWORKS, index=own_classes.NETWORKS.index(
            letters.MODEL), format_func=nets.title, key="class_letters_model",
            help="Net 002 (report 002's) learnt digits only: every letter is new to it.")
        if cols[1].button("Teach the heads", icon=":material/model_training:"):
            try:
                letters.train_in_background(code, secret, model)
            except (store.ClassError, store.NotAllowed) as e:
                st.error(str(e), icon=":material/error:")
        figures(code, hook)
