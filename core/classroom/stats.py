"""What the class's drawings say, for the wall: counts, the latest drawings, and how the Draw page's networks
read the class's handwriting beside MNIST's.

Each drawing is read as the Draw page reads the canvas (``preprocess.read_canvas_png``: the canvas' picture in
MNIST's format), by the same predictors. A drawing never changes once stored, so each network reads it once per
process (``_READINGS``); the wall, refreshed every second, only reads the new ones, and takes the figures it had
when the class has not changed since (``class_stats``).
Only the visible drawings count (``store.class_drawings``): a hidden drawing leaves every figure here.

The wall concludes only from enough drawings (``MIN_DRAWINGS`` digits from ``MIN_STUDENTS`` students), and names a
leading network only when it reads the class better than each other network beyond chance (``beats``): a lead
that a tie or one drawing could turn does not switch back and forth on the projector mid-lesson.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from core.classroom import db, keys, store
from core.images import preprocess
from core.nets import registry
from core.nets.inference import Predictor

LATEST = 12  # drawings in the wall's mosaic
HARDEST = 6  # drawings each network finds hardest
DIGITS = tuple(str(d) for d in range(10))  # what the Draw page's networks read
MIN_DRAWINGS = 30  # below this, one drawing moves an accuracy by more than 3 points: no comparison yet
MIN_STUDENTS = 3  # below this, the figures say how one or two people write, not how the class does
NOISE_Z = 2.0  # a difference counts when it is beyond two standard deviations of chance (about 95%)
_READINGS: dict[tuple, np.ndarray] = {}  # (store, drawing id, network, its file's version) -> probabilities
_READINGS_MAX = 50_000
_FIGURES: dict[tuple[str, str], tuple[tuple, ClassStats]] = {}  # (store, class) -> (what they were made of, figures)
_FIGURES_MAX = 16
_DRAWN: dict[tuple[str, str], tuple[float, dict[int, store.Drawing]]] = {}  # (store, class) -> (its start, drawings)
_lock = threading.Lock()
_making: dict[tuple[str, str], threading.Lock] = {}  # (store, class) -> held while its figures are made


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
    correct: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, bool))  # per drawing, in order

    @property
    def accuracy(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass(frozen=True)
class Stumper:
    """A drawing and what each network reads in it: a stumper when it fools one (the wall's hardest drawings
    when no network leads are of this kind too)."""

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
    students: int = 0  # students whose digits are scored
    hardest: list[Stumper] = field(repr=False, default_factory=list)  # lowest mean probability for the asked digit

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def digits(self) -> int:
        """The digits the networks read (the scores' drawings)."""
        return self.scores[0].total if self.scores else 0

    @property
    def missing(self) -> tuple[int, int]:
        """(digits, students) the class still needs before the wall compares: (0, 0) when it has enough."""
        return max(0, MIN_DRAWINGS - self.digits), max(0, MIN_STUDENTS - self.students)

    @property
    def enough(self) -> bool:
        return self.missing == (0, 0)

    @property
    def front(self) -> list[NetworkScore]:
        """The networks that read most of the class's digits and those level with them (``beats``), best first;
        of equal counts, the one best on MNIST first. Empty until the class has drawn ``enough``."""
        if not self.enough:
            return []
        ranked = sorted(self.scores, key=lambda s: (s.right, s.mnist_accuracy or 0.0), reverse=True)
        return [s for s in ranked if s is ranked[0] or not beats(ranked[0], s)]

    @property
    def lead(self) -> NetworkScore | None:
        """The network that reads the class better than every other beyond chance; None while they are level
        or the class has not drawn ``enough``."""
        front = self.front
        return front[0] if len(front) == 1 else None

    @property
    def confusion(self) -> np.ndarray:
        """The networks' readings together: (10, 10), rows the digit asked, columns the digit read."""
        return sum((s.confusion for s in self.scores), np.zeros((len(DIGITS), len(DIGITS)), int))


def beats(a: NetworkScore, b: NetworkScore) -> bool:
    """Whether network ``a`` reads the class better than ``b`` beyond chance (McNemar's test on paired readings).

    Only the drawings one reads right and the other wrong tell them apart: ``a`` wins ``wins`` of them and loses
    ``losses``. Were the two equally good, each such drawing would go either way as a coin falls, and
    ``wins - losses`` would stay within ``NOISE_Z`` times ``sqrt(wins + losses)``; ``a`` beats ``b`` beyond that.
    So 5 to 0 is a lead, 4 to 0 is not yet, and 20 to 10 is not; a tie never is."""
    return beyond_chance(int((a.correct & ~b.correct).sum()), int((~a.correct & b.correct).sum()))


def beyond_chance(wins: int, losses: int) -> bool:
    """Whether ``wins`` against ``losses`` (the paired readings on which two readers differ) is beyond a coin's
    luck: ``wins - losses > NOISE_Z * sqrt(wins + losses)``; the rule of every "better" the class's walls say."""
    return wins - losses > NOISE_Z * math.sqrt(wins + losses)


def model_input(drawing: store.Drawing) -> np.ndarray:
    """The drawing as a network's 28x28 input: the Draw page's one path from the canvas' PNG."""
    return preprocess.read_canvas_png(drawing.png_data_url).image


def read_drawings(drawings: list[store.Drawing], predictors: Mapping[str, Predictor]) -> dict[str, np.ndarray]:
    """Each network's probabilities (N, 10) for the drawings; the ones read before come from ``_READINGS``.

    A drawing new to any network is prepared once for all of them (the preparation costs more than the readings)."""
    where, versions = db.url(), {name: registry.version(name) for name in predictors}  # a file's stat: once
    keys = {name: [(where, d.id, name, versions[name]) for d in drawings] for name in predictors}
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
                        float(mnist) if isinstance(mnist, float) else None, confusion, hardest, read == asked)


