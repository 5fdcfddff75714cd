"""What the user sees, in a real browser: start-up time, pen-up-to-answer latency, and server memory.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_browser [--n 10] [--pages bare,draw,filters,explain]

Serves the app with ``streamlit run``, opens it in headless Chromium, and for
each one-stroke UNIPEN digit clears the canvas, draws the digit with the mouse
and times, in the page's own clock, from the mouse-up to the first frame with
the answer on screen (the ``Prediction`` metric) and to the whole page drawn
(the Draw page's last preprocessing picture; the Filters page's maps and its
final softmax; the Explain page's four sections down to the nearest training
digits; every picture loaded). The same is done on a bare page
with only the canvas and a number (bench/bare_canvas_app.py) for comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import psutil  # noqa: E402

from bench.harness import browser  # noqa: E402
from core.data import unipen  # noqa: E402
from core.images import strokes  # noqa: E402

# What to wait for: a CSS selector and a text the element holds.
PREDICTION = ('[data-testid="stMetric"]', "Prediction")
DRAW_DONE = ('[data-testid="stImage"]', "centred by mass")
FILTERS_DONE = ('[data-testid="stMetric"]', "softmax")
EXPLAIN_ANSWER = ('[data-testid="stImage"]', "pixels for")  # its first picture: where the network looked
EXPLAIN_DONE = ('[data-testid="stCaptionContainer"]', "training digits closest")  # its last section


# Stamps, in the page's own clock, the first animation frame in which the answer is on the page, and the
# first in which the whole page is (its last element there and every picture loaded). Measured in the page
# because Playwright's own waits re-check on a backing-off schedule and would round the figures up.
WATCH = """([answer, done]) => {
  const seen = window.__vp = {};
  const shown = ([css, text]) => [...document.querySelectorAll(css)].some(e => e.innerText.includes(text));
  const frame = () => {
    const now = performance.now();
    if (seen.answer === undefined && shown(answer)) seen.answer = now;
    if (done && seen.done === undefined && shown(done)
        && [...document.images].every(i => i.complete && i.naturalWidth > 0)) seen.done = now;
    if (seen.answer === undefined || (done && seen.done === undefined)) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""


def clear(page) -> None:
    """Clear the canvas with its own button (disabled while the canvas is blank)."""
    button = page.locator('[data-testid="vp-clear"]')
    if button.is_enabled():
        button.click()


def measure(script: str, records: list[dict], path: str = "", answer: tuple[str, str] = PREDICTION,
            done: tuple[str, str] | None = None) -> dict:
    """Start-up time, then for each one-stroke record on the warm page: clear the canvas, draw the digit,
    and time from pen-up to ``answer`` on screen, and to ``done`` with every picture loaded."""
    t0 = time.perf_counter()
    with browser.serve(script) as (url, proc), browser.browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/{path}")
        box = browser.canvas_box(page)
        startup = time.perf_counter() - t0
        latencies, complete = [], []
        for rec in records:
            clear(page)
            page.locator(answer[0], has_text=answer[1]).first.wait_for(state="detached", timeout=30_000)
            page.evaluate(WATCH, [answer, done])
            browser.draw(page, strokes.canvas_paths(rec), box)
            up = page.evaluate("performance.now()")
            page.wait_for_function("d => window.__vp.answer !== undefined && (!d || window.__vp.done !== undefined)",
                                   arg=done, timeout=30_000)
            seen = page.evaluate("window.__vp")
            latencies.append((seen["answer"] - up) / 1000)
            if done:
                complete.append((seen["done"] - up) / 1000)
        # the first drawing also loads the page's chart library
        latencies, complete = latencies[1:], complete[1:]
        rss = sum(p.memory_info().rss for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)])
    return {"startup_s": startup, "latencies": latencies, "complete": complete, "rss_mb": rss / 2**20}


# Watches the live panel: the page-clock time of the last pointer move on the canvas, and for each reading shown,
# when its ink was taken (``data-at``) and the animation frame after it appeared.
WATCH_LIVE = """(panel) => {
  const canvas = panel.parentElement.querySelector("canvas");
  const w = window.__live = { moves: [], shown: [] };
  canvas.addEventListener("pointermove", (e) => w.moves.push(performance.now()), true);
  new MutationObserver(() => {
    const at = +panel.dataset.at;
    requestAnimationFrame(() => w.shown.push([at, performance.now()]));
  }).observe(panel, { attributes: true, attributeFilter: ["data-at"] });
}"""


