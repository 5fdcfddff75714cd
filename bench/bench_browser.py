"""What the user sees, in a real browser: start-up time, pen-up-to-answer latency, and server memory.

Usage: VP_DATA_DIR=../shared/data python bench/bench_browser.py [--n 12]

Serves the app with ``streamlit run``, opens it in headless Chromium, draws
one-stroke UNIPEN digits with the mouse and times from the mouse-up to the
``Prediction`` metric on screen. The same is done on a bare page with only
the canvas and a number (bench/bare_canvas_app.py) for comparison.
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


def measure(script: str, records: list[dict]) -> dict:
    t0 = time.perf_counter()
    with browser.serve(script) as (url, proc), browser.browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        browser.canvas_box(page)
        startup = time.perf_counter() - t0
        latencies = []
        for rec in records:
            page.reload()
            box = browser.canvas_box(page)
            *first, last = strokes.canvas_paths(rec)
            browser.draw(page, first, box)
            browser.draw(page, [last], box)  # time from this stroke's mouse-up to the answer on screen
            up = time.perf_counter()
            page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=30_000)
            latencies.append(time.perf_counter() - up)
        rss = sum(p.memory_info().rss for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)])
    return {"startup_s": startup, "latencies": latencies, "rss_mb": rss / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=12)
    args = parser.parse_args()
    one_stroke = [r for r in strokes.load_unipen() if len(r["strokes"]) == 1][: args.n]
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus; "
          f"{len(one_stroke)} one-stroke digits")
    for name, script in (("bare canvas page", "bench/bare_canvas_app.py"), ("Vision Playground", "app.py")):
        r = measure(script, one_stroke)
        lat = sorted(r["latencies"])
        print(f"{name:18s} start-up to canvas {r['startup_s']:.1f}s; pen-up to answer median "
              f"{statistics.median(lat) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms; server RSS {r['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