def _read_by_all(drawings: list[store.Drawing], probs: dict[str, np.ndarray], i: int) -> Stumper:
    asked = DIGITS.index(drawings[i].label)
    return Stumper(drawings[i], {name: DIGITS[int(p[i].argmax())] for name, p in probs.items()},
                   float(np.mean([p[i][asked] for p in probs.values()])))


def _hardest(drawings: list[store.Drawing], probs: dict[str, np.ndarray]) -> list[Stumper]:
    """The drawings the networks together find hardest: the lowest mean probability for the digit asked."""
    if not drawings:
        return []
    asked = np.array([DIGITS.index(d.label) for d in drawings], int)
    p_asked = np.mean([p[np.arange(len(drawings)), asked] for p in probs.values()], axis=0)
    return [_read_by_all(drawings, probs, int(i)) for i in np.argsort(p_asked, kind="stable")[:HARDEST]]


def _stumpers(drawings: list[store.Drawing], probs: dict[str, np.ndarray]) -> list[Stumper]:
    """The stump activity's drawings that fool a network, those fooling most networks (and most surely) first."""
    found = [_read_by_all(drawings, probs, i) for i, d in enumerate(drawings) if d.activity == store.STUMP]
    return sorted((s for s in found if s.fooled), key=lambda s: (-s.fooled, s.p_asked))


def drawings_stats(info: store.ClassInfo, shown: list[store.Drawing],
                   predictors: Mapping[str, Predictor]) -> ClassStats:
    """The wall's figures for the visible drawings ``shown`` (oldest first) of class ``info``."""
    counts = Counter(d.label for d in shown)
    digits = [d for d in shown if d.label in DIGITS]
    probs = read_drawings(digits, predictors)
    asked = info.letters if info.activity == store.LETTERS else info.labels  # the wall counts the activity's
    return ClassStats(info, {label: counts[label] for label in asked}, shown[::-1][:LATEST],
                      [_score(name, digits, p) for name, p in probs.items()], _stumpers(digits, probs),
                      sum(d.activity == store.STUMP for d in digits), len({d.student for d in digits}),
                      _hardest(digits, probs))


def class_stats(code: str, predictors: Mapping[str, Predictor]) -> ClassStats:
    """The wall's figures for class ``code``, the networks being ``predictors`` (the Draw page's three).

    Made again only when the class changed (its state, a drawing sent or hidden, a network's file): a wall that
    looks every second costs a query while the class is quiet, and walls on one server share the work: one makes
    the figures while the others (a second screen on the same class) wait for them."""
    where = (db.url(), keys.normal_code(code))
    with _lock:
        making = _making.setdefault(where, threading.Lock())
    with making:
        info, mark = store.class_info(code), store.drawings_mark(code)
        made_of = (info, mark, tuple((name, registry.version(name)) for name in predictors))
        with _lock:
            kept = _FIGURES.get(where)
        if kept is not None and kept[0] == made_of:
            return kept[1]
        figures = drawings_stats(info, _visible(code, where, info), predictors)
        with _lock:
            if len(_FIGURES) >= _FIGURES_MAX:
                _FIGURES.clear()  # a server that ran many classes starts over
                _DRAWN.clear()
            _FIGURES[where] = (made_of, figures)
        return figures


def _visible(code: str, where: tuple[str, str], info: store.ClassInfo) -> list[store.Drawing]:
    """The class's visible drawings, oldest first, without their strokes (``store.class_drawings``), fetching only
    the ones this server has not read before.

    A wall that fetched every picture at every change moved the whole class through the store each second (a
    quarter of a wall's work at 600 drawings on PostgreSQL). A drawing never changes once stored but for its
    hidden flag, so the flags of all are read and the rows of the new ones only. By id, not "newer than the
    newest kept": on PostgreSQL two Sends at once may commit in the other order of their ids."""
    with _lock:
        started, kept = _DRAWN.get(where, (None, {}))
    if started != info.created_at:  # a class of the same code started again (after a delete)
        kept = {}
    flags = store.hidden_flags(code)
    if new := [i for i in flags if i not in kept]:
        fetched = store.class_drawings(code, include_hidden=True, since_id=min(new) - 1, strokes=False)
        kept = kept | {d.id: d for d in fetched}
    with _lock:
        _DRAWN[where] = (info.created_at, kept)
    return [replace(kept[i], hidden=False) if kept[i].hidden else kept[i]
            for i, hidden in flags.items() if not hidden and i in kept]
