"""Greek letters in many hands, drawn and photographed: what the Greek model learns from, and is chosen on.

The report's 27 letters are one person's ink, and a head trained on them alone reads about 4 in 5 letters by
other people: a gamma with a loop at the bottom looks to it like an alpha, a thick marker on grey paper like
nothing it knows. Here are more hands:

- the Greek glyphs of 34 Google Fonts families that have a greek subset (``assets/greek_fonts``: the woff files
  and their licences, copied from the npm packages ``@fontsource/*`` by ``npm run fonts`` in that folder), in
  upright and italic cuts: typeset as ``font_letters`` typesets Latin letters, at random sizes, slants and pen
  weights (thin pens to thick markers);
- the template strokes of ``greek_strokes`` and more of the shapes people write (the looped gamma in several
  forms, alpha as a fish or an "a", beta in one stroke or two), each restyled as another hand;

each either drawn on the canvas (``preprocess.from_canvas``) or photographed: dark ink on grey paper under
uneven light, a shadow, blur and noise, read through ``preprocess.to_mnist`` as the greek folder's photos are.

Hands are split by font family and by shape: the ``HELD_OUT`` families and ``HELD_OUT_SHAPES`` are never
trained on and are where a recipe is chosen and scored (``held_out``); the 12 test letters play no part.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from core.base import paths
from core.data import font_letters, greek_strokes
from core.images import preprocess, strokes

FONTS_DIR = paths.ROOT / "assets" / "greek_fonts"
CLASSES = greek_strokes.CLASSES  # alpha, beta, gamma: the greek data set's order
GLYPHS = {"alpha": "α", "beta": "β", "gamma": "γ"}
# Families held out, never trained on: two handwriting families among them, and serif, sans and rounded cuts.
HELD_OUT = ("mynerve", "comic-relief", "noto-serif", "ubuntu", "gentium-book-plus", "didact-gothic",
            "literata", "zen-maru-gothic")
WEIGHTS = (0, 14)  # extra pen width around the glyph, canvas pixels: a fine pen to a thick marker
STROKE_WIDTHS = (8, 44)  # pen widths of the template strokes, canvas pixels (the canvas' slider and a marker)
PHOTO_SIDES = (64, 480)  # a photo's side in pixels
FONT_RENDERS = 8  # renders of each glyph of each font file, half drawn, half photographed
STROKE_LETTERS = 150  # template-stroke letters of each class, half drawn, half photographed
HELD_OUT_LETTERS = 60  # letters of each class in the held-out shapes
SEED = 0

# More of the shapes people write (x right, y up, about one unit tall), beside greek_strokes.STYLES.
MORE_STYLES: dict[str, list[list[list[tuple[float, float]]]]] = {
    "alpha": [
        [[(0.85, 0.75), (0.55, 0.85), (0.2, 0.7), (0.05, 0.4), (0.15, 0.1), (0.45, 0.02), (0.7, 0.3),
          (0.85, 0.75)], [(0.85, 0.85), (0.85, 0.3), (0.9, 0.05), (1.0, 0.0)]],  # an "o" and a stem: the "a"
        [[(0.95, 0.8), (0.7, 0.35), (0.45, 0.05), (0.2, 0.05), (0.05, 0.35), (0.2, 0.7), (0.45, 0.72),
          (0.7, 0.35), (0.95, 0.0)]],  # a wide fish, the crossing low
        [[(0.8, 0.95), (0.72, 0.5), (0.55, 0.15), (0.3, 0.0), (0.08, 0.2), (0.1, 0.55), (0.35, 0.75),
          (0.6, 0.55), (0.72, 0.2), (0.85, 0.0)]],  # a narrow, upright fish
    ],
    "beta": [
        [[(0.2, -0.6), (0.2, 0.4), (0.25, 0.85), (0.45, 1.0), (0.65, 0.9), (0.6, 0.62), (0.35, 0.55),
          (0.6, 0.5), (0.75, 0.25), (0.6, 0.02), (0.3, 0.0), (0.2, 0.2)]],  # the stem first, bumps after
        [[(0.18, -0.5), (0.2, 0.5), (0.3, 0.9), (0.5, 1.0), (0.62, 0.8), (0.5, 0.55), (0.3, 0.5),
          (0.55, 0.45), (0.72, 0.2), (0.55, 0.0), (0.2, 0.05)]],  # narrow top, round lower bump
    ],
    "gamma": [
        [[(0.0, 0.95), (0.2, 0.85), (0.38, 0.45), (0.5, 0.0), (0.62, -0.3), (0.5, -0.5), (0.38, -0.3),
          (0.5, 0.0), (0.7, 0.45), (0.85, 0.8), (1.0, 0.95)]],  # a big round loop at the bottom
        [[(0.05, 0.8), (0.15, 0.95), (0.3, 0.8), (0.45, 0.2), (0.52, -0.2), (0.45, -0.4), (0.36, -0.25),
          (0.46, 0.05), (0.7, 0.55), (0.95, 0.95)]],  # a small loop, the left arm hooked at the top
        [[(0.0, 0.9), (0.3, 0.5), (0.5, 0.05), (0.55, -0.35), (0.42, -0.5), (0.35, -0.3), (0.55, 0.05),
          (0.75, 0.5), (0.9, 0.85)]],  # a narrow ribbon: the loop long and thin
        [[(0.0, 1.0), (0.2, 0.6), (0.45, 0.15), (0.5, -0.5)], [(1.0, 1.0), (0.75, 0.5), (0.45, 0.15)]],  # a "y"
    ],
}


# Shapes of MORE_STYLES held out, never trained on, as the font families are: a wide fish, a narrow-topped
# beta, and two looped gammas (the form the report's model took for an alpha).
HELD_OUT_SHAPES = {"alpha": (1,), "beta": (1,), "gamma": (0, 1)}


def styles(held_out: bool = False) -> dict[str, list]:
    """The template shapes of each letter: the held-out ones, or ``greek_strokes.STYLES`` and the rest of
    ``MORE_STYLES``."""
    if held_out:
        return {letter: [MORE_STYLES[letter][i] for i in HELD_OUT_SHAPES[letter]] for letter in CLASSES}
    return {letter: greek_strokes.STYLES[letter] + [s for i, s in enumerate(MORE_STYLES[letter])
                                                    if i not in HELD_OUT_SHAPES[letter]] for letter in CLASSES}


def font_files(held_out: bool) -> list[Path]:
    """The font files of the held-out families, or of the others, in a fixed order."""
    return [f for f in sorted(FONTS_DIR.glob("*.woff")) if (family(f) in HELD_OUT) == held_out]


def family(font_file: Path) -> str:
    """``noto-serif-greek-400-italic.woff`` -> ``noto-serif``."""
    return font_file.name.split("-greek-")[0]


def photograph(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A canvas picture of white ink on black as a photo of dark ink on grey paper: random size, paper tone,
    light falling across it, a soft shadow, blur and noise. Gray float32 in [0, 1], paper light."""
    side = int(rng.integers(*PHOTO_SIDES))
    page = Image.fromarray(ink.astype(np.float32), mode="F").resize((side, side), Image.BILINEAR)
    mask = np.clip(np.asarray(page), 0, 1)
    yy, xx = np.mgrid[0:side, 0:side] / side
    angle = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(0.45, 0.9) + rng.uniform(0, 0.2) * ((xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle))
    if rng.random() < 0.5:  # a hand's or phone's shadow over part of the page
        edge = (xx - rng.uniform(0.2, 0.8)) * np.cos(angle) + (yy - rng.uniform(0.2, 0.8)) * np.sin(angle)
        light = light * (1 - rng.uniform(0.1, 0.35) / (1 + np.exp(-edge * side / rng.uniform(4, 30))))
    ink_tone = rng.uniform(0.02, 0.3)
    photo = light * (1 - mask) + ink_tone * mask
    photo = ndimage.gaussian_filter(photo, rng.uniform(0, 1.5)) + rng.normal(0, rng.uniform(0, 0.03), photo.shape)
    return np.clip(photo, 0, 1).astype(np.float32)


