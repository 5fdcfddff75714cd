"""A class on one server: N learners drawing on the Draw page of one ``streamlit run app.py``.

Usage:
    VP_DATA_DIR=../shared/data python -m bench.bench_classroom --record       # once, in Chromium
    VP_DATA_DIR=../shared/data python -m bench.bench_classroom [--n 1,10,30] [--minutes 2]

A learner here is not a browser (30 Chromiums would measure themselves) but a small client that speaks
Streamlit's own websocket protocol and sends, byte for byte, what Chromium sent when a person drew: ``--record``
draws UNIPEN digits stroke by stroke on the Draw page with the mouse, visits Filters and Explain and comes back,
and keeps every message the browser sent and the answer the page showed (``bench/data/classroom_session.json``).
Each learner then replays those messages at a human pace: a stroke every 1-3 s, the canvas cleared after each
digit, and now and then a visit to another page with the drawing on it. It times each stroke from the message sent
to the rerun's end (``script_finished``) and checks that the page's answer is the one Chromium got.

For each N: a fresh server, one learner's visit to warm it (models loaded, as for the first student), then N
learners for ``--minutes``; the server's CPU (cores busy) and memory (RSS, its growth per learner), and after the
learners leave and their sessions expire, what memory came back. ``--waves 2`` sends a second class to the same
server after the first one's sessions expired: memory the first left behind and the second reuses is the
allocator's, memory the second adds to it is kept per session.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import time
from pathlib import Path

import psutil

from bench.harness import browser
from core.base import memory
from core.data import unipen
from core.images import strokes

RECORDING = Path(__file__).resolve().parent / "data" / "classroom_session.json"
# Which of the browser's messages ask for a rerun (the others are heartbeats and the like).
ANSWER_TIMEOUT_S = 60.0
PACE_S = (1.0, 3.0)  # seconds between a learner's strokes
VISIT_EVERY = 4  # about one digit in VISIT_EVERY is followed by a look at another page
VISIT_S = (3.0, 6.0)
SESSION_TTL_S = 120  # server.disconnectedSessionTTL's default: a closed tab's session is kept this long


# ---- what the page sent back -------------------------------------------------------------------------------


def _answer(forward_msgs: list) -> list[str]:
    """The metrics the rerun put on the page (label: value), in order: the page's answer."""
    out = []
    for msg in forward_msgs:
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "metric":
                out.append(f"{element.metric.label}: {element.metric.body}")
    return out


def _failed(forward_msgs: list) -> str | None:
    """The first error the rerun showed (an exception on the page), else None."""
    for msg in forward_msgs:
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "exception":
                return f"{element.exception.type}: {element.exception.message}"[:300]
    return None


def _finished(msg) -> bool:
    return msg.WhichOneof("type") == "script_finished"


# ---- recording, once, in Chromium --------------------------------------------------------------------------


