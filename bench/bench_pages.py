"""Server-side rerun time of the Draw and Filters pages after a stroke, without a browser.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_pages [--n 20] [--compare-first-visit]

``--compare-first-visit``: the Compare page's first visit on a new server (the Draw page it opens on not counted),
on a fresh VP_HOME (every network timed, as every server start did before the timings were kept) and on a server
started again (the timings kept).

Runs each page with Streamlit's AppTest, hands it a new drawing (as the canvas
would) and times the whole script rerun: preprocessing, the models, the
figures and their serialisation. AppTest adds a little of its own time, so the
figures are an upper bound of what the server spends.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import logging  # noqa: E402

from streamlit.testing.v1 import AppTest  # noqa: E402

# Setting AppTest's session state from this thread makes Streamlit warn once per value that there is no
# script context here; that is expected and would bury the figures. (A filter: Streamlit resets levels.)
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    lambda record: "missing ScriptRunContext" not in record.getMessage())

from app_pages.ui import state  # noqa: E402
from core.data import unipen  # noqa: E402
from core.images import strokes  # noqa: E402


def rerun_times(page: str | None, drawings: list, setup=None) -> list[float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    if setup:
        setup(at)
    times = []
    for gray in drawings:
        at.session_state[state.DRAWING_GRAY] = gray
        at.session_state[state.DRAWING] = [{"points": [[140, 60], [140, 220]], "width": 20}]
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
    return times[2:]  # the first reruns build the cached sub-models


def compare_first_visit() -> None:
    import tempfile

    import streamlit as st

    os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="bench_compare_")  # nothing timed, scored or kept
    for when in ("fresh machine", "server started again"):
        st.cache_data.clear()
        st.cache_resource.clear()  # a new server process
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        at.run()  # the Draw page, where the app opens: not counted
        at.switch_page("app_pages/compare.py")
        t = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        print(f"Compare page, first visit ({when}): {time.perf_counter() - t:.1f} s; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--compare-first-visit", action="store_true")
    args = parser.parse_args()
    if args.compare_first_visit:
        compare_first_visit()
        return
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus")
    drawings = [strokes.render(strokes.canvas_paths(r)) / 255.0 for r in unipen.load_unipen()[: args.n + 2]]
    for name, page in (("Draw page", None), ("Filters page (net002)", "app_pages/filters.py")):
        times = sorted(rerun_times(page, drawings))
        print(f"{name:22s} rerun after a stroke: median {statistics.median(times):.0f} ms, "
              f"p90 {times[int(0.9 * (len(times) - 1))]:.0f} ms")


if __name__ == "__main__":
    main()
