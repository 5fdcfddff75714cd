"""Whose browser this is: a random token the browser keeps in its own storage (localStorage), so that the
projects a visitor makes are theirs, across reloads and restarts, and not every visitor's.

The token is made in the browser the first time and never leaves it except to this app; the projects keep only
a digest of it (``core.own_classes.owner_key``). Clearing the browser's site data makes a new visitor. A small
component (components v2) reads it, so the first run of a session waits one round trip for it.
"""

from __future__ import annotations

import re

import streamlit as st

KEY = "own_viewer"  # the session's token, once the browser sent it
STORAGE_KEY = "vision-playground-owner"

_JS = f"""
export default function (component) {{
  const {{ data, setStateValue }} = component;
  let token = null;
  try {{ token = window.localStorage.getItem("{STORAGE_KEY}"); }} catch (e) {{}}
  if (!token) {{
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try {{ window.localStorage.setItem("{STORAGE_KEY}", token); }} catch (e) {{}}
  }}
  if (data !== token) setStateValue("token", token);  // once: the server knows it afterwards
}}
"""

_component = st.components.v2.component("vp_owner", js=_JS)
_TOKEN = re.compile(r"[0-9a-f]{32}")


def browser_token() -> str | None:
    """This browser's token, or None until the browser has sent it (the page then waits for the next run)."""
    known = st.session_state.get(KEY)
    sent = _component(key="vp_owner", data=known, default={"token": None}, on_token_change=lambda: None).token
    if isinstance(sent, str) and _TOKEN.fullmatch(sent):
        st.session_state[KEY] = known = sent
    return known
