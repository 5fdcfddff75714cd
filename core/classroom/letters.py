"""Letters with many hands (activity 4): a letter reader taught by one hand beside one taught by the class, both
read on students neither saw.

The reader is the transfer head of "Digits to letters" and "Your own classes": a softmax regression
(``own_classes.train_head``) on a frozen drawing network's penultimate features (``own_classes.embed``), by
default Net 002's, the network of report 002, which learnt digits only. Two heads learn the class's letters:

- taught by ONE hand: report 002's 27 letters (``greek_letters/train``, one person's ink), restricted to the
  class's letters, when every letter the class draws is one of its alpha, beta, gamma; otherwise the drawings of
  the one student, among those the heads learn from, who drew every letter and drew most;
- taught by the CLASS: every drawing of the students the heads learn from.

Both read the drawings of the held-out students (``dataset.held_out_students``: split by student, never by
drawing), so each score says how a head reads classmates it never saw. Below ``MIN_STUDENTS`` students or
``MIN_PER_LETTER`` drawings of a letter, the result names what is missing instead of letting the wall conclude.
A comparison takes well under a second once the network is loaded, a few seconds the first time: the page runs it
in the background (``train_in_background``) and the result is kept as JSON beside the class's other derived files,
so it is deleted with the class.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core import own_classes
from core.base import files
from core.classroom import dataset, db, keys, stats, store
from core.data import datasets, greek_hands
from core.nets import registry

MODEL = "net002"  # report 002's network: it learnt digits only, so every letter is new to it
MIN_STUDENTS = 4  # 3 to learn from (a class, not one hand) and 1 held out
MIN_PER_LETTER = 3  # drawings of each letter by the students the heads learn from
MIN_READ_PER_LETTER = 2  # drawings of each letter by the held-out students
REPORT_HAND = "report 002's letters"
_FEATURES: dict[tuple, np.ndarray] = {}  # (store, drawing id, network, its file's version) -> features
_FEATURES_MAX = 50_000
_running: dict[str, threading.Thread] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class HeadScore:
    """A head and how it reads the held-out students' letters."""

    taught_by: str  # "report 002's letters", "one student, s1a2b3c", "the class"
    drawings: int  # it learnt from
    students: int  # hands it learnt from
    right: int
    read: int  # the held-out students' drawings

    @property
    def accuracy(self) -> float:
        return self.right / self.read if self.read else 0.0


@dataclass(frozen=True)
class Comparison:
    """One hand against the class, on the same held-out students."""

    letters: list[str]
    model: str
    held_out_students: int
    one_hand: HeadScore | None  # None: it could not be taught (``missing`` says why)
    many_hands: HeadScore | None
    missing: list[str] = field(default_factory=list)  # what is needed before the wall concludes
    made_at: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Comparison:
        heads = {k: HeadScore(**d[k]) if d[k] else None for k in ("one_hand", "many_hands")}
        return cls(**{**d, **heads})


def letter_drawings(code: str, letters) -> list[store.Drawing]:
    """The class's visible drawings of the letters activity, of the letters asked for now."""
    return [d for d in store.class_drawings(code) if d.activity == store.LETTERS and d.label in letters]


def greek_names(letters) -> list[str] | None:
    """The letters as the Greek set's class names ("alpha", or its glyph "α"), when every one is of that set."""
    names = {name: name for name in greek_hands.CLASSES} | {glyph: name for name, glyph in greek_hands.GLYPHS.items()}
    found = [names.get(str(letter).strip().lower(), names.get(str(letter).strip())) for letter in letters]
    return None if None in found else found


def report_hand(letters) -> tuple[np.ndarray, np.ndarray] | None:
    """Report 002's one hand, restricted to ``letters``: (N, 28, 28) pictures in [0, 1] and each one's index in
    ``letters``; None when a letter is not of the Greek set or the set is not in the data folder."""
    names = greek_names(letters)
    if names is None:
        return None
    try:
        (x, y), _ = datasets.load_dataset("greek", download=False)
    except datasets.DataError:
        return None
    classes = datasets.get_dataset("greek").classes
    keep = np.isin(y, [classes.index(n) for n in names])
    return x[keep] / 255.0, np.array([names.index(classes[i]) for i in y[keep]])


def drawing_features(drawings: list[store.Drawing], model: str) -> np.ndarray:
    """The frozen network's features of each drawing, read as the Draw page reads it; each drawing once per
    process (a drawing never changes once stored)."""
    where, version = db.url(), registry.version(model)
    keys_ = [(where, d.id, model, version) for d in drawings]
    with _lock:
        missing = [i for i, key in enumerate(keys_) if key not in _FEATURES]
    if missing:
        found = own_classes.embed(model, np.stack([stats.model_input(drawings[i]) for i in missing]))
        with _lock:
            if len(_FEATURES) + len(missing) > _FEATURES_MAX:
                _FEATURES.clear()  # a server that ran many classes starts over; rare and cheap
            _FEATURES.update({keys_[i]: f for i, f in zip(missing, found)})
    with _lock:
        return np.stack([_FEATURES[key] for key in keys_])


