"""The live reading's harness: UNIPEN strokes drawn on a canvas in Chromium, read by static/live, and the same
pictures read by the server's preprocessing and Keras. Shared by tests/test_live_reading.py and
bench/bench_live.py. The page's files are served from the repository's static/ folder by Playwright itself, and
any request for anything else is refused (and reported): the reading needs no network."""

from __future__ import annotations

import base64
import io
import mimetypes

import numpy as np
from PIL import Image

from bench.harness.browser import CHROMIUM, CHROMIUM_ARGS
from core.base.paths import ROOT
from core.data import unipen
from core.images import preprocess, strokes
from core.nets import registry

ORIGIN = "http://vp.test"
HARNESS = """<!doctype html><canvas id="c" width="280" height="280"></canvas><script type="module">
import { drawStrokes } from "/static/live/ink.mjs";
import { readCanvas } from "/static/live/reader.mjs";
window.readAll = async (drawings, models) => {
  const canvas = document.getElementById("c"), ctx = canvas.getContext("2d", { willReadFrequently: true });
  const out = [];
  for (const strokes of drawings) {
    drawStrokes(ctx, strokes);
    const r = await readCanvas(canvas, models);
    const readings = r && Object.fromEntries(
      Object.entries(r.readings).map(([m, x]) => [m, { probs: Array.from(x.probs), ms: x.ms }]));
    out.push({ png: canvas.toDataURL("image/png"), image: r && Array.from(r.image), readings });
  }
  return out;
};
window.harnessReady = true;
</script>"""


def drawings(records: list[dict], seed: int = 0) -> list[list[dict]]:
    """Each record's strokes on the 280-pixel canvas with a random pen, size and place (as ``unipen.drawings``)."""
    rng = np.random.default_rng(seed)
    out = []
    for rec in records:
        width = int(rng.integers(*unipen.DRAWN_WIDTHS))
        box = rng.uniform(*unipen.DRAWN_BOXES)
        room = (strokes.CANVAS_SIDE - box - width) / 2 - 4
        offset = tuple(rng.uniform(-room, room, size=2))
        out.append([{"points": path, "width": width} for path in strokes.canvas_paths(rec, box=box, offset=offset)])
    return out


def serve_static(route) -> None:
    path = route.request.url[len(ORIGIN):].split("?")[0]
    if path == "/":
        route.fulfill(status=200, content_type="text/html", body=HARNESS)
        return
    file = (ROOT / path.lstrip("/")).resolve()
    if not file.is_relative_to(ROOT / "static") or not file.is_file():
        route.fulfill(status=404, body="not found")
        return
    route.fulfill(status=200, content_type=mimetypes.guess_type(file.name)[0] or "application/octet-stream",
                  body=file.read_bytes())


def read_in_browser(batch: list[list[dict]], models: tuple[str, ...]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            outside = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((ORIGIN, "data:")) else None)
            page.route("**/*", lambda route: serve_static(route) if route.request.url.startswith(ORIGIN)
                       else route.abort())
            page.goto(ORIGIN + "/")
            page.wait_for_function("window.harnessReady === true", timeout=30_000)
            results = []
            for i in range(0, len(batch), 100):
                results += page.evaluate("([d, m]) => window.readAll(d, m)", [batch[i: i + 100], list(models)])
            assert not outside, outside  # nothing leaves the machine
            return results
        finally:
            browser.close()


def pictures(batch: list[list[dict]]) -> list[str]:
    """Each drawing's canvas picture as the drawing canvas sends it (``toDataURL`` after static/live/ink.mjs drew
    its strokes on a 280-pixel canvas), made in Chromium: what a student's canvas would send for these strokes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: serve_static(route) if route.request.url.startswith(ORIGIN)
                       else route.abort())
            page.goto(ORIGIN + "/")
            page.wait_for_function("window.harnessReady === true", timeout=30_000)
            return page.evaluate("""async (batch) => {
              const { drawStrokes } = await import("/static/live/ink.mjs");
              const canvas = document.getElementById("c"), ctx = canvas.getContext("2d");
              return batch.map((strokes) => { drawStrokes(ctx, strokes); return canvas.toDataURL("image/png"); });
            }""", batch)
        finally:
            browser.close()


def server_reading(png_data_url: str) -> preprocess.Preprocessed:
    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_data_url.split(",", 1)[1]))).convert("RGBA"))
    return preprocess.from_canvas(preprocess.canvas_to_gray(rgba))


def compare(records: list[dict], models: tuple[str, ...]) -> dict:
    results = read_in_browser(drawings(records), models)
    server = [server_reading(r["png"]) for r in results]
    assert [r["image"] is None for r in results] == [s.empty for s in server]
    both = [i for i, s in enumerate(server) if not s.empty]
    images = np.stack([server[i].image for i in both])
    browser_images = np.array([results[i]["image"] for i in both], np.float32).reshape(images.shape)
    out = {"input_max_difference": float(np.abs(images - browser_images).max()), "drawings": len(both)}
    for m in models:
        keras_probs = registry.load(m).predict(images[..., None], verbose=0)
        live = np.array([results[i]["readings"][m]["probs"] for i in both])
        out[m] = {"same_top": float((live.argmax(1) == keras_probs.argmax(1)).mean()),
                  "mean_abs_difference": float(np.abs(live - keras_probs).mean()),
                  "ms": [results[i]["readings"][m]["ms"] for i in both]}
    return out
