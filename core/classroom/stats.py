"""What the class's drawings say, for the wall: counts, the latest drawings, and how the Draw page's networks
read the class's handwriting beside MNIST's.

Each drawing is read as the Draw page reads the canvas (``preprocess.canvas_png_to_gray``, then
``preprocess.from_canvas``), by the same predictors. A drawing never changes once stored, so each network
reads it once per process (``_READINGS``); the wall, refreshed every few seconds, only reads the new ones.
Only the visible drawings count (``store.class_drawings``): a hidden drawing leaves every figure here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from core.classroom import db, store
from core.images import preprocess
from core.nets import registry
from core.nets.inference import Predictor

LATEST = 12  # drawings in the wall's mosaic
HARDEST = 6  # drawings each network finds hardest
DIGITS = tuple(str(d) for d in range(10))  # what the Draw page's networks read
_READINGS: dict[tuple, np.ndarray] = {}  # (store, drawing id, network, its file's version) -> probabilities
_READINGS_MAX = 50_000
_lock = threading.Lock()


@dataclass(frozen=True)
class Reading:
    """How one network reads one drawing."""

    drawing: store.Drawing
    read: str  # the label it reads
    p_asked: float  # its probability for the label the student was asked for

    @property
    def right(self) -> bool:
        return self.read == self.drawing.label


@dataclass(frozen=True)
class NetworkScore:
    name: str
    title: str
    right: int
    total: int
    mnist_accuracy: float | None  # on MNIST's 10,000 test digits, from its card
    confusion: np.ndarray = field(repr=False)  # (10, 10): rows the digit asked, columns the digit read
    hardest: list[Reading] = field(repr=False, default_factory=list)  # lowest probability for the asked digit

    @property
    def accuracy(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass(frozen=True)
class Stumper:
    drawing: store.Drawing
    reads: dict[str, str]  # network -> the digit it reads
    p_asked: float  # the networks' mean probability for the digit asked

    @property
    def fooled(self) -> int:
        return sum(read != self.drawing.label for read in self.reads.values())


@dataclass(frozen=True)
class ClassStats:
    info: store.ClassInfo
    counts: dict[str, int]  # visible drawings per label the activity asks for, in the class's order
    latest: list[store.Drawing]  # newest first
    scores: list[NetworkScore]  # one per network, on the drawings of a digit
    stumpers: list[Stumper]  # the stump activity's drawings that fool a network, the best first
    attempts: int  # the stump activity's drawings


    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def lead(self) -> NetworkScore | None:
        """The network that reads most of the class's digits; of equals, the one best on MNIST."""
        return max(self.scores, key=lambda s: (s.right, s.mnist_accuracy or 0.0), default=None)


def model_input(drawing: store.Drawing) -> np.ndarray:
    """The drawing as a network's 28x28 input: the Draw page's one path from the canvas' PNG."""
    return preprocess.from_canvas(preprocess.canvas_png_to_gray(drawing.png_data_url)).image


def read_drawings(drawings: list[store.Drawing], predictors: Mapping[str, Predictor]) -> dict[str, np.ndarray]:
    """Each network's probabilities (N, 10) for the drawings; the ones read before come from ``_READINGS``.

    A drawing new to any network is prepared once for all of them (the preparation costs more than the readings)."""
    where = db.url()
    keys = {name: [(where, d.id, name, registry.version(name)) for d in drawings] for name in predictors}
    with _lock:
        missing = {name: [i for i, key in enumerate(keys[name]) if key not in _READINGS] for name in predictors}
    inputs = {i: model_input(drawings[i]) for i in sorted({i for todo in missing.values() for i in todo})}
    for name, predictor in predictors.items():
        if missing[name]:
            probs = predictor.predict_batch(np.stack([inputs[i] for i in missing[name]]))
            with _lock:
                if len(_READINGS) + len(missing[name]) > _READINGS_MAX:
                    _READINGS.clear()  # a server that ran many classes starts over; rare and cheap
                _READINGS.update({keys[name][i]: p for i, p in zip(missing[name], probs)})
    with _lock:
        return {name: np.stack([_READINGS[key] for key in keys[name]]) if drawings else np.zeros((0, len(DIGITS)))
                for name in predictors}


def _score(name: str, drawings: list[store.Drawing], probs: np.ndarray) -> NetworkScore:
    asked = np.array([DIGITS.index(d.label) for d in drawings], int)
    read = probs.argmax(axis=1) if len(drawings) else np.zeros(0, int)
    confusion = np.zeros((len(DIGITS), len(DIGITS)), int)
    np.add.at(confusion, (asked, read), 1)
    p_asked = probs[np.arange(len(drawings)), asked] if len(drawings) else np.zeros(0)
    hardest = [Reading(drawings[i], DIGITS[read[i]], float(p_asked[i])) for i in np.argsort(p_asked)[:HARDEST]]
    card = registry.card(name) or {}
    mnist = card.get("test_accuracy")
    return NetworkScore(name, registry.get(name).title, int((read == asked).sum()), len(drawings),
                        float(mnist) if isinstance(mnist, float) else None, confusion, hardest)


def _stumpers(drawings: list[store.Drawing], probs: dict[str, np.ndarray]) -> list[Stumper]:
    """The stump activity's drawings that fool a network, those fooling most networks (and most surely) first."""
    found = []
    for i, drawing in enumerate(drawings):
        if drawing.activity != store.STUMP:
            continue
        asked = DIGITS.index(drawing.label)
        stumper = Stumper(drawing, {name: DIGITS[int(p[i].argmax())] for name, p in probs.items()},
                          float(np.mean([p[i][asked] for p in probs.values()])))
        if stumper.fooled:
            found.append(stumper)
    return sorted(found, key=lambda s: (-s.fooled, s.p_asked))


def class_stats(code: str, predictors: Mapping[str, Predictor]) -> ClassStats:
    """The wall's figures for class ``code``, the networks being ``predictors`` (the Draw page's three)."""
    info = store.class_info(code)
    shown = store.class_drawings(code)
    counts = Counter(d.label for d in shown)
    digits = [d for d in shown if d.label in DIGITS]
    probs = read_drawings(digits, predictors)
    asked = info.letters if info.activity == store.LETTERS else info.labels  # the wall counts the activity's
    return ClassStats(info, {label: counts[label] for label in asked}, shown[::-1][:LATEST],
                      [_score(name, digits, p) for name, p in probs.items()], _stumpers(digits, probs),
                      sum(d.activity == store.STUMP for d in digits))