def record(n_digits: int) -> None:
    """Draw ``n_digits`` UNIPEN digits on the Draw page in Chromium, one stroke at a time, and keep what the
    browser sent for each action (and the answer it got): load, every stroke, clear, and visits to Filters and
    Explain and back."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    records = unipen.load_unipen()
    rng = random.Random(0)
    picks = rng.sample(records, n_digits)
    sent, received = [], []

    def on_socket(ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framesent", lambda data: sent.append(data))
            ws.on("framereceived", lambda data: received.append(data))

    def act(page, label: str, do, wait_answer: bool = True) -> dict:
        """Do one thing in the page; return the rerun message it sent and the answer that came back."""
        n_sent, n_received = len(sent), len(received)
        do()
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            page.wait_for_timeout(50)
            reruns = [m for m in (_back(d) for d in sent[n_sent:]) if m.WhichOneof("type") == "rerun_script"]
            replies = [_forward(d) for d in received[n_received:]]
            if reruns and any(_finished(m) for m in replies):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: no rerun finished")
        page.wait_for_timeout(1000)  # late messages, or a second rerun the first one asked for
        reruns = [m for m in (_back(d) for d in sent[n_sent:]) if m.WhichOneof("type") == "rerun_script"]
        replies = [_forward(d) for d in received[n_received:]]
        finished = sum(_finished(m) for m in replies)
        if finished != len(reruns):
            raise RuntimeError(f"{label}: {len(reruns)} reruns sent, {finished} finished")
        return {"label": label, "messages": [base64.b64encode(m.SerializeToString()).decode() for m in reruns],
                "answer": _answer(replies) if wait_answer else None}

    def _back(data):
        m = BackMsg()
        m.ParseFromString(data if isinstance(data, bytes) else data.encode())
        return m

    def _forward(data):
        m = ForwardMsg()
        m.ParseFromString(data if isinstance(data, bytes) else data.encode())
        return m

    actions = []
    with browser.serve("app.py") as (url, _), browser.browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.on("websocket", on_socket)
        actions.append(act(page, "load", lambda: page.goto(url), wait_answer=False))
        box = browser.canvas_box(page)
        page.wait_for_timeout(2000)
        for i, rec in enumerate(picks):
            for j, path in enumerate(strokes.canvas_paths(rec)):
                actions.append(act(page, f"stroke {i} {j} digit {rec['label']}",
                                   lambda path=path, box=box: browser.draw(page, [path], box)))
            actions.append(act(page, f"clear {i}", lambda: page.locator('[data-testid="vp-clear"]').click(),
                               wait_answer=False))
            if i == 0:  # a drawing on screen while the learner looks at the other pages
                for j, path in enumerate(strokes.canvas_paths(picks[1])):
                    actions.append(act(page, f"stroke visit {j}",
                                       lambda path=path, box=box: browser.draw(page, [path], box)))
                for name in ("Filters", "Explain"):
                    actions.append(act(page, f"visit {name}",
                                       lambda name=name: page.get_by_role("link", name=name).click(),
                                       wait_answer=False))
                    page.wait_for_timeout(3000)
                    actions.append(act(page, "visit Draw", lambda: page.get_by_role("link", name="Draw").click(),
                                       wait_answer=False))
                    box = browser.canvas_box(page)
                actions.append(act(page, "clear visit", lambda: page.locator('[data-testid="vp-clear"]').click(),
                                   wait_answer=False))
    import streamlit

    RECORDING.parent.mkdir(exist_ok=True)
    RECORDING.write_text(json.dumps({
        "meta": {"recorded": time.strftime("%Y-%m-%d"), "streamlit": streamlit.__version__,
                 "chromium": browser.CHROMIUM, "digits": n_digits,
                 "canvas_sha256": _sha256(Path(browser.ROOT) / "static" / "live" / "canvas.mjs")},
        "actions": actions}, indent=1))
    print(f"recorded {len(actions)} actions in {RECORDING}")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- the learners ------------------------------------------------------------------------------------------


class Learner:
    """One simulated learner: a websocket to the server and the recorded messages, replayed at a human pace."""

    def __init__(self, url: str, actions: list[dict], seed: int) -> None:
        self.url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.actions = actions
        self.rng = random.Random(seed)
        self.strokes: list[float] = []  # seconds from a stroke sent to its rerun's end
        self.visits: list[float] = []
        self.errors: list[str] = []

    async def _rerun(self, ws, action: dict) -> float:
        """Send an action's recorded reruns, each after the last one ended; return the seconds from the first sent
        to the last ended, and check the page's answer."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        start = time.perf_counter()
        replies = []
        for data in action["messages"]:
            msg = BackMsg()
            msg.ParseFromString(base64.b64decode(data))
            # The browser said which big messages it had cached; this learner has none, so it gets them all.
            del msg.rerun_script.cached_message_hashes[:]
            await ws.send(msg.SerializeToString())
            replies = []
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                while True:
                    reply = ForwardMsg()
                    reply.ParseFromString(await ws.recv())
                    replies.append(reply)
                    if _finished(reply):
                        break
        took = time.perf_counter() - start
        failed = _failed(replies)
        if failed:
            self.errors.append(f"{action['label']}: {failed}")
        elif action["answer"] is not None and _answer(replies) != action["answer"]:
            self.errors.append(f"{action['label']}: answered {_answer(replies)}, Chromium got {action['answer']}")
        return took

    async def run(self, until: float, tour: bool = False) -> None:
        """Draw digits until ``until``; ``tour``: draw one and visit every page once (what the first visitor
        loads into the server's shared caches), then leave."""
        from websockets.asyncio.client import connect

        by_label = {a["label"]: a for a in self.actions}
        digits = sorted({int(a["label"].split()[1]) for a in self.actions if a["label"].startswith("stroke ")
                         and "visit" not in a["label"]})
        try:
            async with connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
                await self._rerun(ws, by_label["load"])
                first = True
                while time.monotonic() < until or (tour and first):
                    i = self.rng.choice(digits)
                    own = [a for a in self.actions if a["label"].startswith(f"stroke {i} ")]
                    for action in own:
                        await asyncio.sleep(self.rng.uniform(*PACE_S))
                        self.strokes.append(await self._rerun(ws, action))
                    if tour and first:
                        visits = ("visit Filters", "visit Draw", "visit Explain", "visit Draw")
                    elif self.rng.randrange(VISIT_EVERY) == 0:
                        visits = ("visit Filters", "visit Draw") if self.rng.random() < 0.5 else \
                            ("visit Explain", "visit Draw")
                    else:
                        visits = ()
                    first = False
                    for label in visits:
                        await asyncio.sleep(self.rng.uniform(*VISIT_S))
                        self.visits.append(await self._rerun(ws, by_label[label]))
                    await asyncio.sleep(self.rng.uniform(*PACE_S))
                    await self._rerun(ws, by_label[f"clear {i}"])
        except (OSError, TimeoutError, Exception) as exc:  # a learner whose page broke: count it, go on
            self.errors.append(f"{type(exc).__name__}: {exc}"[:300])


