"""The drawing canvas as one Streamlit component (components v2): drawing, undo, redo, clear, and the shipped
networks' live reading while the pen moves, computed in the browser (static/live/canvas.mjs).

The component's code is served by the app itself from ``static/`` (``server.enableStaticServing``): the inline
script below only loads it, relative to the page's address, so the app also works under a base URL path.
"""

from __future__ import annotations

import streamlit as st

from app_pages.ui.nets import title

_JS = """
export default function (component) {
  const url = new URL("app/static/live/canvas.mjs", document.baseURI);
  import(url.href).then((m) => m.mount(component));
}
"""

_CSS = """
.vp-canvas { max-width: 280px; }
canvas { width: 100%; max-width: 280px; aspect-ratio: 1; display: block; touch-action: none;
         border-radius: 0.5rem; cursor: crosshair; background: #000; }
.vp-toolbar { display: flex; gap: 0.4rem; margin: 0.4rem 0; }
.vp-toolbar button { flex: 1; min-height: 2.5rem; font: inherit; font-size: 0.9rem; border-radius: 0.5rem;
                     border: 1px solid var(--st-border-color, #ccc); background: var(--st-background-color, #fff);
                     color: var(--st-text-color, #222); cursor: pointer; touch-action: manipulation; }
.vp-toolbar button:disabled { opacity: 0.4; cursor: default; }
.vp-live { font-size: 0.85rem; color: var(--st-text-color, #222); }
.vp-row { display: flex; align-items: flex-end; gap: 0.5rem; margin: 0.2rem 0; }
.vp-name { width: 4.5rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.vp-digit { width: 1.2rem; font-size: 1.3rem; font-weight: 600; }
.vp-bars { display: flex; align-items: flex-end; gap: 2px; height: 42px; }
.vp-bar { position: relative; width: 13px; background: #9ab; border-radius: 2px 2px 0 0; margin-bottom: 13px; }
.vp-bar.vp-top { background: var(--st-primary-color, #ff4b4b); }
.vp-label { position: absolute; bottom: -14px; width: 13px; text-align: center; font-size: 0.65rem; }
.vp-hint { opacity: 0.7; }
.vp-send { width: 100%; min-height: 2.75rem; margin: 0.2rem 0 0.4rem; font: inherit; font-weight: 600;
           border-radius: 0.5rem; border: none; background: var(--st-primary-color, #ff4b4b); color: #fff;
           cursor: pointer; touch-action: manipulation; }
.vp-send:disabled { opacity: 0.4; cursor: default; }
"""

_component = st.components.v2.component("vp_canvas", js=_JS, css=_CSS)
SENT = "sent"  # the trigger a Send sets (static/live/canvas.mjs)


def live_canvas(key: str, pen: int, drawn: list[dict] | None = None, live: tuple[str, ...] = (),
                lead: str | None = None) -> dict | None:
    """Mount the canvas; returns what it last sent, ``{"strokes": [...], "png": ...}``, or None before any stroke.

    ``drawn``: strokes to start from (a drawing made on another page). ``live``: the networks read in the
    browser while the pen moves (those with a browser copy, ``core.nets.browser``); ``lead``: the one the live
    panel's attributes follow."""
    result = _component(key=key, data=_data(pen, drawn, live, lead), default={"drawing": None},
                        on_drawing_change=lambda: None)
    return result.drawing


def sending_canvas(key: str, pen: int, label: str, on_send, live: tuple[str, ...] = (),
                   lead: str | None = None) -> None:
    """Mount the canvas with a Send button (``label``) under it: the strokes stay in the browser, no rerun each,
    and Send sends the whole drawing at once, as one trigger; ``on_send`` is called with it, ``{"strokes",
    "png"}``, before the fragment or page that holds the canvas runs again (a class's sheet, where thirty
    students' strokes were a third of the server's reruns)."""
    def sent() -> None:
        drawing = st.session_state[key].get(SENT)
        if isinstance(drawing, dict):
            on_send(drawing)

    _component(key=key, data=_data(pen, None, live, lead) | {"send": label}, on_sent_change=sent)


def _data(pen: int, drawn: list[dict] | None, live: tuple[str, ...], lead: str | None) -> dict:
    return {"pen": int(pen), "strokes": drawn or [], "live": list(live), "lead": lead or (live[0] if live else None),
            "titles": {n: title(n) for n in live}}
