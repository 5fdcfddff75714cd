"""What the user sees, in a real browser: start-up time, pen-up-to-answer latency, and server memory.

Usage: VP_DATA_DIR=../shared/data python bench/bench_browser.py [--n 10]

Serves the app with ``streamlit run``, opens it in headless Chromium, and for
each UNIPEN digit clears the canvas, draws the digit with the mouse and times
from the last mouse-up to the answer on screen (the ``Prediction`` metric) and
to the whole page drawn (the Draw page's last preprocessing picture; the
Filters page's maps and its final softmax). The same is done on a bare page
with only the canvas and a number (bench/bare_canvas_app.py) for comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from core import strokes  # noqa: E402
from tests import browser  # noqa: E402

PREDICTION = '[data-testid="stMetric"]:has-text("Prediction")'
DRAW_DONE = '[data-testid="stImage"]:has-text("centred by mass") img'
FILTERS_DONE = '[data-testid="stMetric"]:has-text("softmax")'


def measure(script: str, records: list[dict], path: str = "", answer: str = PREDICTION,
            done: str | None = None) -> dict:
    """Start-up time, then for each record on the warm page: clear the canvas, draw the digit,
    and time from the last pen-up to ``answer`` on screen, and to ``done`` with every picture loaded."""
    t0 = time.perf_counter()
    with browser.serve(script) as (url, proc), browser.browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/{path}")
        box = browser.canvas_box(page)
        startup = time.perf_counter() - t0
        latencies, complete = [], []
        for rec in records:
            page.get_by_role("button", name="Reset canvas & history").click()
            page.locator(answer).first.wait_for(state="detached", timeout=30_000)
            *first, last = strokes.canvas_paths(rec)
            browser.draw(page, first, box)
            browser.draw(page, [last], box)
            up = time.perf_counter()
            page.locator(answer).first.wait_for(timeout=30_000)
            latencies.append(time.perf_counter() - up)
            if done:
                page.locator(done).first.wait_for(timeout=30_000)
                browser.wait_for_images(page)
                complete.append(time.perf_counter() - up)
        # the first drawing also loads the page's chart library
        latencies, complete = latencies[1:], complete[1:]
        rss = sum(p.memory_info().rss for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)])
    return {"startup_s": startup, "latencies": latencies, "complete": complete, "rss_mb": rss / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    digits = strokes.load_unipen()[:: 1000 // args.n][: args.n + 1]
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus; {args.n} digits")
    runs = (("bare canvas page", "bench/bare_canvas_app.py", "", PREDICTION, None),
            ("Draw page", "app.py", "", PREDICTION, DRAW_DONE),
            ("Filters page (net002)", "app.py", "filters", FILTERS_DONE, FILTERS_DONE))
    for name, script, path, answer, done in runs:
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
