"""Real pen strokes by people: the UNIPEN development sets in the data folder.

``unipen_dev_digits.jsonl`` holds 1,000 digits by 81 writers, ``unipen_dev_letters.jsonl``
2,080 lowercase letters by 104 writers, one JSON object per line (``label``, ``strokes``,
and the writer). They measure how the app reads human drawing rather than MNIST;
``core.images.strokes`` turns them into canvas drawings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.data import datasets
from core.images import preprocess, strokes

DIGITS = "unipen_dev_digits.jsonl"
LETTERS = "unipen_dev_letters.jsonl"


def load_unipen(path: Path | None = None, file: str = DIGITS) -> list[dict]:
    """UNIPEN pen strokes from ``file`` in the data folder (or ``path``): one dict per character, with its
    ``label`` (a digit, or a letter) and ``strokes`` (see the data folder's SOURCES.md)."""
    if path is None:
        folder = datasets.data_dir()
        if folder is None:
            raise datasets.DataError(f"set {datasets.DATA_ENV} to the folder holding {file}")
        path = folder / file
    if not Path(path).is_file():
        raise datasets.DataError(f"UNIPEN {'letters' if file == LETTERS else 'digits'} not found: expected {path}")
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                ok = isinstance(rec["label"], int | str) and any(len(s) for s in rec["strokes"])
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                raise datasets.DataError(f"{path}, line {n}: not a record with a label and pen strokes")
            records.append(rec)
    return records


# Pen widths (canvas pixels) and letter sizes (the side of the box a drawing is fitted into) drawn at random when
# UNIPEN strokes are drawn on the canvas: the spread a class's drawings show, thin pen to thick, small to large.
DRAWN_WIDTHS = (12, 30)
DRAWN_BOXES = (120.0, 240.0)


def drawings(records: list[dict], seed: int = 0, restyle: float = 0.0) -> np.ndarray:
    """Each record drawn on the app's canvas (a random pen width, size and place) and preprocessed as a drawing
    is: (N, 28, 28) float32 in [0, 1], what the networks read when a person draws these strokes. ``restyle`` > 0
    first distorts each record's strokes by that strength (``strokes.restyle``): another hand's version."""
    rng = np.random.default_rng(seed)
    out = []
    for rec in records:
        if restyle:
            rec = strokes.restyle(rec, rng, restyle)
        width = int(rng.integers(*DRAWN_WIDTHS))
        box = rng.uniform(*DRAWN_BOXES)
        room = (strokes.CANVAS_SIDE - box - width) / 2 - 4
        offset = tuple(rng.uniform(-room, room, size=2))
        gray = strokes.render(strokes.canvas_paths(rec, box=box, offset=offset), width=width) / 255.0
        out.append(preprocess.from_canvas(gray.astype(np.float32)).image)
    return np.stack(out) if out else np.zeros((0, preprocess.FRAME, preprocess.FRAME), np.float32)


# The development letters' writers, cut once into three groups by a fixed draw: a network may learn from the
# first; the other two measure how a few drawings by some people teach a class that others then draw (own
# classes: taught with "teach" writers' letters, read on "read" writers'). Shares of the letters, not of the
# writers. Three writers drew 184 to 310 letters each (most drew 10 to 30): they are always learnt from, since in
# "read" one of them would be a third of the score.
WRITER_GROUPS = {"train": 0.5, "teach": 0.25, "read": 0.25}
PROLIFIC = 100  # letters by one writer above which the writer is learnt from


def writer_groups(records: list[dict], seed: int = 0) -> np.ndarray:
    """The group (a key of ``WRITER_GROUPS``) of each record. Prolific writers go to "train"; the others, in a
    fixed random order, each to the group furthest below its share of the letters so far. A writer's letters are
    all in one group."""
    by_writer: dict[str, int] = {}
    for rec in records:
        by_writer[str(rec["writer"])] = by_writer.get(str(rec["writer"]), 0) + 1
    group = {w: "train" for w, n in by_writer.items() if n > PROLIFIC}
    filled = dict.fromkeys(WRITER_GROUPS, 0)
    filled["train"] = sum(by_writer[w] for w in group)
    for writer in np.random.default_rng(seed).permutation(sorted(set(by_writer) - set(group))):
        g = min(WRITER_GROUPS, key=lambda k: filled[k] / WRITER_GROUPS[k])
        group[writer] = g
        filled[g] += by_writer[writer]
    return np.array([group[str(rec["writer"])] for rec in records])
