"""Record what the drawing canvas really hands to Python, in Chromium: ``python -m tests.record_canvas_payloads``.

Serves ``tests/canvas_recorder_page.py`` (the app's canvas, alone) with ``streamlit run``, draws real
UNIPEN pen-drawn digits on it with Playwright's mouse, presses the canvas' own Undo, Redo and Clear
buttons, and after each action keeps the last payload the page received: what ``live_canvas`` returned
(the strokes and the picture as a PNG). On a class's sheet (``sending_canvas``) it checks that strokes send
nothing, and keeps what its Send hands Python and the rerun request Chromium sent for it (``message``).
They go to ``tests/data/canvas_payloads.json``, which the canvas consumers' tests read instead of payloads
written by hand. Run it again after changing the canvas (static/live/canvas.mjs) or upgrading streamlit,
and rerun the tests (about two minutes; needs /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

from bench.harness import browser
from core.base.paths import ROOT
from core.data import unipen
from core.images import strokes

FIXTURE = ROOT / "tests" / "data" / "canvas_payloads.json"
CANVAS_JS = "static/live/canvas.mjs"  # the canvas' code: its hash is recorded with the payloads
UNIPEN_FIXTURE = ROOT / "tests" / "data" / "unipen_fixture.jsonl"  # the digits drawn, shipped with the tests
PAGE = "tests/canvas_recorder_page.py"

# UNIPEN ids in tests/data/unipen_fixture.jsonl: a one-stroke 3, 5 and 0, a two-stroke 4 and 7.
DIGITS = {3: "u1a-11207", 4: "u1a-14969", 7: "u1a-06275", 5: "u1a-00181", 0: "u1a-05525"}


class Recorder:
    """One browser tab on the recorder page: do something with the mouse, then ``keep`` what Python received."""

    def __init__(self, page, url: str, folder: Path, session: str, pen: int = 20, send: str = ""):
        self.page, self.folder, self.pen = page, folder / session, pen
        self.seen = 0
        self.payloads: list[dict] = []
        page.goto(f"{url}/?pen={pen}&session={session}" + (f"&send={send}" if send else ""))
        self.box = browser.canvas_box(page)

    def _runs(self) -> list[Path]:
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def wait(self, n_strokes: int, timeout: float = 30.0, quiet: float = 1.0) -> dict:
        """The last record after the page has received a new payload holding ``n_strokes`` strokes and
        then stayed quiet for ``quiet`` seconds."""
        end = time.time() + timeout
        while time.time() < end:
            runs = self._runs()
            if len(runs) > self.seen:
                last = json.loads(runs[-1].read_text())
                if len((last["sent"] or {}).get("strokes") or []) == n_strokes:
                    time.sleep(quiet)
                    if len(self._runs()) == len(runs):
                        self.seen = len(runs)
                        return last
            time.sleep(0.1)
        raise TimeoutError(f"no payload with {n_strokes} strokes arrived (runs so far: {len(self._runs())})")

    def keep(self, label: str, what: str, n_strokes: int, drawn: list | None = None, digit: dict | None = None
             ) -> dict:
        rec = self.wait(n_strokes)
        entry = {"label": label, "what": what, "pen": self.pen, "runs": rec["run"], "digit": digit,
                 "drawn": [[[round(x, 1), round(y, 1)] for x, y in p] for p in drawn or []], "sent": rec["sent"]}
        self.payloads.append(entry)
        print(f"  {label}: {n_strokes} strokes, run {rec['run']}")
        return entry

    def stroke(self, path) -> None:
        browser.draw(self.page, [path], self.box)

    def button(self, name: str) -> None:
        """Press one of the canvas' buttons (undo, redo, clear, and send on a class's sheet), shown under it."""
        self.page.locator(f'[data-testid="vp-{name}"]').click()


def digit(label: int) -> tuple[dict, list]:
    rec = next(r for r in unipen.load_unipen(UNIPEN_FIXTURE) if r["id"] == DIGITS[label])
    return {"label": label, "id": rec["id"], "strokes": len(rec["strokes"])}, strokes.canvas_paths(rec)


def record(rec: Recorder) -> None:
    """The main session at the app's default pen width (20)."""
    rec.keep("initial", "the page as first shown, nothing drawn yet", 0)

    info, paths = digit(3)
    rec.stroke(paths[0])
    rec.keep("three_one_stroke", "a 3 drawn in one stroke", 1, paths, info)

    rec.button("clear")
    rec.keep("clear", "after the Clear button", 0)

    info, paths = digit(4)
    rec.stroke(paths[0])
    rec.keep("four_first_stroke", "a 4's first stroke", 1, paths[:1], info)
    rec.stroke(paths[1])
    rec.keep("four_two_strokes", "a 4 drawn in two strokes", 2, paths, info)
    rec.button("undo")
    rec.keep("four_undo", "the two-stroke 4 after Undo", 1, paths[:1], info)
    rec.button("redo")
    rec.keep("four_redo", "then Redo", 2, paths, info)

    rec.button("clear")
    rec.wait(0)
    info, paths = digit(7)
    for p in paths:
        rec.stroke(p)
    rec.keep("seven_two_strokes", "a 7 drawn in two strokes", 2, paths, info)

    rec.button("clear")
    rec.wait(0)
    rec.page.mouse.click(rec.box["x"] + rec.box["width"] / 2, rec.box["y"] + rec.box["height"] / 2)
    rec.keep("dot", "a single click at (140, 140): a dot", 1, [[(140.0, 140.0)]])


