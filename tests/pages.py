"""Open one page of the app through AppTest, as every page test does."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app_pages.ui import state as keys
from tests.busy import stretched

TIMEOUT = 180  # the first run of a page loads TensorFlow and the models (on a quiet machine: see tests/busy.py)


def open_page(page: str | None = None, state: dict | None = None, timeout: float = TIMEOUT) -> AppTest:
    """The app run once, switched to ``app_pages/<page>.py`` (None: the Draw page it opens on), with
    ``state`` put in the session first; fails the test on any exception the page raises."""
    at = AppTest.from_file("../app.py", default_timeout=stretched(timeout))
    at.run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py")
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if page is not None or state:
        at.run()
    assert not at.exception, at.exception
    return at


def drawing_state(gray, drawn=None) -> dict:
    """What the shared canvas leaves in the session after a stroke: its pixels and its strokes."""
    return {keys.DRAWING_GRAY: gray, keys.DRAWING: drawn or []}
