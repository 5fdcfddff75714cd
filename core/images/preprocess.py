"""One preprocessing path from any picture of a digit to a 28x28 MNIST-style input.

MNIST digits were made by cropping the ink, scaling it to fit a 20x20 box with
its aspect ratio kept, and centring it by its centre of mass in a 28x28 frame.
A model trained on MNIST reads a drawing well only if the drawing is prepared
the same way, so the canvas, uploads, the CLI, the benchmarks and the tests all
go through ``to_mnist``. It also copes with photos: it detects dark-on-light
ink, removes uneven paper and lighting, drops specks of noise, and brings thin
pen lines and fat marker strokes to MNIST's stroke width.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48 MP phone photo is refused, a 12 MP one is fine
WORK_SIDE = 1024  # larger images are reduced to this before any analysis
FIT_BOX = 20
FRAME = 28
# The pictures every reader of pictures accepts (uploads, zips of class folders, folder data sets): what Pillow
# decodes here.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
# MNIST's median stroke width, measured by ``stroke_width`` on the training set
# in the 80-pixel working crop (four times the 20-pixel box).
MNIST_STROKE_80 = 11.3


def scale_pixels(pixels) -> np.ndarray:
    """8-bit pixels (0-255) as float32 in [0, 1]: how every network here takes its input."""
    return np.asarray(pixels, np.float32) / 255.0


class InputError(ValueError):
    """The input cannot be read as a picture of a digit; the message says why."""


@dataclass
class Preprocessed:
    """The 28x28 model input and the intermediate pictures that explain it."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black
    empty: bool
    inverted: bool = False
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    # Where the 28x28 frame lies on the input picture: input pixel = offset + scale * frame pixel
    # (scale, offset_y, offset_x), so a map over the network's input can be drawn over the user's picture.
    frame_on_input: tuple[float, float, float] | None = None


def first_inked_frame(img: Image.Image) -> int:
    """The index of an animation's first frame that is not one flat colour (0 when every frame is)."""
    for index in range(min(getattr(img, "n_frames", 1), 200)):
        img.seek(index)
        lo, hi = img.convert("L").getextrema()
        if hi - lo > 25:
            return index
    return 0


def animation_frame(data: bytes) -> tuple[int, int] | None:
    """For an animated picture, (the frame ``decode_image`` reads, the number of frames); else None."""
    try:
        img = Image.open(io.BytesIO(data))
        frames = getattr(img, "n_frames", 1)
        return (first_inked_frame(img), frames) if frames > 1 else None
    except Exception:  # noqa: BLE001 - decode_image gives the error its words
        return None


def decode_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode image file bytes to a 2-D grayscale float array in [0, 1].

    Refuses, with a clear ``InputError``, files that are too large, not images,
    corrupt, or with too many pixels (checked from the header, before decoding).
    """
    if len(data) == 0:
        raise InputError("the file is empty")
    if len(data) > max_bytes:
        raise InputError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")
    try:
        # Pillow checks a picture's size from its header when it opens it: above about 89 megapixels it warns
        # (into the server's log), above 179 it refuses. Both are turned into the app's own limit message.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        found = re.search(r"\((\d+) pixels\)", str(e))
        size = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
        raise InputError(f"the image is too large{size}; the limit is {max_pixels / 1e6:.0f} megapixels") from None
    except UnidentifiedImageError:
        raise InputError("this file is not an image Pillow can read (try PNG or JPEG)") from None
    except Exception as e:  # noqa: BLE001 - a broken header can raise anything
        raise InputError(f"the image could not be opened: {e}") from None
    if getattr(img, "n_frames", 1) > 1:  # an animation: read the first frame with ink, not a blank title frame
        img.seek(first_inked_frame(img))
    w, h = img.size
    if w * h > max_pixels:
        raise InputError(f"the image is too large ({w * h / 1e6:.0f} megapixels: {w}x{h}); "
                         f"the limit is {max_pixels / 1e6:.0f} megapixels")
    if w < 8 or h < 8:
        raise InputError(f"the image is only {w}x{h} pixels; a digit needs at least 8x8")
    try:
        if img.format == "JPEG":
            img.draft("L", (WORK_SIDE, WORK_SIDE))  # decode big JPEGs at a reduced size: much faster
        img = ImageOps.exif_transpose(img)
        transparent = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
        if transparent:
            img = img.convert("RGBA")
        elif img.mode.startswith("I;16"):
            img = img.convert("I")  # 16-bit scans: "L" would clip them to white
        elif img.mode not in ("I", "F"):
            img = img.convert("L")
        # Shrink huge pictures while they are still compact integers, before any float copy
        # (never so far that the short side drops below 8 pixels: a long thin strip stays readable).
        factor = min(max(img.size) // WORK_SIDE, min(img.size) // 8)
        if factor >= 2:
            img = img.reduce(factor)
        pixels = np.asarray(img, dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"the image is corrupt or truncated: {e}") from None
    if transparent:
        return _composite_gray(scale_pixels(pixels))
    if not np.isfinite(pixels).all():
        raise InputError("some of the image's pixels are not numbers (NaN or infinity)")
    if img.mode in ("I", "F"):
        # Wide or float pixels have no fixed white: stretch their own range to [0, 1].
        lo, hi = float(pixels.min()), float(pixels.max())
        return (pixels - lo) / (hi - lo) if hi > lo else np.zeros_like(pixels)
    return scale_pixels(pixels)


def read_image_file(path: str | os.PathLike, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """Decode the picture file at ``path`` as ``decode_image`` does, reading no more than the size limit.

    The size is checked before anything is read, so a huge file (or an endless
    one such as /dev/zero) is refused without filling the memory.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise InputError(f"the file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")
        data = f.read(max_bytes + 1)
    return decode_image(data, max_bytes=max_bytes)


