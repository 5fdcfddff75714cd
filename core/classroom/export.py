"""A class's drawings as a data set others can use: a zip of PNG folders, the strokes, and a data card.

Layout: ``images/<label>/<student>-<id>.png`` (one folder per label), ``strokes.jsonl`` (a line per drawing:
its label, pseudonymous student, time and the strokes as the canvas sent them) and ``card.json`` with
``README.md`` (how many drawings and students, of which labels, when). Students appear by pseudonym only:
nicknames never leave the teacher's screen, and hidden drawings are left out as they are from every figure.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from core.base import files
from core.classroom import store


def iso_time(t: float) -> str:
    """Seconds since the epoch as an ISO 8601 time in UTC, to the second."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _folder(label: str) -> str:
    """A label as a folder name that is safe in any zip reader."""
    name = re.sub(r"[^\w.-]+", "_", label).strip("._")
    return name or "label"


def data_card(info: store.ClassInfo, drawings: list[store.Drawing]) -> dict:
    counts = Counter(d.label for d in drawings)
    return {
        "class": info.code,
        "drawings": len(drawings),
        "students": len({d.student for d in drawings}),
        # The class's labels, then any other drawn (the letters of "Letters with many hands").
        "labels": {label: counts[label] for label in dict.fromkeys([*info.labels, *counts])},
        "activities": dict(Counter(d.activity for d in drawings)),
        "first": iso_time(min(d.created_at for d in drawings)) if drawings else None,
        "last": iso_time(max(d.created_at for d in drawings)) if drawings else None,
        "class_started": iso_time(info.created_at),
        "picture": "the drawing canvas' own PNG, 280x280, white ink on black",
        "students_named_by": "a random pseudonym per student; nicknames are not exported",
        "hidden_drawings": "left out",
        "made_by": "Vision Playground class mode (python -m core class export)",
    }


def _readme(card: dict) -> str:
    labels = ", ".join(f"{label}: {n}" for label, n in card["labels"].items())
    return (f"# Class {card['class']}: {card['drawings']} drawings by {card['students']} students\n\n"
            f"Drawn {card['first']} to {card['last']} (UTC). Per label: {labels}.\n\n"
            "- `images/<label>/<student>-<id>.png`: each drawing as the canvas sent it (280x280, white on black).\n"
            "- `strokes.jsonl`: one line per drawing: `id`, `label`, `student` (a pseudonym), `activity`, `time`, "
            "`strokes` (`[{\"points\": [[x, y], ...], \"width\": pen}]`, canvas pixels), `png` (its file).\n"
            "- `card.json`: these figures. Students are named by pseudonym only; no nicknames are exported.\n")


def _write(code: str, target) -> dict:
    """Write class ``code`` as a zip to ``target`` (a path or a binary file); returns its data card."""
    info = store.class_info(code)
    drawings = store.class_drawings(code)
    card = data_card(info, drawings)
    folders = {label: _folder(label) for label in info.labels}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        lines = []
        for d in drawings:
            name = f"images/{folders.get(d.label, _folder(d.label))}/{d.student}-{d.id}.png"
            archive.writestr(name, d.png)
            lines.append(json.dumps({"id": d.id, "label": d.label, "student": d.student, "activity": d.activity,
                                     "time": iso_time(d.created_at), "strokes": d.strokes, "png": name}))
        archive.writestr("strokes.jsonl", "".join(line + "\n" for line in lines))
        archive.writestr("card.json", json.dumps(card, indent=2))
        archive.writestr("README.md", _readme(card))
    return card


def export_class(code: str, path: str | Path) -> dict:
    """Write class ``code`` to the zip ``path`` (replaced in one step); returns its data card."""
    with files.atomic_path(path) as tmp:
        return _write(code, tmp)


def class_zip(code: str, secret: str) -> bytes:
    """The export of class ``code`` as the zip's bytes, for the teacher's download button: a teacher's action, so
    it takes the teacher's secret or PIN (``store.NotAllowed`` otherwise)."""
    if not store.is_teacher(code, secret):
        raise store.NotAllowed("only the class's teacher can do this (the teacher's address or PIN)")
    out = io.BytesIO()
    _write(code, out)
    return out.getvalue()
