"""A class's drawings as a training set for "Train on our hands", split by student, never by drawing.

A network fine-tuned on the class is scored on students it never saw: all of a held-out student's drawings are
in the test part, none in the training part, so the score says how it reads a new classmate's hand, not how well
it remembers a hand it learnt. The split is fixed by the students' pseudonyms (the same class, the same split).
The set is written as an ``.npz`` of plain arrays (no pickle) for a run's worker, named by its hash, which the
run's card records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.base import files
from core.classroom import keys, stats, store

HELD_OUT = 0.3  # of the students, at least one


@dataclass(frozen=True)
class ClassData:
    x: np.ndarray  # (N, 28, 28) uint8, as the Draw page's networks read the drawings
    y: np.ndarray  # (N,) the digit asked
    students: np.ndarray  # (N,) pseudonyms
    held_out: np.ndarray  # (N,) bool: the drawing's student is held out for the test

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for part in (self.x, self.y, self.students.astype("U16"), self.held_out):
            digest.update(np.ascontiguousarray(part).tobytes())
        return digest.hexdigest()


def held_out_students(pseudonyms, fraction: float = HELD_OUT) -> set[str]:
    """The students whose drawings only test: a fixed ``fraction`` of them (at least one, never all)."""
    order = sorted(set(pseudonyms), key=lambda p: hashlib.sha256(p.encode()).hexdigest())
    if len(order) < 2:
        raise store.ClassError("training on the class needs drawings from at least 2 students: one to learn "
                               "from, one to test on")
    return set(order[:min(max(1, round(fraction * len(order))), len(order) - 1)])


def class_data(code: str) -> ClassData:
    """The class's visible drawings of digits, each with its student and which side of the split it is on."""
    drawings = [d for d in store.class_drawings(code) if d.label in stats.DIGITS]
    held = held_out_students(d.student for d in drawings)
    x = np.stack([np.round(stats.model_input(d) * 255).astype(np.uint8) for d in drawings])
    return ClassData(x, np.array([int(d.label) for d in drawings], np.uint8),
                     np.array([d.student for d in drawings]), np.array([d.student in held for d in drawings]))


def write(data: ClassData, code: str) -> Path:
    """Write the set for a run's worker, as ``<code>-<hash>.npz`` in the class's folder (deleted with the class);
    returns the file."""
    folder = store.derived_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{keys.normal_code(code)}-{data.sha256[:16]}.npz"
    with files.atomic_path(path) as tmp:
        np.savez_compressed(tmp, x=data.x, y=data.y, students=data.students.astype("U16"), held_out=data.held_out)
    return path