def _composite_gray(rgba: np.ndarray) -> np.ndarray:
    """Gray of an RGBA image, with transparent pixels set to the opposite of the ink."""
    lum = rgba[..., :3].mean(axis=-1)
    alpha = rgba[..., 3]
    opaque = alpha > 0.5
    if not opaque.any():
        return np.zeros_like(lum)
    # Ink is opaque; paint the transparent background as far from the ink as possible.
    bg = 0.0 if lum[opaque].mean() > 0.5 else 1.0
    return lum * alpha + bg * (1.0 - alpha)


def canvas_to_gray(rgba: np.ndarray) -> np.ndarray:
    """Gray of the drawing canvas' RGBA pixels (white strokes on black or on transparent)."""
    rgba = scale_pixels(rgba)
    return rgba[..., :3].mean(axis=-1) * rgba[..., 3]


CANVAS_PNG = "data:image/png;base64,"  # how the canvas sends its picture


def canvas_png_to_gray(data_url: str | None, side: int = 280) -> np.ndarray | None:
    """The canvas' picture, sent as a PNG data URL, as gray in [0, 1] (``canvas_to_gray``); None when it is not
    a ``side`` x ``side`` PNG (nothing drawn, or not the canvas' own picture)."""
    if not isinstance(data_url, str) or not data_url.startswith(CANVAS_PNG):
        return None
    try:
        raw = base64.b64decode(data_url[len(CANVAS_PNG):], validate=True)
        if len(raw) > MAX_UPLOAD_BYTES:
            return None
        with Image.open(io.BytesIO(raw)) as img:
            if img.format != "PNG" or img.size != (side, side):
                return None
            rgba = np.asarray(img.convert("RGBA"))
    except (binascii.Error, OSError, ValueError, Image.DecompressionBombError):
        return None
    return canvas_to_gray(rgba)


def from_canvas(gray: np.ndarray) -> Preprocessed:
    """The drawing canvas' picture (from ``canvas_to_gray``) in MNIST's format.

    The canvas is always white ink on black, so its polarity is known, not
    guessed: a big digit that runs over the border is still read as ink.
    """
    return to_mnist(gray, invert=False)


CANVAS_URL_MAX = 1024 * 1024  # a 280x280 PNG, even uncompressed, is under half of this as a data URL


def read_canvas_png(data_url: str | None) -> Preprocessed | None:
    """The canvas' picture sent as a PNG data URL, in MNIST's format; None when it is not the canvas' picture.

    Kept for the last few pictures: a class's drawing is read when it is sent (is it empty?) and again by the
    wall of the same server a second later, the same picture both times. Treat the result as read-only."""
    if not isinstance(data_url, str) or len(data_url) > CANVAS_URL_MAX:
        return None  # not kept: only a canvas' own small pictures are
    return _read_canvas_png(data_url)


