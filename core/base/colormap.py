"""Colour maps for feature maps and filters, as plain RGB pictures.

A browser draws a picture far faster than an interactive chart, which matters
when thirty maps change after every stroke. The diverging map is the one the
page's charts use (blue below zero, white at zero, red above), so a student
reads pictures and charts the same way.
"""

from __future__ import annotations

import numpy as np

BLUE, WHITE, RED = np.array([33, 102, 172.0]), np.array([247, 247, 247.0]), np.array([178, 24, 43.0])
GAP = np.array([255, 255, 255.0])  # between tiles (NaN)


def diverging(values: np.ndarray, zmax: float | None = None) -> np.ndarray:
    """(h, w) values as (h, w, 3) uint8 RGB, centred on zero; ``zmax`` (default: largest |value|) is full colour.

    NaN pixels (the gaps ``feature_maps.tile`` leaves) come out white.
    """
    values = np.asarray(values, np.float64)
    if zmax is None:
        finite = np.abs(values[np.isfinite(values)])
        zmax = float(finite.max()) if finite.size else 1.0
    t = np.clip(np.nan_to_num(values, nan=0.0) / (zmax or 1.0), -1.0, 1.0)[..., None]
    rgb = np.where(t >= 0, WHITE + t * (RED - WHITE), WHITE - t * (BLUE - WHITE))
    rgb[np.isnan(values)] = GAP
    return rgb.round().astype(np.uint8)


def enlarge(rgb: np.ndarray, width: int) -> np.ndarray:
    """Enlarge a picture by a whole factor so it is about ``width`` pixels wide, with hard pixel edges."""
    factor = max(1, width // rgb.shape[1])
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
