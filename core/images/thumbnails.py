"""Small copies of pictures for a mosaic, made once per picture.

The class's wall shows its latest and hardest drawings every second; given a 280-pixel canvas picture to show 90
pixels wide, Streamlit shrinks and encodes it again at each showing (most of the wall's own work once its figures
are kept). A picture already this narrow is shown as it is.
"""

from __future__ import annotations

import functools
import io

from PIL import Image

KEPT = 256  # pictures kept: a wall's mosaics show a few dozen


@functools.lru_cache(maxsize=KEPT)
def thumbnail(png: bytes, width: int) -> bytes:
    """The PNG ``png`` shrunk to ``width`` pixels wide (its height in proportion), as Streamlit would shrink it."""
    with Image.open(io.BytesIO(png)) as picture:
        if picture.width <= width:
            return png
        small = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                               Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()