@functools.lru_cache(maxsize=64)
def _read_canvas_png(data_url: str) -> Preprocessed | None:
    gray = canvas_png_to_gray(data_url)
    return None if gray is None else from_canvas(gray)


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float image to (width, height) with area averaging when shrinking."""
    img = Image.fromarray(a.astype(np.float32), mode="F")
    shrinking = size[0] < a.shape[1] or size[1] < a.shape[0]
    return np.asarray(img.resize(size, Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR))


def _percentile(values: np.ndarray, q: int) -> np.float32:
    """``np.percentile(values, q)`` of a 1-D float32 array, the same value to the bit (its "linear"
    method, with a whole-number ``q``), in a tenth of the time: numpy's general machinery took 0.2 ms a call, three
    calls a picture, a tenth of a drawing's preprocessing (tests/test_preprocess.py compares the two)."""
    if not values.size:
        return np.percentile(values, q)  # numpy's own error
    index = (values.size - 1) * (q / 100)
    below = math.floor(index)
    if index >= values.size - 1:
        return values.max()
    part = np.partition(values, (below, below + 1))
    low, high = part[below], part[below + 1]
    t = index - below
    # As numpy interpolates (numpy.lib._function_base_impl._lerp): from the nearer end, in float32.
    return high - (high - low) * np.float32(1 - t) if t >= 0.5 else low + (high - low) * np.float32(t)