class Messages:
    """The rerun requests a tab sends the server, read off its websocket as Chromium sends them."""

    def __init__(self, page):
        self.requests: list = []
        page.route_web_socket("**/_stcore/stream", self.route)

    def route(self, ws) -> None:
        server = ws.connect_to_server()

        def up(message):
            if isinstance(message, bytes):
                request = BackMsg.FromString(message)
                if request.HasField("rerun_script"):
                    self.requests.append(request.rerun_script)
            server.send(message)

        ws.on_message(up)
        server.on_message(ws.send)

    def last_send(self, canvas_id: str) -> dict:
        """The last rerun request's widget states, as the bench replays them (the canvas' id written
        ``{canvas}``; the fragment a request names is the one the canvas is drawn in, none on this page)."""
        return {"widgets": [{"id": w.id.replace(canvas_id, "{canvas}"), "value": w.WhichOneof("value"),
                             "json": json.loads(getattr(w, w.WhichOneof("value")))}
                            for w in self.requests[-1].widget_states.widgets]}


def record_send(rec: Recorder, messages: Messages) -> None:
    """A class's sheet (``sending_canvas``): two strokes send nothing, Send sends the whole drawing at once."""
    rec.keep("send_initial", "a class's sheet as first shown, nothing drawn yet", 0)
    asked = len(messages.requests)
    info, paths = digit(7)
    for p in paths:
        rec.stroke(p)
    rec.page.wait_for_timeout(1000)
    assert len(messages.requests) == asked, "a stroke on a class's sheet sent a rerun request"
    rec.button("send")
    entry = rec.keep("seven_send", "a 7 drawn in two strokes on a class's sheet, then its Send button", 2, paths, info)
    entry["message"] = messages.last_send(_canvas_id(messages))


def _canvas_id(messages: Messages) -> str:
    """The canvas component's id, from the trigger widget Streamlit names after it
    (``$$STREAMLIT_INTERNAL_KEY_<id>__events``)."""
    prefix, suffix = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_", f"{EVENT_DELIM}events"
    found = [w.id[len(prefix):-len(suffix)] for w in messages.requests[-1].widget_states.widgets
             if w.id.startswith(prefix) and w.id.endswith(suffix)]
    if len(found) != 1:
        raise ValueError(f"the Send sent {len(found)} triggers, not one")
    return found[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vp_canvas_") as tmp, \
            browser.serve(PAGE, env={"VP_CANVAS_RECORD": tmp, "VP_HOME": tmp}) as (url, _), \
            browser.browser() as chromium:
        folder = Path(tmp)
        payloads = []
        print("pen 20, device scale 1:")
        page = chromium.new_page(viewport={"width": 1000, "height": 800})
        main_session = Recorder(page, url, folder, "main")
        record(main_session)
        payloads += main_session.payloads
        page.close()

        print("a class's sheet (Send):")
        page = chromium.new_page(viewport={"width": 1000, "height": 800})
        messages = Messages(page)
        sheet = Recorder(page, url, folder, "send", send="Send")
        record_send(sheet, messages)
        payloads += sheet.payloads
        page.close()

        print("pen 12, device scale 1:")
        page = chromium.new_page(viewport={"width": 1000, "height": 800})
        thin = Recorder(page, url, folder, "pen12", pen=12)
        info, paths = digit(5)
        thin.stroke(paths[0])
        thin.keep("five_pen_12", "a 5 in one stroke at pen width 12", 1, paths, info)
        payloads += thin.payloads
        page.close()

        print("pen 20, device scale 2 (a laptop's retina screen):")
        context = chromium.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=2)
        page = context.new_page()
        retina = Recorder(page, url, folder, "dpr2")
        info, paths = digit(0)
        retina.stroke(paths[0])
        retina.keep("zero_device_scale_2", "a 0 in one stroke on a screen of device scale 2", 1, paths, info)
        payloads += retina.payloads
        context.close()
        version = chromium.version

    meta = {"recorded": date.today().isoformat(), "by": "python -m tests.record_canvas_payloads",
            "chromium": version, "streamlit": importlib.metadata.version("streamlit"),
            "canvas": "app_pages.ui.live_canvas.live_canvas (static/live/canvas.mjs), sha256 "
                      + hashlib.sha256((ROOT / CANVAS_JS).read_bytes()).hexdigest(),
            "digits": "UNIPEN, tests/data/unipen_fixture.jsonl, drawn with core.images.strokes.canvas_paths",
            "drawn": "the mouse path of each stroke in canvas pixels (what the learner drew)",
            "sent": "what live_canvas returned, or a class's sheet's Send handed its callback (sending_canvas): the "
                    "strokes ({points, width}) and the picture (a PNG data URL)",
            "message": "the rerun request Chromium sent for the Send (seven_send): its widgets' states"}
    lines = ",\n".join(json.dumps(p, separators=(",", ":")) for p in payloads)
    args.out.write_text('{"meta": ' + json.dumps(meta) + ',\n"payloads": [\n' + lines + "\n]}\n")
    print(f"{len(payloads)} payloads, {args.out.stat().st_size / 1024:.0f} KB in {args.out} "
          f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
