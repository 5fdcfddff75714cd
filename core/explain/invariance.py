"""What a network tolerates: the same digit rotated, shifted, scaled, thickened or thinned.

Each transform works on the 28x28 network input itself, after the app's
preprocessing (which would otherwise undo a shift by centring the digit again),
so a curve shows what the network alone makes of the change. A whole curve is
one batch per network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Transform:
    name: str
    unit: str  # in words, for a slider's help
    values: tuple[float, ...]
    neutral: float
    short: str = ""  # the unit in a chart title a quarter of a page wide

    @property
    def title(self) -> str:
        return f"{self.name} ({self.short or self.unit})"


TRANSFORMS = {
    "rotate": Transform("rotate", "degrees", tuple(range(-45, 46, 5)), 0.0),
    "shift": Transform("shift", "pixels to the right", tuple(range(-8, 9)), 0.0, "pixels right"),
    "scale": Transform("scale", "times", tuple(np.round(np.arange(0.5, 1.51, 0.1), 2)), 1.0),
    "thickness": Transform("thickness", "pixels thicker (negative: thinner)", (-2, -1, 0, 1, 2), 0.0, "± pixels"),
}


def apply(image: np.ndarray, name: str, value: float) -> np.ndarray:
    """One (28, 28) image in [0, 1] transformed by ``value`` (degrees, pixels, a factor or a stroke change)."""
    x = np.asarray(image, np.float32)
    if name == "rotate":
        out = ndimage.rotate(x, value, reshape=False, order=1, mode="constant")
    elif name == "shift":
        out = ndimage.shift(x, (0, value), order=1, mode="constant")
    elif name == "scale":
        centre = (np.array(x.shape) - 1) / 2
        matrix = np.eye(2) / value  # output pixel -> input pixel
        out = ndimage.affine_transform(x, matrix, offset=centre - matrix @ centre, order=1, mode="constant")
    elif name == "thickness":
        size = 2 * int(abs(value)) + 1
        out = (ndimage.grey_dilation if value > 0 else ndimage.grey_erosion)(x, size=(size, size)) if value else x
    else:
        raise ValueError(f"unknown transform {name!r}; one of {', '.join(TRANSFORMS)}")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def batch(image: np.ndarray, name: str, values: tuple[float, ...] | None = None) -> np.ndarray:
    """The image under every value of the transform: (len(values), 28, 28)."""
    values = TRANSFORMS[name].values if values is None else values
    return np.stack([apply(image, name, v) for v in values])
