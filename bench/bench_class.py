"""Class mode under a whole class: N students join by code and send drawings while the teacher's wall is open.

Usage:
    VP_DATA_DIR=../shared/data python -m bench.bench_class [--n 30] [--minutes 2] [--modes one,restart,two]

A student here is not a browser (30 Chromiums would measure themselves) but a small client that speaks Streamlit's
websocket protocol to the Class page as Chromium does (recorded once, ``rerun_script`` messages with the widgets'
states; a widget drawn in a fragment reruns that fragment, its message naming it as the browser's does: Chromium's
own messages, read off its websocket, name the sheet's fragment for Send): it opens the join address, presses
Join, and then, again and again, draws the digit it is asked for one stroke at a time (a stroke sends nothing: the
class's canvas keeps the drawing in the browser) and presses the canvas' Send, which sends the whole drawing as one
trigger, the request Chromium sends (recorded in tests/data/canvas_payloads.json, ``seven_send``, by
``python -m tests.record_canvas_payloads``); its screen's fragment reruns every 2 s as the browser's timer makes
it. The strokes are UNIPEN
digits (``unipen_dev_digits.jsonl``) with a random pen, size and place, and each picture is the one the canvas
would send for them: drawn in Chromium by static/live/ink.mjs, the canvas' own drawing code. The teacher is a real
Chromium: it starts the class on the Class page, starts "Draw for our data set", and keeps the wall open; the page
notes every change of the wall's count (``vp-class-count``) with its time.

Modes: ``one`` one server (the SQLite store under its VP_HOME); ``restart`` the server stopped and started again
half-way through (students reconnect with the token in their address, as the browser does, and check they are the
same student and that their drawings are all there once); ``two`` two app servers, each with a VP_HOME of its own,
sharing one PostgreSQL class store (``VP_CLASS_DB``): the students split between them, the teacher's address opened
on both, each wall must count every drawing.

Figures, one JSON line per mode: drawings the students sent (and saw counted) against the store's (lost, doubled:
0 is the target), the students' answer time from Send to their page's answer (p95 target <= 0.2 s), and the time
from a Send to the wall's count reaching it (the i-th Send against the count reaching i; p95 target <= 2 s).
The load generator and Chromium share the machine's cores with the server(s): the load average is printed.

Each server has a fresh VP_HOME, where a first start spends minutes of side work on the Explain page's indexes and
Compare's timings (``VP_INDEX_AHEAD``), kept for every later start: a class's server has done it before its first
class, so the servers here skip it; ``--ahead`` keeps it (the first class on a fresh install).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import platform
import random
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import psutil

from bench.harness import browser, live, postgres
from core.base import settings
from core.base.paths import ROOT
from core.classroom import db, store
from core.data import unipen

MODES = ("one", "restart", "two")
STROKE_S = (1.0, 2.0)  # a student's pause before each stroke
SEND_S = (0.5, 1.5)  # and before pressing Send
DRAWINGS_PER_DIGIT = 12  # UNIPEN digits of each label the students draw from
ANSWER_TIMEOUT_S = 60.0
RECONNECT_S = 240.0  # how long a student keeps trying to reach a server that went away
TARGET_ANSWER_S, TARGET_WALL_S = 0.2, 2.0
CATCH_UP_S = 180  # after the class, how long the walls may take to show its last drawings
WALL_TIMEOUT_MS = 180_000  # a fresh server's first page loads TensorFlow and the networks
COUNT_WATCH = """
window.vpCounts = [];
setInterval(() => {
  const el = document.querySelector('[data-testid="vp-class-count"]');
  if (!el) return;
  const n = Number(el.dataset.count), last = window.vpCounts.at(-1);
  if (!last || last[1] !== n) window.vpCounts.push([Date.now() / 1000, n]);
}, 50);
"""
SENT = re.compile(r"you are (\S+) · drawings sent: (\d+)")
PROMPT = re.compile(r'data-testid="vp-class-prompt" data-label="([^"]*)"')
RECORDED = ROOT / "tests" / "data" / "canvas_payloads.json"  # what Chromium sent, by tests.record_canvas_payloads
RECORDED_SEND = "seven_send"  # the Send of a class's sheet there


# ---- what the students draw ----------------------------------------------------------------------------------


def canvas_states(per_digit: int = DRAWINGS_PER_DIGIT, seed: int = 0) -> dict[str, list[dict]]:
    """For each digit, drawings as the class's canvas sends them with Send: the strokes and their picture."""
    rng = random.Random(seed)
    records = unipen.load_unipen(file=unipen.DIGITS)
    chosen = [r for d in range(10) for r in rng.sample([r for r in records if r["label"] == d], per_digit)]
    drawings = [[{"points": [[round(x, 1), round(y, 1)] for x, y in s["points"]], "width": s["width"]}
                 for s in strokes] for strokes in live.drawings(chosen, seed=seed)]
    out: dict[str, list[dict]] = {}
    for record, drawing, png in zip(chosen, drawings, live.pictures(drawings)):
        out.setdefault(str(record["label"]), []).append({"strokes": drawing, "png": png})
    return out


