"""A class's student kept in the browser's own storage (localStorage): the rejoin token of each class this browser
joined, by class code, so that a student who opens the plain join address again, or reloads a page whose address
lost its token, is the same student with the same drawings, not a new one.

The token is the one the address carries (``?class=CODE&student=TOKEN``); the browser keeps it beside the owner
token of ``owner.py``, and sends it only to this app. Another browser (or one whose site data was cleared) joins as
a new student. A small component (components v2) reads and writes it; until the browser has answered, the page
shows no form to join (``classroom.rejoin_from_browser`` says why).
"""

from __future__ import annotations

import re

import streamlit as st

STORAGE_KEY = "vision-playground-class-students"
KEY = "class_kept_tokens"  # what the browser said it keeps, by class code, once it said it

_JS = f"""
export default function (component) {{
  const {{ data, setStateValue }} = component;
  let kept = {{}};
  try {{ kept = JSON.parse(window.localStorage.getItem("{STORAGE_KEY}")) || {{}}; }} catch (e) {{}}
  if (data.keep) {{  // this browser's student of the class: keep their token
    if (kept[data.code] !== data.keep) {{
      kept[data.code] = data.keep;
      try {{ window.localStorage.setItem("{STORAGE_KEY}", JSON.stringify(kept)); }} catch (e) {{}}
    }}
    return;
  }}
  const token = typeof kept[data.code] === "string" ? kept[data.code] : "";
  if (data.known !== token) setStateValue("token", token);  // once: the server knows it afterwards
}}
"""

_component = st.components.v2.component("vp_class_student", js=_JS)
_TOKEN = re.compile(r"[\w-]{16,64}")  # keys.new_token's alphabet


def keep(code: str, token: str) -> None:
    """Keep ``token`` in this browser as its student of class ``code``."""
    _component(key="vp_class_student_keep", data={"code": code, "keep": token})


def kept_token(code: str) -> str | None:
    """The token this browser keeps for class ``code``: "" when none, None until the browser has said."""
    known = st.session_state.get(KEY, {}).get(code)
    sent = _component(key=f"vp_class_student_{code}", data={"code": code, "known": known}, default={"token": None},
                      on_token_change=lambda: None).token
    if isinstance(sent, str) and (sent == "" or _TOKEN.fullmatch(sent)):
        st.session_state.setdefault(KEY, {})[code] = known = sent
    return known
