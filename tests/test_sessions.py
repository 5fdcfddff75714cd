"""A class's memory comes back after it leaves: the server closes the sessions of tabs that left once their
reconnect time is over (app_pages.ui.sessions), instead of keeping them until another tab happens to leave."""

import asyncio
import time

from tests import browser

TTL_S = 3  # server.disconnectedSessionTTL for the test server (Streamlit's default is 120 s)


async def _visit(url: str) -> str:
    """Open the page as a browser tab does, run it once, leave; the page's text."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect

    text = ""
    async with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"]) as ws:
        msg = BackMsg()
        msg.rerun_script.context_info.timezone = "UTC"
        await ws.send(msg.SerializeToString())
        async with asyncio.timeout(60):
            while True:
                reply = ForwardMsg()
                reply.ParseFromString(await ws.recv())
                if reply.delta.new_element.HasField("markdown"):
                    text = reply.delta.new_element.markdown.body
                if reply.HasField("script_finished"):
                    return text


def test_the_sessions_of_closed_tabs_leave_memory_once_they_expire():
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S)}
    with browser.serve("tests/session_page.py", env=env) as (url, _):
        assert asyncio.run(_visit(url)) == "closed 0, in memory 1"
        time.sleep(TTL_S + 1)  # the first tab left; its session was kept for a reconnect, and has now expired
        # Streamlit alone would keep it (in memory 2) until another tab's session is stored for a reconnect.
        assert asyncio.run(_visit(url)) == "closed 1, in memory 1"
        # The second tab left just now: its session is kept for a reconnect, beside the third's.
        assert asyncio.run(_visit(url)) == "closed 0, in memory 2"