@functools.cache
def _recorded_send(recorded: Path) -> dict:
    return next(p for p in json.loads(recorded.read_text())["payloads"] if p["label"] == RECORDED_SEND)


def send_widgets(canvas_id: str, drawing: dict, recorded: Path = RECORDED) -> list[tuple[str, str, str]]:
    """The widget states of a Send of ``drawing`` on the canvas ``canvas_id``, as Chromium sent the recorded one:
    ``(id, value field, JSON)``, the recorded drawing replaced by this one wherever it stood."""
    sent = _recorded_send(recorded)

    def swap(value):
        if value == sent["sent"]:
            return drawing
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return [swap(v) for v in value] if isinstance(value, list) else value

    return [(w["id"].replace("{canvas}", canvas_id), w["value"], json.dumps(swap(w["json"])))
            for w in sent["message"]["widgets"]]


# ---- a student -----------------------------------------------------------------------------------------------


class Student:
    """One simulated student on one server: joins by code, then draws what it is asked and sends it, until told
    to stop; reconnects (with its token in the address) when the server goes away."""

    def __init__(self, url: str, code: str, drawings: dict[str, list[dict]], seed: int) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.query = f"join={code}"  # the address's query; the page puts the student's token in it
        self.drawings = drawings
        self.rng = random.Random(seed)
        self.page_hash = ""
        self.ids: dict[str, str] = {}  # widget ids of the page's last run: "canvas", and buttons by label
        self.fragments: dict[str, str] = {}  # the fragment each of them was drawn in ("": none)
        self.follow: tuple[str, float] | None = None  # the screen's fragment: id, seconds between its reruns
        self.next_follow = 0.0
        self.pseudonym: str | None = None
        self.count = 0  # "drawings sent" on the page
        self.prompt: str | None = None
        self.done = 0  # drawings this student knows the class has
        self.pending: float | None = None  # when the Send that has no answer yet was pressed
        self.stored_at: list[float] = []  # when each drawing the class has was sent (time.time())
        self.answers: list[float] = []  # seconds from Send to the page's answer
        self.follows: list[float] = []
        self.errors: list[str] = []
        self.rejoins = 0  # times back on a server after it went away
        self.on_page = False  # the last full run showed this student's page
        self.home = ""  # the Class page's script hash
        self.elsewhere: list[str] = []  # what a rejoin showed instead of the student's page

    async def request(self, ws, widgets: tuple = (), fragment: str | None = None, auto: bool = False) -> None:
        """A rerun with these widgets' states (``(id, value)``: a button's press is True, else JSON; or
        ``(id, value field, value)``), to its end (past any ``st.rerun``); reads the page it shows.

        ``fragment``: the fragment the widgets were drawn in, which the browser reruns alone; ``auto``: a rerun
        of the fragment's own timer."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        if self.page_hash:
            rerun.page_script_hash = self.page_hash
        else:
            rerun.page_name = "class"
        for widget_id, *value in widgets:
            state = rerun.widget_states.widgets.add()
            state.id = widget_id
            if len(value) == 2:
                setattr(state, *value)
            elif value[0] is True:
                state.trigger_value = True
            else:
                state.json_value = value[0]
        if fragment:
            rerun.fragment_id, rerun.is_auto_rerun = fragment, auto
        await ws.send(msg.SerializeToString())
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while True:
                reply = ForwardMsg()
                reply.ParseFromString(await ws.recv())
                self._read(reply)
                if reply.WhichOneof("type") == "script_finished" and \
                        reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return

    def _read(self, reply) -> None:
        kind = reply.WhichOneof("type")
        if reply.metadata.active_script_hash:
            self.page_hash = reply.metadata.active_script_hash
        if kind == "new_session" and not reply.metadata.run.fragment_ids:
            self.prompt, self.ids, self.on_page = None, {}, False  # a full run draws the page anew
        elif kind == "page_info_changed":
            self.query = reply.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.follow = (reply.auto_rerun.fragment_id, reply.auto_rerun.interval)
        elif kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
            element = reply.delta.new_element
            what = element.WhichOneof("type")
            if what == "button":
                self.ids[element.button.label] = element.button.id
                self.fragments[element.button.label] = reply.delta.fragment_id
            elif what == "bidi_component" and element.bidi_component.component_name.endswith("vp_canvas"):
                self.ids["canvas"] = element.bidi_component.id
                self.fragments["canvas"] = reply.delta.fragment_id
            elif what == "bidi_component" and element.bidi_component.component_name.endswith("vp_class_student"):
                self.ids["storage"] = element.bidi_component.id  # asks the browser for the token it keeps
            elif what == "markdown" and (m := SENT.search(element.markdown.body)):
                self.on_page, self.home = True, self.home or self.page_hash
                self.pseudonym = self.pseudonym or m.group(1)
                if m.group(1) != self.pseudonym:
                    self.errors.append(f"rejoined as {m.group(1)}, not {self.pseudonym}")
                self.count = int(m.group(2))
            elif what == "html" and (m := PROMPT.search(element.html.body)):
                self.prompt = m.group(1)
            elif what == "alert":
                self.errors.append(f"alert: {element.alert.body}"[:200])
            elif what == "exception":
                self.errors.append(f"exception: {element.exception.message}"[:200])

    async def idle(self, ws, seconds: float) -> None:
        """Wait ``seconds`` as a student's screen does: its fragment reruns on the browser's timer meanwhile."""
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if self.follow and now >= self.next_follow:
                started = time.perf_counter()
                await self.request(ws, fragment=self.follow[0], auto=True)
                self.follows.append(time.perf_counter() - started)
                self.next_follow = time.monotonic() + self.follow[1]
                continue
            if now >= end:
                return
            await asyncio.sleep(min(end, self.next_follow if self.follow else end) - now)

    async def draw_one(self, ws) -> None:
        """Draw the asked digit stroke by stroke (the canvas keeps them: no request) and send it; the page's
        answer must count it."""
        if self.prompt is None or "canvas" not in self.ids:  # the class waits for its teacher
            await self.idle(ws, 1.0)
            return
        drawing = self.rng.choice(self.drawings[self.prompt])
        for _ in drawing["strokes"]:
            await self.idle(ws, self.rng.uniform(*STROKE_S))
        await self.idle(ws, self.rng.uniform(*SEND_S))
        before, self.pending = self.count, time.time()
        started = time.perf_counter()
        await self.request(ws, send_widgets(self.ids["canvas"], drawing), fragment=self.fragments.get("canvas"))
        took = time.perf_counter() - started
        if self.count == before + 1:
            self.answers.append(took)
            self._stored()
        else:
            self.errors.append(f"sent a drawing: the page says {self.count} drawings, {before} before")
        self.pending = None

    def _stored(self) -> None:
        self.done += 1
        self.stored_at.append(self.pending)

    def _rejoined(self) -> None:
        """Back after the server went away: the page (read by the token in the address) must show this student's
        drawings, the one whose answer was lost counted once or not at all."""
        self.rejoins += 1
        if self.pending is not None and self.count == self.done + 1:
            self._stored()  # stored before the server went: its answer was lost
        elif self.count != self.done:
            self.errors.append(f"rejoined: the page says {self.count} drawings, the student sent {self.done}")
        self.pending = None

    def _ready(self) -> bool:
        health = self.ws_url.replace("ws://", "http://").replace("/_stcore/stream", "/_stcore/health")
        try:
            with urllib.request.urlopen(health, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    async def visit(self, url: str) -> bool:
        """Open this student's address on the server at ``url``: are they the same student, with all their
        drawings (once) there too?"""
        from websockets.asyncio.client import connect

        self.ws_url, self.page_hash, errors = url.replace("http://", "ws://") + "/_stcore/stream", "", len(self.errors)
        try:
            async with connect(self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
                await self.request(ws)
        except Exception as e:  # noqa: BLE001 - counted as not the same
            self.errors.append(f"visit: {type(e).__name__}: {e}"[:200])
        return len(self.errors) == errors and self.count == self.done

    async def run(self, until: float) -> None:
        from websockets.asyncio.client import connect

        gone_since = None
        while time.monotonic() < until:
            try:
                async with connect(self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
                    self.next_follow = 0.0
                    await self.request(ws)
                    if self.pseudonym is None:
                        if "Join" not in self.ids and "storage" in self.ids:  # a new browser: it keeps no token
                            await self.request(ws, ((self.ids["storage"], json.dumps({"token": ""})),))
                        await self.request(ws, ((self.ids["Join"], True),))
                    else:
                        for _ in range(10):  # a server that just started may show another page first
                            if self.on_page:
                                break
                            self.elsewhere.append(f"{self.page_hash} {self.query[:20]} {self.errors[-1:]}")
                            await asyncio.sleep(1)
                            self.page_hash = self.home
                            await self.request(ws)
                        self._rejoined()
                    gone_since = None
                    while time.monotonic() < until:
                        await self.draw_one(ws)
            except Exception as e:  # noqa: BLE001 - the server went away (or broke): reconnect, as a browser does
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since > RECONNECT_S:
                    self.errors.append(f"gave up: {type(e).__name__}: {e}"[:200])
                    return
                await asyncio.sleep(0.5)
                # As the browser does, reconnect once the server says it is ready (a server that is starting
                # accepts connections before it serves its pages).
                while time.monotonic() - gone_since < RECONNECT_S and not await asyncio.to_thread(self._ready):
                    await asyncio.sleep(0.5)


# ---- the servers and the teacher -----------------------------------------------------------------------------


class Server:
    """An app server that can be stopped and started again on its port (the students' addresses stay valid)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port, self._serving, self.proc = env, browser.free_port(), None, None
        self.url = f"http://127.0.0.1:{self.port}"
        self._cpu_before = 0.0  # the CPU seconds of the processes stopped before this one

    def start(self) -> None:
        self._serving = browser.serve(env=self.env, port=self.port, timeout=180)
        self.proc = psutil.Process(self._serving.__enter__()[1].pid)

    def cpu_s(self) -> float:
        """CPU seconds the server spent, across its restarts."""
        times = self.proc.cpu_times() if self.proc and self.proc.is_running() else None
        return self._cpu_before + (times.user + times.system if times else 0.0)

    def stop(self) -> None:
        if self._serving is not None:
            self._cpu_before = self.cpu_s()
            self._serving.__exit__(None, None, None)
            self._serving, self.proc = None, None


async def open_wall(context, url: str, query: str | None = None):
    """The teacher's screen on ``url``: a new class started there (``query`` None) or the teacher's address."""
    page = await context.new_page()
    page.set_default_timeout(WALL_TIMEOUT_MS)
    await page.add_init_script(COUNT_WATCH)
    if query is None:
        await page.goto(f"{url}/class")
        await page.get_by_role("button", name="Start a class").click()
        await page.locator('[data-testid="vp-class-code"]').wait_for()
        await page.get_by_text("Draw for our data set").click()
    else:
        await page.goto(f"{url}/class?{query}")
    await page.wait_for_function("() => window.vpCounts.length > 0")
    return page


def _pct(values, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if len(values) else None


def wall_delays(sent: list[float], counts: list[list[float]], skip: tuple[float, float] | None = None) -> dict:
    """The i-th drawing sent against the wall's count first reaching i: seconds, and how many it never showed;
    ``skip``: leave out the drawings sent in this time (a restart's)."""
    delays, missing = [], 0
    for i, at in enumerate(sorted(sent), start=1):
        shown = next((t for t, n in counts if n >= i), None)
        if shown is None:
            missing += 1
        elif skip is None or not skip[0] <= at <= skip[1]:
            delays.append(max(0.0, shown - at))
    return {"p50_s": _pct(delays, 50), "p95_s": _pct(delays, 95), "max_s": round(max(delays), 3) if delays else None,
            "shown": int(counts[-1][1]) if counts else 0, "never_shown": missing}


def store_counts(code: str, address: str) -> tuple[Counter, int]:
    """The class's drawings per student and its students, read from the store at ``address``."""
    os.environ[db.DB_ENV] = address
    try:
        return Counter(d.student for d in store.class_drawings(code)), store.class_info(code).students
    finally:
        os.environ.pop(db.DB_ENV)


async def a_class(mode: str, n: int, minutes: float, drawings: dict, home: Path, pg: str | None,
                  ahead: bool = False) -> dict:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    address = pg or f"sqlite:///{home / 'a' / 'classes.db'}"
    envs = [{"VP_HOME": str(home / "a")}] + ([{"VP_HOME": str(home / "b")}] if mode == "two" else [])
    envs = [e | {settings.VP_INDEX_AHEAD.name: "1" if ahead else "0"} for e in envs]
    if pg:
        envs = [e | {db.DB_ENV: pg} for e in envs]
    servers = [Server(env) for env in envs]
    load_before = os.getloadavg()
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))
        async with async_playwright() as pw:
            chromium = await pw.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
            try:
                context = await chromium.new_context(viewport={"width": 1400, "height": 1000})
                walls = [await open_wall(context, servers[0].url)]
                code, query = re.search(r"class=(\w+)", walls[0].url).group(1), walls[0].url.split("?", 1)[1]
                walls += [await open_wall(context, s.url, query) for s in servers[1:]]  # the teacher's address
                students = [Student(servers[i % len(servers)].url, code, drawings, seed=i) for i in range(n)]
                until = time.monotonic() + 60 * minutes
                extra, skip = {}, []

                async def restart() -> None:
                    await asyncio.sleep(30 * minutes)
                    stopped = time.time()
                    await asyncio.to_thread(servers[0].stop)
                    await asyncio.to_thread(servers[0].start)
                    extra["server_down_s"] = round(time.time() - stopped, 1)
                    shown = await walls[0].evaluate("window.vpCounts.at(-1)[1]")
                    await walls[0].wait_for_function(f"() => window.vpCounts.at(-1)[1] > {shown}")
                    extra["wall_back_s"] = round(time.time() - stopped, 1)
                    skip[:] = [stopped - 2 * TARGET_WALL_S, time.time()]

                async def arrive(student: Student, delay: float) -> None:
                    await asyncio.sleep(delay)  # a class opening the address over 10 s
                    await student.run(until)

                jobs = [arrive(s, 10 * i / n) for i, s in enumerate(students)]
                cpu_before, started = [s.cpu_s() for s in servers], time.monotonic()
                await asyncio.gather(*jobs, *([restart()] if mode == "restart" else []))
                extra["server_cpu_cores"] = [round((s.cpu_s() - c) / (time.monotonic() - started), 2)
                                             for s, c in zip(servers, cpu_before)]
                sent, ended = sum(s.done for s in students), time.monotonic()
                for wall in walls:  # every wall must come to show every drawing, however late
                    with contextlib.suppress(PlaywrightTimeout):
                        await wall.wait_for_function(f"() => window.vpCounts.at(-1)[1] >= {sent}",
                                                     timeout=1000 * CATCH_UP_S)
                extra["walls_caught_up_s"] = round(time.monotonic() - ended, 1)
                counts = [await w.evaluate("window.vpCounts") for w in walls]
                media = None
                if mode == "two":  # a student's token opens their page on the other server too
                    others = [servers[(i + 1) % 2].url for i in range(n)]
                    extra["same_student_on_the_other_server"] = sum(
                        await asyncio.gather(*(s.visit(url) for s, url in zip(students, others))))
                    # A wall's pictures live in its own server's memory: a sticky session needs them.
                    src = await walls[0].locator("img[src*='/media/']").first.get_attribute("src")
                    try:
                        with urllib.request.urlopen(servers[1].url + src[src.index("/media/"):], timeout=10) as r:
                            media = r.status
                    except urllib.error.HTTPError as e:
                        media = e.code
            finally:
                await chromium.close()
    finally:
        for s in servers:
            s.stop()
    stored, joined = store_counts(code, address)
    sent = Counter({s.pseudonym: s.done for s in students if s.pseudonym})
    answers = [a for s in students for a in s.answers]
    result = {
        "mode": mode, "n": n, "minutes": minutes, "servers": len(servers), "ahead": ahead,
        "store": "postgresql" if pg else "sqlite",
        "students_joined": joined, "drawings_sent": sum(sent.values()), "drawings_stored": sum(stored.values()),
        "lost": sum((sent - stored).values()), "doubled": sum((stored - sent).values()),
        "answer_p50_s": _pct(answers, 50), "answer_p95_s": _pct(answers, 95),
        "answer_max_s": round(max(answers), 3) if answers else None,
        "follow_p95_s": _pct([a for s in students for a in s.follows], 95),
        "reruns": sum(len(s.answers) + len(s.follows) for s in students),
        "walls": [wall_delays([t for s in students for t in s.stored_at], c) for c in counts],
        "rejoins": sum(s.rejoins for s in students), "errors": sum(len(s.errors) for s in students),
        "rejoins_shown_another_page_first": [e for s in students for e in s.elsewhere][:3],
        "error_samples": [e for s in students for e in s.errors][:3],
        "load_avg_before": [round(x, 2) for x in load_before], "load_avg_after": [round(x, 2) for x in os.getloadavg()],
    } | extra | ({"media_from_the_other_server": media} if media is not None else {})
    # The server's CPU per student rerun (the walls' reruns included): what a quiet machine's core can serve.
    result["server_cpu_ms_per_rerun"] = round(1000 * sum(result["server_cpu_cores"]) * 60 * minutes /
                                              max(1, result["reruns"]), 1)
    if skip:  # the wall's delays of the drawings sent outside the restart (from 4 s before it to the wall's return)
        result["walls_outside_restart"] = [wall_delays([t for s in students for t in s.stored_at], c, tuple(skip))
                                           for c in counts]
    walls = result.get("walls_outside_restart", result["walls"])
    walls_ok = all(w["p95_s"] is not None and w["p95_s"] <= TARGET_WALL_S and not w["never_shown"] and
                   w["shown"] == result["drawings_stored"] for w in walls)
    result["targets_met"] = bool(result["lost"] == result["doubled"] == 0 and result["drawings_sent"] and
                                 (result["answer_p95_s"] or 99) <= TARGET_ANSWER_S and walls_ok)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="30", help="students, a comma-separated list (1,10,30)")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long the class draws")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--ahead", action="store_true", help="the servers do a fresh VP_HOME's first-start work "
                        "(the Explain page's indexes, Compare's timings) during the class")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if unknown := set(modes) - set(MODES):
        parser.error(f"no mode {', '.join(sorted(unknown))}; choose from {', '.join(MODES)}")
    if "two" in modes and (why := postgres.available()):
        parser.error(f"mode two needs a PostgreSQL server: {why}")
    print(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, load average {os.getloadavg()}; "
          "students, Chromium and the server(s) share them", flush=True)
    drawings = canvas_states()
    for n in (int(x) for x in args.n.split(",")):
        for mode in modes:
            with TemporaryDirectory(prefix="vp_bench_class_") as home:
                if mode == "two":
                    with postgres.server() as base:
                        result = asyncio.run(a_class(mode, n, args.minutes, drawings, Path(home),
                                                     postgres.new_database(base), args.ahead))
                else:
                    result = asyncio.run(a_class(mode, n, args.minutes, drawings, Path(home), None, args.ahead))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
