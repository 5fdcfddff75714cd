"""Real-browser helpers: serve the app with ``streamlit run`` and drive Debian's Chromium with Playwright.

Shared by the browser tests and ``bench/bench_browser.py``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.harness import command_line
from core.base.paths import ROOT
from core.images import strokes

CHROMIUM = os.environ.get("VP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def screenshot_path(name: str, tmp_path: Path) -> str:
    """Where a test saves its screenshot: ``$VP_SCREENSHOTS`` (e.g. assets/screenshots) when set, else a temp dir,
    so a test run never rewrites the tracked pictures by accident."""
    folder = os.environ.get("VP_SCREENSHOTS")
    return str(Path(folder) / name if folder else tmp_path / name)


def free_port() -> int:
    """A TCP port nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(script: str = "app.py", timeout: float = 90.0, env: dict | None = None, launcher: list[str] | None = None,
          port: int | None = None):
    """Run ``streamlit run script`` on a free local port (or ``port``: a server restarted where its clients
    reconnect); yield its URL and the server's process.

    ``env``: variables to set for the server (a VP_HOME of its own, say). ``launcher``: the command that
    stands for ``streamlit`` (bench_lab runs the server under a module watcher of its own)."""
    port = port or free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    env.pop("MLFLOW_TRACKING_URI", None)  # the server's runs go to the store of its own VP_HOME
    env.pop("RAY_ADDRESS", None)  # and run on its own local cluster
    cmd = [*(launcher or [sys.executable, "-m", "streamlit"]), "run", script, "--server.headless=true",
           f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
           "--server.fileWatcherType=none"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - started > timeout:
                raise TimeoutError("streamlit did not answer in time")
            time.sleep(0.2)
        yield url, proc
    finally:
        command_line.stop(proc)


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


CANVAS = '[data-testid="vp-canvas"]'  # the app's drawing canvas (app_pages/ui/live_canvas.py), in its shadow root


def canvas_box(page, timeout: float = 60_000, which: int = 0):
    """The bounding box of the page's drawing canvas (the ``which``-th one), once it is on screen."""
    canvas = page.locator(CANVAS).nth(which)
    canvas.wait_for(state="visible", timeout=timeout)
    return canvas.bounding_box()


def draw(page, paths, box, steps_per_segment: int = 1) -> None:
    """Draw strokes with real mouse moves; ``paths`` are in canvas pixels (0-280)."""
    sx, sy = box["width"] / strokes.CANVAS_SIDE, box["height"] / strokes.CANVAS_SIDE
    for path in paths:
        x0, y0 = path[0]
        page.mouse.move(box["x"] + x0 * sx, box["y"] + y0 * sy)
        page.mouse.down()
        for x, y in path[1:]:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=steps_per_segment)
        page.mouse.up()


def finger(context, page):
    """Draw strokes (canvas pixels) with one finger: touchstart, touchmoves, touchend, as a phone sends them."""
    cdp = context.new_cdp_session(page)

    def draw(paths, box) -> None:
        scale = box["width"] / strokes.CANVAS_SIDE
        for path in paths:
            points = [{"x": box["x"] + x * scale, "y": box["y"] + y * scale} for x, y in path]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
            for p in points[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    return draw


def wait_for_images(page, selector: str = "img", timeout: float = 30_000) -> list[int]:
    """Wait until every picture matching ``selector`` has loaded; return their natural widths.

    Streamlit sends a page's elements one by one and each picture is fetched on its own, so the
    last element of a page can be on screen before the pictures above it have arrived. A picture
    that cannot load (a missing media file) stays at width 0 and makes this time out.
    """
    loaded = f"() => [...document.querySelectorAll({selector!r})].every(i => i.complete && i.naturalWidth > 0)"
    page.wait_for_function(loaded, timeout=timeout, polling="raf")
    return page.locator(selector).evaluate_all("imgs => imgs.map(i => i.naturalWidth)")


def settle(page, timeout_s: float) -> None:
    """Wait until the page's script has finished: no 'Stop' in the status widget and no spinner, for a second."""
    idle = """() => !document.querySelector('[data-testid="stSpinner"]')
                    && ![...document.querySelectorAll('[data-testid="stStatusWidget"]')]
                          .some(e => /Stop|Running/.test(e.innerText))"""
    end = time.time() + timeout_s
    while time.time() < end:
        page.wait_for_function(idle, timeout=max(1_000, (end - time.time()) * 1000), polling=250)
        page.wait_for_timeout(1000)
        if page.evaluate(idle):
            return
    raise TimeoutError(f"{page.url} still running after {timeout_s:.0f} s")


def prediction(page) -> str | None:
    """The value of the metric labelled 'Prediction', or None when none is shown."""
    metrics = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    if metrics.count() == 0:
        return None
    return metrics.first.locator('[data-testid="stMetricValue"]').inner_text().strip()
