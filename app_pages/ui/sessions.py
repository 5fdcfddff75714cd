"""Close the sessions of tabs that have left, so that a class's memory comes back when it goes.

Streamlit keeps a closed tab's session for ``server.disconnectedSessionTTL`` seconds (two minutes), in case the tab
reconnects, in a ``cachetools.TTLCache``. That cache forgets an expired entry only when another session is stored, and
even then it never shuts the session down: its state, its pictures in the media store and its script thread's event
loop stay for as long as the server runs (streamlit/streamlit#12506, open in 1.67). Once a minute the server shuts the
expired ones down itself, as Streamlit does for a session it closes, then hands the freed pages back
(``core.base.memory``). ``bench/bench_classroom.py`` measures the server's memory after a class leaves. The reach into
Streamlit's session storage lives in ``app_pages.ui.streamlit_patches``.
"""

from __future__ import annotations

import logging
import threading

import streamlit as st

from app_pages.ui import streamlit_patches
from core.base import memory


def close_expired() -> int:
    """Shut down the sessions whose tabs left more than the TTL ago; how many there were."""
    expired = streamlit_patches.expired_sessions() or []
    for info in expired:
        try:
            info.session.shutdown()
        except Exception:  # noqa: BLE001 - one session failing to close must not stop the others or the server
            logging.getLogger(__name__).warning("could not close an expired session", exc_info=True)
    return len(expired)


def _tidy() -> None:
    close_expired()
    memory.release_free_memory()


@st.cache_resource
def tidy_while_serving() -> threading.Thread:
    """Once per server: every minute, close the expired sessions and give their memory back to the system."""
    return memory.keep_releasing(release=_tidy)