def _score(taught_by: str, x: np.ndarray, y: np.ndarray, hands: int, letters: list[str], read_x: np.ndarray,
           read_y: np.ndarray, model: str) -> HeadScore:
    head = own_classes.train_head(x, y, len(letters), letters, model)
    right = int((head.predict_proba(read_x).argmax(axis=1) == read_y).sum()) if len(read_y) else 0
    return HeadScore(taught_by, len(y), hands, right, len(read_y))


def _missing(letters: list[str], taught: Counter, read: Counter, students: int) -> list[str]:
    missing = []
    if students < MIN_STUDENTS:
        missing.append(f"letters from at least {MIN_STUDENTS} students ({students} so far)")
    short = [f"{letter} ({taught[letter]} of {MIN_PER_LETTER})" for letter in letters
             if taught[letter] < MIN_PER_LETTER]
    if students >= 2 and short:
        missing.append(f"more drawings to learn from of {', '.join(short)}")
    short = [f"{letter} ({read[letter]} of {MIN_READ_PER_LETTER})" for letter in letters
             if read[letter] < MIN_READ_PER_LETTER]
    if students >= 2 and short:
        missing.append(f"more drawings by the held-out students of {', '.join(short)}")
    return missing


def compare(code: str, model: str = MODEL) -> Comparison:
    """Teach a head with one hand and one with the class's letters; read the held-out students with both."""
    letters = list(store.class_info(code).letters)
    drawn = letter_drawings(code, letters)
    students = sorted({d.student for d in drawn})
    if len(students) < 2:
        return Comparison(letters, model, 0, None, None, _missing(letters, Counter(), Counter(), len(students)),
                          time.time())
    held = dataset.held_out_students(students)
    x = drawing_features(drawn, model)
    y = np.array([letters.index(d.label) for d in drawn])
    out = np.array([d.student in held for d in drawn])
    taught = Counter(d.label for d in drawn if d.student not in held)
    read = Counter(d.label for d in drawn if d.student in held)
    missing = _missing(letters, taught, read, len(students))
    learners = len(students) - len(held)
    many = one = None
    if all(taught[letter] for letter in letters):
        many = _score("the class", x[~out], y[~out], learners, letters, x[out], y[out], model)
        report = report_hand(letters)
        if report is not None:
            one = _score(REPORT_HAND, own_classes.embed(model, report[0]), report[1], 1, letters, x[out], y[out],
                         model)
        elif (student := one_student(drawn, out, letters)) is not None:
            mine = np.array([d.student == student for d in drawn])
            one = _score(f"one student, {student}", x[mine], y[mine], 1, letters, x[out], y[out], model)
        else:
            missing.append("one student (not held out) who drew every letter, to teach the one-hand head")
    return Comparison(letters, model, len(held), one, many, missing, time.time())


def one_student(drawn: list[store.Drawing], held_out: np.ndarray, letters: list[str]) -> str | None:
    """The one hand when the class's letters are not report 002's: the student the heads learn from who drew every
    letter and drew most (of equals, the first pseudonym); None when no one drew every letter."""
    drew: dict[str, Counter] = {}
    for d, held in zip(drawn, held_out):
        if not held:
            drew.setdefault(d.student, Counter())[d.label] += 1
    everything = [s for s, counts in drew.items() if len(counts) == len(letters)]
    return min(everything, key=lambda s: (-sum(drew[s].values()), s), default=None)


# --- The teacher's press: in the background, the result kept for the wall --------------------------------------

def result_path(code: str) -> Path:
    """Where class ``code``'s latest comparison is kept (deleted with the class: ``store.derived_dir``)."""
    return store.derived_dir() / f"{keys.normal_code(code)}-letters.json"


def latest(code: str) -> Comparison | None:
    """The class's latest comparison, None before the first (or when its file cannot be read)."""
    try:
        return Comparison.from_json(json.loads(result_path(code).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running(code: str) -> bool:
    """Whether a comparison of class ``code`` is being made now (in this process)."""
    with _lock:
        thread = _running.get(keys.normal_code(code))
        return thread is not None and thread.is_alive()


def _compare_and_keep(code: str, model: str) -> None:
    try:
        result = compare(code, model)
    except store.ClassError:  # the class ended meanwhile: nothing to keep
        return
    except (own_classes.ProjectError, ValueError) as e:  # said on the wall, as a result would be
        result = Comparison(list(store.class_info(code).letters), model, 0, None, None,
                            [f"heads that can be taught ({e})"], time.time())
    path = result_path(code)
    path.parent.mkdir(parents=True, exist_ok=True)
    with files.atomic_path(path) as tmp:
        tmp.write_text(json.dumps(result.to_json()))


def train_in_background(code: str, secret: str, model: str = MODEL) -> threading.Thread:
    """The teacher's press: compare one hand and the class in a thread (the page never waits for it); a press
    while one runs returns that one."""
    if not store.is_teacher(code, secret):
        raise store.NotAllowed("only the class's teacher can do this (the teacher's address or PIN)")
    if model not in own_classes.NETWORKS:
        raise store.ClassError(f"no drawing network {model!r}; choose from {', '.join(own_classes.NETWORKS)}")
    code = keys.normal_code(code)
    with _lock:
        thread = _running.get(code)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_compare_and_keep, args=(code, model), name=f"letters-{code}",
                                      daemon=True)
            _running[code] = thread
            thread.start()
        return thread