def _background(x: np.ndarray) -> np.ndarray:
    """Smooth estimate of the paper and lighting, scaled back up from a coarse copy.

    Ink is brighter than the paper here, so a low percentile over a wide window
    sees the paper even where strokes crowd together.
    """
    h, w = x.shape
    scale = 48 / max(h, w)
    small = _resize(x, (max(int(w * scale), 4), max(int(h * scale), 4)))
    small = ndimage.percentile_filter(small, 20, size=11, mode="nearest")
    return _resize(small, (w, h))


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width of a binary ink mask, in pixels.

    Across a stroke of width w the distance to the nearest background pixel
    rises from 0 to w/2 and back, so its mean over the ink is about w/4.
    """
    if not mask.any():
        return 0.0
    mask = np.pad(mask, 1)  # the ink may touch the crop's edge: the outside is background
    return float(4.0 * ndimage.distance_transform_edt(mask)[mask].mean())


def _box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest box holding every True pixel of ``mask`` (None when there is none)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _a_dot(ink: np.ndarray) -> bool:
    """True when the ink crop is less than two strokes across: a dot or a speck (``stroke_width``).

    The stroke width takes a distance transform of the crop, a quarter of a typeset letter's preprocessing; a
    bound from the rows' runs of ink decides almost every crop without it. A pixel k-th in a run of L is at most
    min(k, L + 1 - k) from the background at the run's ends, so the mean distance over the ink is at most the
    runs' sum(floor((L + 1)^2 / 4)) over their sum(L)."""
    padded = np.pad(ink, 1).view(np.int8)  # each row starts and ends on background
    steps = np.diff(padded.ravel())
    runs = np.flatnonzero(steps == -1) - np.flatnonzero(steps == 1)
    at_most = 4.0 * float(((runs + 1) ** 2 // 4).sum()) / float(runs.sum())
    if max(ink.shape) >= 2.0 * max(at_most, 1.0) * (1 + 1e-9):  # the margin covers the float mean's rounding
        return False
    return max(ink.shape) < 2.0 * max(stroke_width(ink), 1.0)


def _disk(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx**2 + yy**2) <= radius**2 + 0.5


def _polarity(gray: np.ndarray) -> bool:
    """True when the picture is dark ink on a light background (its border is mostly light)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 0.5


def to_mnist(gray: np.ndarray, invert: bool | None = None, keep_steps: bool = True) -> Preprocessed:
    """Turn a 2-D grayscale picture of one digit into MNIST's 28x28 format.

    ``invert``: None detects the polarity from the border; True treats the
    picture as dark ink on light paper; False as light ink on a dark ground.
    An empty picture, or one whose ink is only a dot, gives ``empty=True``.
    """
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2 or min(gray.shape) < 8:
        raise InputError(f"expected a 2-D grayscale image of at least 8x8 pixels, got shape {gray.shape}")
    if not np.isfinite(gray).all() or gray.min() < 0.0 or gray.max() > 1.0:
        raise InputError("expected gray values between 0 and 1 (divide 8-bit pixels by 255)")
    steps: dict[str, np.ndarray] = {}
    h, w = gray.shape
    shrink = 1.0
    if max(h, w) > WORK_SIDE:
        s = WORK_SIDE / max(h, w)
        gray = _resize(gray, (max(int(w * s), 8), max(int(h * s), 8)))
        shrink = h / gray.shape[0]
    inverted = _polarity(gray) if invert is None else invert
    x = 1.0 - gray if inverted else gray
    if keep_steps:
        steps["input"] = x
    # Paper texture and uneven light: subtract the background unless it is already flat black
    # (a percentile, so that a stroke running off the edge does not count as background).
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    if _percentile(border, 80) > 0.03:
        x = np.clip(x - _background(x), 0.0, 1.0)
    blank = Preprocessed(np.zeros((FRAME, FRAME), np.float32), empty=True, inverted=inverted, steps=steps)
    # Every step up to the crop leaves a black pixel black and looks at no pixel's neighbours beyond the ink, so
    # it runs on the box around the lit pixels alone (a canvas' letter lights a tenth of it): the same result.
    lit = _box(x > 0)
    if lit is None:
        return blank
    whole, x = x, x[lit]
    peak = float(x.max())
    if peak < 0.1:
        return blank
    strong = x[x > 0.5 * peak]
    x = np.clip(x / _percentile(strong, 75), 0.0, 1.0)
    x = np.clip((x - 0.25) / 0.75, 0.0, 1.0)  # noise floor left by the background step
    mask = x > 0.5
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        return blank
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]  # pixels in each component
    kept = sizes >= max(0.08 * sizes.max(), 2)
    if not kept.any():
        return blank  # only one-pixel specks: noise, not a digit
    keep = np.concatenate([[False], kept])[labels]
    (y0, y1), (x0, x1) = ((s.start, s.stop) for s in _box(keep))
    # The ink's surroundings, on the crop only: no ink lies outside it, so the whole picture's would be the same.
    near = ndimage.binary_dilation(keep[y0:y1, x0:x1], iterations=2)
    crop = x[y0:y1, x0:x1] * near
    if keep.sum() < 4 or _a_dot(keep[y0:y1, x0:x1]):
        return blank  # a dot or a speck, not a digit
    y0, x0 = y0 + lit[0].start, x0 + lit[1].start  # the crop's corner on the whole picture
    if keep_steps:
        steps["ink"] = np.zeros_like(whole)
        steps["ink"][lit] = x
        steps["crop"] = crop
    # Work at 80 px (4x the 20 box) to even out the stroke width before shrinking.
    ch, cw = crop.shape
    s = 4 * FIT_BOX / max(ch, cw)
    work = _resize(crop, (max(round(cw * s), 1), max(round(ch * s), 1)))
    # Shrinking a thin line dims it: bring the strokes' core back to full intensity.
    work = np.clip(work / _percentile(work[work > 0.5 * work.max()], 75), 0.0, 1.0)
    width = stroke_width(work > 0.5)
    if width < 0.6 * MNIST_STROKE_80:
        work = ndimage.grey_dilation(work, footprint=_disk((0.8 * MNIST_STROKE_80 - width) / 2))
    elif width > 1.8 * MNIST_STROKE_80:
        work = ndimage.grey_erosion(work, footprint=_disk((width - 1.4 * MNIST_STROKE_80) / 2))
    wh, ww = work.shape
    fit = np.clip(_resize(work, (max(round(ww / 4), 1), max(round(wh / 4), 1))), 0.0, 1.0)
    frame = np.zeros((FRAME, FRAME), np.float32)
    fh, fw = fit.shape
    top, left = (FRAME - fh) // 2, (FRAME - fw) // 2
    frame[top : top + fh, left : left + fw] = fit
    cy, cx = ndimage.center_of_mass(frame)
    centred = ndimage.shift(frame, (FRAME / 2 - 0.5 - cy, FRAME / 2 - 0.5 - cx), order=1, mode="constant")
    centred = np.clip(centred, 0.0, 1.0).astype(np.float32)
    if keep_steps:
        steps["fit20"] = frame
        steps["centred"] = centred
    # Frame pixel r came from frame row r - shift - top of the fitted crop, k input pixels each, from row y0.
    k = max(ch, cw) / FIT_BOX
    dy, dx = FRAME / 2 - 0.5 - cy, FRAME / 2 - 0.5 - cx
    oy, ox = y0 + (0.5 - dy - top) * k - 0.5, x0 + (0.5 - dx - left) * k - 0.5
    return Preprocessed(centred, empty=False, inverted=inverted, steps=steps,
                        frame_on_input=(k * shrink, oy * shrink, ox * shrink))


def frame_to_input(values: np.ndarray, pre: Preprocessed, shape: tuple[int, int]) -> np.ndarray:
    """A (28, 28) map over the network's input, drawn over the original picture of ``shape`` (zeros outside)."""
    if pre.frame_on_input is None:
        raise ValueError("this input has no frame to map back (an empty picture)")
    k, oy, ox = pre.frame_on_input
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    return ndimage.map_coordinates(np.asarray(values, np.float32), [(rows - oy) / k, (cols - ox) / k], order=1,
                                   mode="constant", cval=0.0)
