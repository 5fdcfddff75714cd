"""Real pen strokes by people: the UNIPEN development sets in the data folder.

``unipen_dev_digits.jsonl`` holds 1,000 digits by 81 writers, ``unipen_dev_letters.jsonl``
2,080 lowercase letters by 104 writers, one JSON object per line (``label``, ``strokes``,
and the writer). They measure how the app reads human drawing rather than MNIST;
``core.images.strokes`` turns them into canvas drawings.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.data import datasets

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
