"""Record what the drawing canvas really hands to Python, in Chromium: ``python -m tests.record_canvas_payloads``.

Serves ``tests/canvas_recorder_page.py`` (the app's canvas, alone) with ``streamlit run``, draws real
UNIPEN pen-drawn digits on it with Playwright's mouse, presses the canvas' own Undo, Redo, Edit and
Reset buttons, and after each action keeps the last payload the page received: ``canvas.json_data``
as it came, and a summary of ``canvas.image_data``. They go to ``tests/data/canvas_payloads.json``,
which the canvas consumers' tests read instead of JSON written by hand. Run it again after upgrading
streamlit or streamlit-drawable-canvas, and rerun the tests (about a minute; needs /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import io
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from core.base.paths import ROOT
from core.data import unipen
from core.images import strokes
from tests import browser

FIXTURE = ROOT / "tests" / "data" / "canvas_payloads.json"
UNIPEN_FIXTURE = ROOT / "tests" / "data" / "unipen_fixture.jsonl"  # the digits drawn, shipped with the tests
PAGE = "tests/canvas_recorder_page.py"

# UNIPEN ids in tests/data/unipen_fixture.jsonl: a one-stroke 3, 5 and 0, a two-stroke 4 and 7.
DIGITS = {3: "u1a-11207", 4: "u1a-14969", 7: "u1a-06275", 5: "u1a-00181", 0: "u1a-05525"}


# The payloads kept with the whole picture the canvas sent, not only its 28x28 copy: as a gray PNG (base64),
# which gives back image_data exactly (checked against its hash): the canvas' RGBA is (g, g, g, 255).
WITH_PNG = {"three_one_stroke", "reset", "four_two_strokes", "seven_two_strokes", "seven_bar_turned", "dot"}


def gray_png(png_base64: str, image: dict) -> str:
    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_base64))))
    assert hashlib.sha256(rgba.tobytes()).hexdigest() == image["sha256"]
    assert image["gray_channels"] and image["alpha"] == [255, 255], "the picture is not white on opaque black"
    out = io.BytesIO()
    Image.fromarray(rgba[..., 0]).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode()


class Recorder:
    """One browser tab on the recorder page: do something with the mouse, then ``keep`` what Python received."""

    def __init__(self, page, url: str, folder: Path, session: str, pen: int = 20):
        self.page, self.folder, self.pen = page, folder / session, pen
        self.seen = 0
        self.payloads: list[dict] = []
        page.goto(f"{url}/?pen={pen}&session={session}")
        self.box = browser.canvas_box(page)

    def _runs(self) -> list[Path]:
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def wait(self, objects: int, timeout: float = 30.0, quiet: float = 1.0) -> dict:
        """The last record after the page has received a new payload holding ``objects`` objects and
        then stayed quiet for ``quiet`` seconds."""
        end = time.time() + timeout
        while time.time() < end:
            runs = self._runs()
            if len(runs) > self.seen:
                last = json.loads(runs[-1].read_text())
                got = len((last["json_data"] or {}).get("objects") or [])
                if got == objects:
                    time.sleep(quiet)
                    if len(self._runs()) == len(runs):
                        self.seen = len(runs)
                        return last
            time.sleep(0.1)
        raise TimeoutError(f"no payload with {objects} objects arrived (runs so far: {len(self._runs())})")

    def keep(self, label: str, what: str, objects: int, drawn: list | None = None, digit: dict | None = None) -> dict:
        rec = self.wait(objects)
        image = rec["image"]
        if image is not None and label in WITH_PNG:
            image = {k: v for k, v in image.items() if k != "gray28"} | {"gray_png": gray_png(rec["png"], image)}
        entry = {"label": label, "what": what, "pen": self.pen, "runs": rec["run"],
                 "digit": digit, "drawn": [[[round(x, 1), round(y, 1)] for x, y in p] for p in drawn or []],
                 "json_data": rec["json_data"], "image": image}
        self.payloads.append(entry)
        print(f"  {label}: {objects} objects, run {rec['run']}")
        return entry

    def stroke(self, path) -> None:
        browser.draw(self.page, [path], self.box)

    def button(self, name: str) -> None:
        """Press one of the canvas' toolbar buttons (shown while the pointer is over the canvas)."""
        self.page.mouse.move(self.box["x"] + 140, self.box["y"] + 140)
        self.page.get_by_role("button", name=name, exact=True).click()


def drag(rec: Recorder, start, end, steps: int = 10) -> None:
    """Press at ``start`` and move to ``end`` (canvas pixels) with the mouse."""
    sx, sy = rec.box["width"] / strokes.CANVAS_SIDE, rec.box["height"] / strokes.CANVAS_SIDE
    rec.page.mouse.move(rec.box["x"] + start[0] * sx, rec.box["y"] + start[1] * sy)
    rec.page.mouse.down()
    rec.page.mouse.move(rec.box["x"] + end[0] * sx, rec.box["y"] + end[1] * sy, steps=steps)
    rec.page.mouse.up()