def _rss(proc: psutil.Process) -> float:
    """The server's resident memory in MB (with any processes it started)."""
    procs = [proc, *proc.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


async def classroom(url: str, proc: psutil.Process, actions: list[dict], n: int, minutes: float) -> dict:
    """N learners for ``minutes``; the strokes' times, errors, the server's CPU and memory."""
    warm = Learner(url, actions, seed=-1)
    await warm.run(until=0, tour=True)  # the first visitor: models and the pages' shared caches in memory
    await asyncio.sleep(2)
    rss_before = _rss(proc)
    cpu_before, wall_before = _cpu(proc), time.perf_counter()
    until = time.monotonic() + minutes * 60
    learners = [Learner(url, actions, seed=i) for i in range(n)]
    peak = rss_before

    async def sample() -> None:
        nonlocal peak
        while time.monotonic() < until:
            peak = max(peak, _rss(proc))
            await asyncio.sleep(1)

    # Learners arrive over the first 10 s, as a class opening the page.
    async def arrive(learner: Learner, delay: float) -> None:
        await asyncio.sleep(delay)
        await learner.run(until)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(arrive(learner, 10 * i / n) for i, learner in enumerate(learners)))
    await sampler
    cpu_s, wall_s = _cpu(proc) - cpu_before, time.perf_counter() - wall_before
    reruns = sum(len(learner.strokes) + len(learner.visits) for learner in learners)
    rss_connected = _rss(proc)
    return {"n": n, "strokes": sorted(s for learner in learners for s in learner.strokes),
            "visits": sorted(s for learner in learners for s in learner.visits),
            "errors": [e for learner in learners for e in learner.errors + warm.errors],
            "cpu_cores": cpu_s / wall_s, "cpu_ms_per_rerun": 1000 * cpu_s / max(1, reruns),
            "rss_before": rss_before, "rss_peak": peak, "rss_connected": rss_connected}


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", action="store_true", help="record what Chromium sends (once)")
    parser.add_argument("--digits", type=int, default=12, help="with --record: how many digits to draw")
    parser.add_argument("--n", default="1,10,30", help="learners, a comma-separated list")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long each class draws")
    parser.add_argument("--waves", type=int, default=1,
                        help="classes one after another on the same server: does a second class reuse the memory "
                             "the first one's expired sessions left, or add to it?")
    parser.add_argument("--no-ttl-wait", action="store_true", help="skip waiting for closed sessions to expire")
    args = parser.parse_args()
    if args.record:
        record(args.digits)
        return
    recording = json.loads(RECORDING.read_text())
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus; load generator on the same "
          f"cores; recording of {recording['meta']['recorded']} (streamlit {recording['meta']['streamlit']})")
    for n in (int(x) for x in args.n.split(",")):
        with browser.serve("app.py") as (url, server):
            proc = psutil.Process(server.pid)
            for wave in range(1, args.waves + 1):
                r = asyncio.run(classroom(url, proc, recording["actions"], n, args.minutes))
                s = r["strokes"]
                line = (f"N={n:3d}{f' (class {wave})' if args.waves > 1 else ''}: {len(s)} strokes, stroke to answer "
                        f"p50 {_pct(s, 0.5) * 1000:.0f} ms, p95 {_pct(s, 0.95) * 1000:.0f} ms, "
                        f"max {max(s, default=float('nan')) * 1000:.0f} ms; "
                        f"page visits {len(r['visits'])} (p50 {_pct(r['visits'], 0.5):.1f} s, "
                        f"max {max(r['visits'], default=float('nan')):.1f} s); errors {len(r['errors'])}; "
                        f"server CPU {r['cpu_cores']:.2f} cores ({r['cpu_ms_per_rerun']:.0f} ms a rerun); "
                        f"RSS {r['rss_before']:.0f} MB before, {r['rss_connected']:.0f} MB with {n} connected "
                        f"(peak {r['rss_peak']:.0f}), {(r['rss_connected'] - r['rss_before']) / n:.1f} MB a learner")
                if not args.no_ttl_wait:
                    time.sleep(SESSION_TTL_S + memory.TRIM_EVERY_S + 15)  # expired, then released
                    line += f"; {_rss(proc):.0f} MB after they left and their sessions expired"
                print(line, flush=True)
                for e in r["errors"][:5]:
                    print("   error:", e)

if __name__ == "__main__":
    main()
