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

from core.data import unipen  # noqa: E402
from core.images import strokes  # noqa: E402
from tests import browser  # noqa: E402

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
            page.get_by_role("button", name="Reset canvas & history").click()
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--pages", default="bare,draw,filters,explain")
    args = parser.parse_args()
    # One-stroke digits only: the answer then belongs to the finished drawing, not to a stroke before it.
    one_stroke = [r for r in unipen.load_unipen() if len(r["strokes"]) == 1]
    digits = one_stroke[:: max(len(one_stroke) // (args.n + 1), 1)][: args.n + 1]
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus; {args.n} digits")
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
