"""Pictures of digits in the styles people upload, made from real pen strokes.

There is no photo set to test uploads on, so these turn UNIPEN strokes into
the pictures users bring: a phone photo of ink on grey paper under uneven
light, a tablet drawing with a small glyph on a large white page, a thin pen
line, and chalk-like light strokes on a dark ground. The benchmarks and tests
use them, and ``python -m core.data.samples`` writes a few to ``assets/examples`` for
the Draw page's "try an example".
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from core.base import paths
from core.base.words import with_article
from core.data import unipen
from core.images import preprocess, strokes

STYLES = ("phone", "tablet", "thin", "light_on_dark")


def make_photo(record: dict, style: str, seed: int = 0) -> bytes:
    """Encoded image file bytes (JPEG or PNG) of one digit drawn in ``style``."""
    rng = np.random.default_rng(seed)
    if style == "phone":
        w, h, box, width = 600, 800, rng.uniform(260, 420), int(rng.integers(10, 20))
    elif style == "tablet":
        w, h, box, width = 1600, 1200, rng.uniform(110, 170), int(rng.integers(3, 6))
    elif style == "thin":
        w, h, box, width = 400, 400, rng.uniform(220, 300), 2
    elif style == "light_on_dark":
        w, h, box, width = 500, 500, rng.uniform(250, 350), int(rng.integers(10, 18))
    else:
        raise ValueError(f"unknown style {style!r}; choose one of {STYLES}")
    size = max(w, h)
    offset = (rng.uniform(-0.2, 0.2) * (w - box), rng.uniform(-0.2, 0.2) * (h - box))
    paths = strokes.canvas_paths(record, size=size, box=box, offset=offset)
    ink = preprocess.scale_pixels(strokes.render(paths, size=size, width=width))
    ink = ink[(size - h) // 2 : (size - h) // 2 + h, (size - w) // 2 : (size - w) // 2 + w]
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    if style == "phone":
        angle = rng.uniform(0, 2 * np.pi)
        light = 0.78 + 0.15 * (np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)) * 2
        paper = light * rng.uniform(0.85, 1.0)
        ink = ndimage.gaussian_filter(ink, 1.5)
        img = paper * (1 - ink) + 0.12 * ink + rng.normal(0, 0.03, (h, w))
        fmt = "JPEG"
    elif style in ("tablet", "thin"):
        img = 1.0 - ink
        fmt = "PNG"
    else:
        ink = ndimage.gaussian_filter(ink, 1.0)
        img = 0.15 + 0.05 * (xx + yy) + 0.7 * ink + rng.normal(0, 0.04, (h, w))
        fmt = "JPEG"
    out = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    out.save(buf, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return buf.getvalue()


JPEG_MAGIC = b"\xff\xd8"
EXAMPLES_DIR = paths.ROOT / "assets" / "examples"
# One digit in each upload style, from writers the benchmarks' photo set does not start with.
EXAMPLES = (("phone", 5), ("tablet", 2), ("thin", 8), ("light_on_dark", 4))


def examples(folder: Path = EXAMPLES_DIR) -> dict[str, Path]:
    """The shipped example pictures, by a label such as 'phone photo of a 5' ('thin pen of an 8')."""
    names = {"phone": "phone photo", "tablet": "tablet drawing", "thin": "thin pen", "light_on_dark": "chalk"}
    found = {}
    for path in sorted(folder.glob("*_[0-9].*")):
        style, digit = path.stem.rsplit("_", 1)
        found[f"{names.get(style, style)} of {with_article(digit)}"] = path
    return found


def write_examples(folder: Path = EXAMPLES_DIR, seed: int = 7) -> list[Path]:
    """Write one example picture per upload style from the UNIPEN strokes (needs ``VP_DATA_DIR``)."""
    records = unipen.load_unipen()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for style, digit in EXAMPLES:
        rec = [r for r in records if r["label"] == digit][-1]
        data = make_photo(rec, style, seed=seed)
        ext = "jpg" if data.startswith(JPEG_MAGIC) else "png"
        path = folder / f"{style}_{digit}.{ext}"
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_examples():
        print(p)
