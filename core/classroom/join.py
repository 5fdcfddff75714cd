"""How a student reaches the class: the join address on the local network and its QR code.

A phone in the classroom cannot open ``localhost``: the address is the machine's own on the network that
leads out of it (the interface the system would route through), found without sending a packet.
"""

from __future__ import annotations

import io
import socket
from urllib.parse import urlencode

import segno

PAGE = "class"  # the Class page's address (app.py)
JOIN = "join"  # the query parameter that carries a join code
QR_SCALE = 12  # pixels per module: a 6-letter code's address is ~35 modules, ~420 px, read from a room's back


def lan_address() -> str:
    """This machine's address on its network (a UDP socket "connected" outwards sends nothing), else loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # any routable address: only the route is looked up
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    return address


def join_url(code: str, port: int, base_path: str = "", host: str | None = None) -> str:
    """The address a student opens to join class ``code`` on the app served at ``port`` (under ``base_path``)."""
    base = "/".join(part for part in (base_path or "").split("/") if part)
    path = f"/{base}/{PAGE}" if base else f"/{PAGE}"
    return f"http://{host or lan_address()}:{int(port)}{path}?{urlencode({JOIN: code})}"


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG, black on white with the standard quiet zone."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()