def _read(ink: np.ndarray, photo: bool, rng: np.random.Generator) -> np.ndarray | None:
    """What the app reads from this ink: drawn on the canvas, or photographed and read as an uploaded photo."""
    pre = preprocess.to_mnist(photograph(ink, rng), keep_steps=False) if photo else preprocess.from_canvas(ink)
    return None if pre.empty else pre.image


def font_letters_of(fonts: list[Path], renders: int, seed: int, photo: bool | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Each Greek glyph of each font ``renders`` times, alternately drawn and photographed (``photo`` None), or
    all photographed (True) or all drawn (False)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for font_file in fonts:
        for label, letter in enumerate(CLASSES):
            for n in range(renders):
                ink = font_letters.ink_page(font_file, GLYPHS[letter], rng, WEIGHTS)
                image = None if ink is None else _read(ink, n % 2 == 1 if photo is None else photo, rng)
                if image is not None:
                    images.append(image)
                    labels.append(label)
    return _stack(images, labels)


def stroke_letters(per_class: int, seed: int, held_out: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` template-stroke letters of each class, the shapes in turn, each restyled as another hand
    and written with a random pen, alternately drawn and photographed."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, shapes in enumerate(styles(held_out).values()):
        for n in range(per_class):
            rec = {"y_axis": "up", "strokes": [greek_strokes.smooth(s).tolist() for s in shapes[n % len(shapes)]]}
            rec = strokes.restyle(rec, rng, strength=1.5)
            width = int(rng.integers(*STROKE_WIDTHS))
            box = rng.uniform(120.0, 240.0)
            room = max(0.0, (strokes.CANVAS_SIDE - box - width) / 2 - 4)
            ink = strokes.render(strokes.canvas_paths(rec, box=box, offset=tuple(rng.uniform(-room, room, 2))),
                                 width=width) / 255.0
            image = _read(ink.astype(np.float32), n % 2 == 1, rng)
            if image is not None:
                images.append(image)
                labels.append(label)
    return _stack(images, labels)


def _stack(images: list, labels: list) -> tuple[np.ndarray, np.ndarray]:
    if not images:
        return np.zeros((0, preprocess.FRAME, preprocess.FRAME), np.float32), np.zeros(0, np.uint8)
    return np.stack(images).astype(np.float32), np.asarray(labels, np.uint8)


@cache
def training(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The many hands a Greek model learns from (never the held-out families): (N, 28, 28) uint8, labels."""
    xf, yf = font_letters_of(font_files(held_out=False), FONT_RENDERS, seed)
    xs, ys = stroke_letters(STROKE_LETTERS, seed + 1)
    return np.round(np.concatenate([xf, xs]) * 255).astype(np.uint8), np.concatenate([yf, ys])


def letters_sha256(x: np.ndarray, y: np.ndarray) -> str:
    """A digest of rendered letters and their labels, for a model card."""
    return hashlib.sha256(np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()


@cache
def held_out(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Letters of the held-out families and shapes, drawn and photographed: where recipes are chosen and
    scored."""
    xf, yf = font_letters_of(font_files(held_out=True), FONT_RENDERS, seed + 2)
    xs, ys = stroke_letters(HELD_OUT_LETTERS, seed + 3, held_out=True)
    return np.round(np.concatenate([xf, xs]) * 255).astype(np.uint8), np.concatenate([yf, ys])


def sha256() -> str:
    """A digest of what the hands are made from: the font files, the shapes, the split and the settings (the
    rendered letters themselves are hashed on the model card: ``letters_sha256``)."""
    h = hashlib.sha256()
    for f in sorted(FONTS_DIR.glob("*.woff")):
        h.update(f.name.encode() + f.read_bytes())
    h.update(json.dumps([greek_strokes.STYLES, MORE_STYLES, HELD_OUT_SHAPES, HELD_OUT, HELD_OUT_LETTERS, WEIGHTS,
                         STROKE_WIDTHS, PHOTO_SIDES, FONT_RENDERS, STROKE_LETTERS, SEED]).encode())
    return h.hexdigest()
