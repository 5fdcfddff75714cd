"""A class's memory comes back after it leaves: the server closes the sessions of tabs that left once their
reconnect time is over (app_pages.ui.sessions), instead of keeping them until another tab happens to leave."""

import asyncio
import contextlib
import re
import time

import pytest

from bench.harness import browser

TTL_S = 3  # server.disconnectedSessionTTL for the test server (Streamlit's default is 120 s)
DEADLINE_S = 120  # for the server to close an expired session and let its state go, however busy the machine


@contextlib.asynccontextmanager
async def _tab(url: str):
    """A tab open on the page, as a browser's is: yields ``run()``, which runs the page once more and returns what
    it says, (sessions it closed, sessions' states in memory). The tab leaves at the end of the block."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect

    async def run() -> tuple[int, int]:
        msg = BackMsg()
        msg.rerun_script.context_info.timezone = "UTC"
        await ws.send(msg.SerializeToString())
        text = ""
        async with asyncio.timeout(60):
            while True:
                reply = ForwardMsg()
                reply.ParseFromString(await ws.recv())
                if reply.delta.new_element.HasField("markdown"):
                    text = reply.delta.new_element.markdown.body
                if reply.HasField("script_finished"):
                    closed, in_memory = re.fullmatch(r"closed (\d+), in memory (\d+)", text).groups()
                    return int(closed), int(in_memory)

    async with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"]) as ws:
        yield run


async def _a_tab_leaves_then_another_watches(url: str) -> None:
    async with _tab(url) as first:
        assert await first() == (0, 1)
        left = time.monotonic()  # the server sees the tab leave after this
    async with _tab(url) as second:  # stays open, running the page until the first tab's session is gone
        closed, in_memory, deadline = 0, 2, time.monotonic() + TTL_S + DEADLINE_S
        while closed == 0 or in_memory > 1:
            assert time.monotonic() < deadline, f"after {TTL_S + DEADLINE_S} s: closed {closed}, in memory {in_memory}"
            now_closed, in_memory = await second()
            if now_closed:  # once, and never before the reconnect time is over
                assert closed == 0 and now_closed == 1 and time.monotonic() - left >= TTL_S, (closed, now_closed)
                closed = 1
            elif closed == 0:  # until then the first tab's session is kept for a reconnect, state and all
                assert in_memory == 2, in_memory
            await asyncio.sleep(0.2)
        # Streamlit alone would keep it (in memory 2) until another tab's session is stored for a reconnect.


@pytest.mark.slow  # a Streamlit server
def test_the_sessions_of_closed_tabs_leave_memory_once_they_expire():
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S)}
    with browser.serve("tests/session_page.py", env=env) as (url, _):
        asyncio.run(_a_tab_leaves_then_another_watches(url))
