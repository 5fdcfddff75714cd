"""A page for tests/test_sessions.py: closes the expired sessions, then says how many it closed and how many sessions'
states are still in the server's memory."""

import gc
import weakref

import streamlit as st

from app_pages.ui import sessions


class Mark:
    """Kept in a session's state: alive for as long as that state is."""


@st.cache_resource
def states() -> weakref.WeakSet:
    return weakref.WeakSet()  # every session's mark, for as long as something holds it


closed = sessions.close_expired()
states().add(st.session_state.setdefault("mark", Mark()))
gc.collect()
st.write(f"closed {closed}, in memory {len(states())}")