def digit(label: int) -> tuple[dict, list]:
    rec = next(r for r in unipen.load_unipen(UNIPEN_FIXTURE) if r["id"] == DIGITS[label])
    return {"label": label, "id": rec["id"], "strokes": len(rec["strokes"])}, strokes.canvas_paths(rec)


def record(rec: Recorder) -> None:
    """The main session at the app's default pen width (20)."""
    rec.keep("initial", "the page as first shown, nothing drawn yet", 0)

    info, paths = digit(3)
    rec.stroke(paths[0])
    rec.keep("three_one_stroke", "a 3 drawn in one stroke", 1, paths, info)

    rec.button("Reset canvas & history")
    rec.keep("reset", "after the Reset canvas button", 0)

    info, paths = digit(4)
    rec.stroke(paths[0])
    rec.keep("four_first_stroke", "a 4's first stroke", 1, paths[:1], info)
    rec.stroke(paths[1])
    rec.keep("four_two_strokes", "a 4 drawn in two strokes", 2, paths, info)
    rec.button("Undo")
    rec.keep("four_undo", "the two-stroke 4 after Undo", 1, paths[:1], info)
    rec.button("Redo")
    rec.keep("four_redo", "then Redo", 2, paths, info)

    rec.button("Reset canvas & history")
    rec.wait(0)
    info, paths = digit(7)
    for p in paths:
        rec.stroke(p)
    rec.keep("seven_two_strokes", "a 7 drawn in two strokes", 2, paths, info)

    # The toolbar's Edit toggle lets a learner drag a stroke: grab the 7's bar at its middle, move it.
    rec.button("Edit")
    bar = paths[1]
    x, y = bar[len(bar) // 2]
    drag(rec, (x, y), (x + 30, y + 40))
    moved = [paths[0], [(a + 30, b + 40) for a, b in bar]]
    bar_moved = rec.keep("seven_bar_moved", "the 7 after its second stroke was dragged 30 px right and 40 px down "
                         "in edit mode", 2, moved, info)
    # Still selected: drag its bottom-right corner handle out (a scale), then its rotation handle (a turn).
    obj = bar_moved["json_data"]["objects"][1]
    cx, cy = obj["left"], obj["top"]
    half_w, half_h = (obj["width"] + obj["strokeWidth"]) / 2, (obj["height"] + obj["strokeWidth"]) / 2
    drag(rec, (cx + half_w, cy + half_h), (cx + 1.3 * half_w, cy + 1.3 * half_h))
    scaled = rec.keep("seven_bar_scaled", "then its bottom-right handle dragged out: the bar scaled up", 2,
                      digit=info)
    obj = scaled["json_data"]["objects"][1]
    assert obj["scaleX"] != 1 and obj["scaleY"] != 1, "the corner drag missed its handle"
    half_h = (obj["height"] + obj["strokeWidth"]) * obj["scaleY"] / 2
    top = (obj["left"], obj["top"] - half_h - 40)  # Fabric's rotation handle: 40 px over the top edge's middle
    drag(rec, top, (obj["left"] + 0.5 * (half_h + 40), obj["top"] - 0.87 * (half_h + 40)))
    turned = rec.keep("seven_bar_turned", "then its rotation handle dragged: the bar turned by about 30 degrees", 2,
                      digit=info)
    assert turned["json_data"]["objects"][1]["angle"] != 0, "the rotation drag missed its handle"
    rec.button("Edit")

    rec.button("Reset canvas & history")
    rec.wait(0)
    rec.page.mouse.click(rec.box["x"] + rec.box["width"] / 2, rec.box["y"] + rec.box["height"] / 2)
    rec.keep("dot", "a single click at (140, 140): a dot", 1, [[(140.0, 140.0)]])


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
            "streamlit-drawable-canvas": importlib.metadata.version("streamlit-drawable-canvas"),
            "canvas_call": "st_canvas(stroke_width=pen, key=..., **app_pages.ui.inputs.CANVAS)",
            "digits": "UNIPEN, tests/data/unipen_fixture.jsonl, drawn with core.images.strokes.canvas_paths",
            "drawn": "the mouse path of each stroke in canvas pixels (what the learner drew)",
            "image": "a summary of canvas.image_data; gray28: canvas_to_gray, box-downscaled to 28x28, x255; "
                     "gray_png: the whole picture's one channel as a PNG, base64 (image_data is (g, g, g, 255))"}
    lines = ",\n".join(json.dumps(p, separators=(",", ":")) for p in payloads)
    args.out.write_text('{"meta": ' + json.dumps(meta) + ',\n"payloads": [\n' + lines + "\n]}\n")
    print(f"{len(payloads)} payloads, {args.out.stat().st_size / 1024:.0f} KB in {args.out} "
          f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