def live_latency(script: str, path: str, records: list[dict]) -> dict:
    """For each record drawn with the mouse, before the button is lifted: the time from the last pointer move
    to the first live reading on screen that includes it, and how many readings a second came during the
    stroke."""
    with browser.serve(script) as (url, _), browser.browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/{path}")
        box = browser.canvas_box(page)
        live = page.locator('[data-testid="vp-live"]')
        live.get_by_text("Draw:").wait_for(timeout=60_000)
        page.wait_for_timeout(3000)  # the runtime and the networks load after the canvas
        latencies, rates = [], []
        for rec in records:
            clear(page)
            page.wait_for_timeout(300)
            live.evaluate(WATCH_LIVE)
            sx = box["width"] / strokes.CANVAS_SIDE
            for path_ in strokes.canvas_paths(rec):
                page.mouse.move(box["x"] + path_[0][0] * sx, box["y"] + path_[0][1] * sx)
                page.mouse.down()
                for x, y in path_[1:]:
                    page.mouse.move(box["x"] + x * sx, box["y"] + y * sx)
                page.wait_for_timeout(400)
                w = page.evaluate("window.__live")
                last = w["moves"][-1]
                after = [shown for at, shown in w["shown"] if at >= last]
                during = [at for at, _ in w["shown"] if w["moves"][0] <= at <= last]
                if after:
                    latencies.append(after[0] - last)
                if last > w["moves"][0]:
                    rates.append(len(during) / ((last - w["moves"][0]) / 1000))
                page.mouse.up()
                page.wait_for_timeout(300)
                page.evaluate("window.__live.moves = []; window.__live.shown = []")
    return {"latencies_ms": latencies, "per_second": rates}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--pages", default="bare,draw,filters,explain")
    parser.add_argument("--live", action="store_true", help="only the live reading while the pen moves: the Draw "
                                                            "page (three networks), then the DNN alone")
    args = parser.parse_args()
    # One-stroke digits only: the answer then belongs to the finished drawing, not to a stroke before it.
    one_stroke = [r for r in unipen.load_unipen() if len(r["strokes"]) == 1]
    digits = one_stroke[:: max(len(one_stroke) // (args.n + 1), 1)][: args.n + 1]
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus; {args.n} digits")
    if args.live:
        for name, script, path in (("Draw page, 3 networks", "app.py", ""),
                                   ("DNN alone", "bench/live_canvas_app.py", "?live=dnn")):
            r = live_latency(script, path, digits)
            lat = sorted(r["latencies_ms"])
            print(f"{name:22s} last pointer move to the live reading on screen: median "
                  f"{statistics.median(lat):.0f} ms, max {lat[-1]:.0f} ms ({len(lat)} strokes); readings during "
                  f"a stroke: median {statistics.median(r['per_second']):.0f} a second", flush=True)
        return
    runs = {"bare": ("bare canvas page", "bench/bare_canvas_app.py", "", PREDICTION, None),
            "draw": ("Draw page", "app.py", "", PREDICTION, DRAW_DONE),
            "filters": ("Filters page (net002)", "app.py", "filters", FILTERS_DONE, FILTERS_DONE),
            "explain": ("Explain page (DNN)", "app.py", "explain", EXPLAIN_ANSWER, EXPLAIN_DONE)}
    for name, script, path, answer, done in (runs[p] for p in args.pages.split(",")):
        r = measure(script, digits, path, answer, done)
        lat = sorted(r["latencies"])
        line = (f"{name:22s} start-up to canvas {r['startup_s']:.1f}s; pen-up to answer median "
                f"{statistics.median(lat) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
        if r["complete"]:
            full = sorted(r["complete"])
            line += f"; whole page drawn median {statistics.median(full) * 1000:.0f} ms, max {full[-1] * 1000:.0f} ms"
        print(f"{line}; server RSS {r['rss_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
