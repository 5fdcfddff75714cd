"""Lowercase letters in handwriting fonts: more hands for the handwriting network to learn letters from.

The UNIPEN letters the handwriting network learns are 1,011 letters by about 50 people, and three of them
wrote three quarters of those: the network knows few ways to write each letter, and your own classes read
letters by people it has never seen through it. Handwriting fonts are other people's hands, drawn once as
a typeface: ``assets/fonts`` holds 252 of Google Fonts' handwriting fonts (SIL Open Font License or Apache;
among them Playwrite's school scripts of 40 countries), copied there from the npm packages ``@fontsource/*``
by ``npm run fonts`` (``package.json``); the few whose lowercase letters are capitals were left out. Each
letter is typeset at a random size, slant, pen weight and place on a canvas-sized picture and preprocessed
as a drawing is, so the network sees it as it would see a drawing.
"""

from __future__ import annotations

import functools
import io
import string
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from core.base import paths
from core.images import preprocess
from core.images.strokes import CANVAS_SIDE

FONTS_DIR = paths.ROOT / "assets" / "fonts"
LETTERS = string.ascii_lowercase
RENDERS = 3  # typeset copies of each letter in each font
SIZES = (130, 230)  # font size in canvas pixels: a letter's x-height of about a third to a half of the canvas
SLANT = 12.0  # degrees either way
WEIGHTS = (0, 5)  # extra pen width around the font's own stroke, in canvas pixels (upper bound excluded)
LARGEST = 240  # canvas pixels: a taller letter (a long f or j) is scaled down to fit, as a writer would


def font_files() -> list[Path]:
    """The fonts, in a fixed order (their renders depend on it)."""
    return sorted(FONTS_DIR.glob("*.woff"))


@functools.lru_cache(maxsize=1)  # the fonts are typeset one after the other
def sfnt(font_file: Path) -> bytes:
    """The font file as a plain TrueType/OpenType font: a WOFF file's tables unpacked (fontTools), byte for byte.

    FreeType reads WOFF itself but unpacks every table again each time the font is opened, at each letter's size
    (0.4 ms); the font unpacked once here opens in 0.01 ms, and draws the same pixels. No table is decoded or
    rewritten (no new timestamp, no bounding boxes computed again): only the container changes."""
    font = TTFont(font_file, recalcTimestamp=False, recalcBBoxes=False)
    font.flavor = None
    plain = io.BytesIO()
    font.save(plain, reorderTables=False)
    return plain.getvalue()


def ink_page(font_file: Path, letter: str, rng: np.random.Generator, weights: tuple[int, int] = WEIGHTS
             ) -> np.ndarray | None:
    """``letter`` in ``font_file`` at a random size, slant, pen weight and place: the canvas' picture (white ink
    on black, float32 in [0, 1], ``CANVAS_SIDE`` square); None if the font has no ink for it."""
    font = ImageFont.truetype(io.BytesIO(sfnt(font_file)), int(rng.uniform(*SIZES)))
    page = Image.new("L", (2 * CANVAS_SIDE, 2 * CANVAS_SIDE), 0)
    width = int(rng.integers(*weights))
    ImageDraw.Draw(page).text((CANVAS_SIDE // 2, CANVAS_SIDE // 2), letter, font=font, fill=255,
                              stroke_width=width, stroke_fill=255)
    box = page.getbbox()
    if box is None:
        return None
    # Slanted after cropping to the ink (a quarter of the time of turning the whole page).
    ink = page.crop(box).rotate(rng.uniform(-SLANT, SLANT), resample=Image.BILINEAR, expand=True)
    ink = ink.crop(ink.getbbox())
    scale = min(1.0, LARGEST / max(ink.size))
    ink = ink.resize((max(1, int(ink.size[0] * scale)), max(1, int(ink.size[1] * scale))), Image.BILINEAR)
    canvas = Image.new("L", (CANVAS_SIDE, CANVAS_SIDE), 0)
    canvas.paste(ink, (int(rng.uniform(0, CANVAS_SIDE - ink.size[0])), int(rng.uniform(0, CANVAS_SIDE - ink.size[1]))))
    return np.asarray(canvas, np.float32) / 255.0


def typeset(font_file: Path, letter: str, rng: np.random.Generator) -> np.ndarray | None:
    """``letter`` in ``font_file`` on the canvas, preprocessed: (28, 28) float32 in [0, 1]; None if no ink."""
    page = ink_page(font_file, letter, rng)
    if page is None:
        return None
    drawn = preprocess.from_canvas(page)
    return None if drawn.empty else drawn.image


def letters(renders: int = RENDERS, seed: int = 0, fonts: list[Path] | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Every letter of every font (``fonts``, all by default) typeset ``renders`` times: (N, 28, 28) float32 in
    [0, 1] and the N letters."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for font_file in font_files() if fonts is None else fonts:
        for letter in LETTERS:
            for _ in range(renders):
                image = typeset(font_file, letter, rng)
                if image is not None:
                    images.append(image)
                    labels.append(letter)
    if not images:
        return np.zeros((0, preprocess.FRAME, preprocess.FRAME), np.float32), np.array([], str)
    return np.stack(images), np.array(labels)
