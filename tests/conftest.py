import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VP_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def unipen():
    from core import strokes

    return strokes.load_unipen()


@pytest.fixture
def digit_gray(unipen):
    """A real drawn 7, rendered as the canvas draws it (white on black, 280x280, float in [0, 1])."""
    from core import strokes

    rec = next(r for r in unipen if r["label"] == 7)
    return strokes.render(strokes.canvas_paths(rec, box=160)).astype(np.float32) / 255.0
