"""A class in the store: the teacher starts it, students join and draw, the teacher steers it.

Who may do what is decided here, not by the pages: a teacher's action takes the teacher's secret (or the PIN
chosen at the start) and a student's action the student's rejoin token; a student's token opens no teacher's
action, whatever address or message carries it. A submit carries the client's own submission id, so a drawing
sent twice (a retry after a lost answer, a reload) is stored once, and a student who rejoins with their token
is the same student with the same drawings.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Connection, Integer, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.base import paths
from core.classroom import db, keys, prompts
from core.classroom.schema import classes, drawings, pin_guesses, students
from core.images import preprocess

# What the class is doing: drawing the asked digits for its data set, trying to stump the networks, drawing the
# letters the teacher named (activity 4, "Letters with many hands"), or waiting.
DRAW, STUMP, LETTERS, PAUSED = "draw", "stump", "letters", "paused"
ACTIVITIES = (DRAW, STUMP, LETTERS, PAUSED)
DRAWING_ACTIVITIES = (DRAW, STUMP, LETTERS)
DEFAULT_LETTERS = ("alpha", "beta", "gamma")  # the Greek letters of report 002's one hand
MAX_NICKNAME = 40
MAX_STROKES_JSON = 256 * 1024  # a digit drawn with many strokes is a few kB; more is not a drawing
MAX_SUBMISSION_ID = 64
MAX_LABEL = 40
MAX_LABELS = 26
MAX_LETTERS = 10  # the letters activity's head, as an own-classes head, learns 2 to 10 classes
# A PIN is short: after PIN_GUESSES wrong ones within PIN_WINDOW_S, a class's PIN opens nothing until the oldest
# of them is that old (the teacher's own address, a long random secret, still opens the class).
PIN_GUESSES = 5
PIN_WINDOW_S = 600


class ClassError(ValueError):
    """A class action that cannot be done as asked (no such class, an empty drawing, ...); the message says why."""


class NotAllowed(PermissionError):
    """The secret given does not open this action."""


class TooManyGuesses(NotAllowed):
    """Too many wrong PINs for a class lately: its PIN is not checked until the wait the message says is over."""


@dataclass(frozen=True)
class ClassInfo:
    code: str
    activity: str
    labels: tuple[str, ...]
    created_at: float
    drawings: int = 0  # visible ones
    students: int = 0
    letters: tuple[str, ...] = DEFAULT_LETTERS  # what the letters activity asks for


@dataclass(frozen=True)
class Student:
    pseudonym: str
    nickname: str
    prompt: str | None  # what they are asked to draw now
    drawings: int = 0


@dataclass(frozen=True)
class Drawing:
    id: int
    student: str  # the pseudonym
    label: str
    activity: str
    created_at: float
    hidden: bool
    submission_id: str
    strokes: list = field(repr=False, default_factory=list)
    png: bytes = field(repr=False, default=b"")
    # The student right after ``submit`` stored (or found) this drawing: their count and their next prompt, the
    # page's whole answer to a Send without another query. None when read back from the store.
    sender: Student | None = field(repr=False, compare=False, default=None)

    @property
    def png_data_url(self) -> str:
        """The picture as the canvas sent it (what ``preprocess.read_canvas_png`` reads)."""
        return preprocess.CANVAS_PNG + base64.b64encode(self.png).decode()


def _labels(labels, most: int = MAX_LABELS, what: str = "labels") -> tuple[str, ...]:
    found = tuple(dict.fromkeys(str(label).strip() for label in labels))
    if not 2 <= len(found) <= most or any(not label or len(label) > MAX_LABEL for label in found):
        raise ClassError(f"a class draws 2 to {most} different {what} of 1 to {MAX_LABEL} characters")
    return found


def _label_sets(row) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The class's labels and its letters, from the ``labels`` column: a JSON list (the labels; the default
    letters) or, once the teacher named letters, ``{"labels": [...], "letters": [...]}``. No migration needed."""
    stored = json.loads(row.labels)
    if isinstance(stored, list):
        return tuple(stored), DEFAULT_LETTERS
    return tuple(stored["labels"]), tuple(stored["letters"])


def _asked(class_row) -> tuple[str, ...]:
    """What the class's activity asks for: the letters activity its letters, the others the class's labels."""
    labels, letters = _label_sets(class_row)
    return letters if class_row.activity == LETTERS else labels


def _class_row(conn: Connection, code: str):
    row = conn.execute(select(classes).where(classes.c.code == keys.normal_code(code))).first()
    if row is None:
        raise ClassError(f"no class with the code {keys.normal_code(code)!r}: is it typed as shown?")
    return row


def _teacher_row(conn: Connection, code: str, secret: str):
    """The class row, when ``secret`` is its teacher's secret or PIN; else ``NotAllowed`` (a wrong PIN is counted
    in ``conn``: see ``_as_teacher``), or ``TooManyGuesses`` while the class's PIN is locked."""
    row = _class_row(conn, code)
    given = secret if isinstance(secret, str) else ""
    if given and keys.token_matches(given, row.teacher_hash):
        return row
    if row.pin_hash:
        # PostgreSQL: one PIN check of a class at a time, across servers (SQLite's BEGIN IMMEDIATE already is).
        conn.execute(select(classes.c.id).where(classes.c.id == row.id).with_for_update())
        now = time.time()
        conn.execute(delete(pin_guesses).where(pin_guesses.c.class_id == row.id,
                                               pin_guesses.c.at <= now - PIN_WINDOW_S))
        recent = conn.execute(select(pin_guesses.c.at).where(pin_guesses.c.class_id == row.id)
                              .order_by(pin_guesses.c.at)).scalars().all()
        if len(recent) >= PIN_GUESSES:
            wait = int(recent[-PIN_GUESSES] + PIN_WINDOW_S - now) // 60 + 1
            raise TooManyGuesses(f"too many wrong PINs for class {row.code}: its PIN opens nothing for "
                                 f"{wait} more minute{'s' if wait > 1 else ''} (the teacher's own address still does)")
        if given and keys.pin_matches(given, row.pin_hash):
            return row
        conn.execute(insert(pin_guesses).values(class_id=row.id, at=now))
    raise NotAllowed("only the class's teacher can do this (the teacher's address or PIN)")


@contextlib.contextmanager
def _as_teacher(code: str, secret: str):
    """A transaction in which ``secret`` opened class ``code``'s teacher's actions: yields it and the class row.

    A refused secret leaves the transaction committed, not rolled back, so that the wrong PIN stays counted."""
    with db.engine().begin() as conn:
        try:
            row = _teacher_row(conn, code, secret)
        except NotAllowed as e:
            refused = e
        else:
            yield conn, row
            return
    raise refused


def _student_row(conn: Connection, class_row, token: str, lock: bool = False):
    """The student whose token this is; ``lock``: hold their row to the transaction's end (PostgreSQL: one submit
    of a student at a time; SQLite's BEGIN IMMEDIATE already holds the whole store)."""
    row = None
    if isinstance(token, str) and token:
        query = select(students).where(students.c.token_hash == keys.token_hash(token),
                                       students.c.class_id == class_row.id)
        row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotAllowed("this is not a student of the class: join it with its code")
    return row


def _info(conn: Connection, row) -> ClassInfo:
    shown = conn.execute(select(func.count()).select_from(drawings).where(
        drawings.c.class_id == row.id, drawings.c.hidden.is_(False))).scalar_one()
    joined = conn.execute(select(func.count()).select_from(students).where(
        students.c.class_id == row.id)).scalar_one()
    labels, letters = _label_sets(row)
    return ClassInfo(row.code, row.activity, labels, row.created_at, shown, joined, letters)


def _counts(conn: Connection, class_id: int, student_id: int | None = None, letters: bool = False) -> Counter:
    """Visible drawings per label; ``letters``: of the letters activity only (a letter a teacher names "1" is not
    the digit 1 drawn before)."""
    query = select(drawings.c.label, func.count()).where(drawings.c.class_id == class_id,
                                                          drawings.c.hidden.is_(False))
    if student_id is not None:
        query = query.where(drawings.c.student_id == student_id)
    if letters:
        query = query.where(drawings.c.activity == LETTERS)
    return Counter(dict(conn.execute(query.group_by(drawings.c.label)).all()))


def _next_prompt(conn: Connection, class_row, student_id: int) -> str:
    """What the student draws next in the class's activity, balanced over its labels (or letters): the student's
    counts and the class's, per label, in one query (a submit asks it while it holds SQLite's writers' lock)."""
    mine = func.sum(case((drawings.c.student_id == student_id, 1), else_=0))
    query = select(drawings.c.label, func.count(), mine).where(drawings.c.class_id == class_row.id,
                                                                drawings.c.hidden.is_(False))
    if class_row.activity == LETTERS:
        query = query.where(drawings.c.activity == LETTERS)
    rows = conn.execute(query.group_by(drawings.c.label)).all()
    return prompts.next_label(_asked(class_row), Counter({label: int(n) for label, _, n in rows}),
                              Counter({label: n for label, n, _ in rows}))


def _prompt_again(conn: Connection, class_id: int) -> None:
    """Ask each student whose prompt the class's activity no longer asks for (letters after digits, a letter the
    teacher took away) for one it does; a prompt still asked for stays, so a half-drawn one is not lost."""
    class_row = conn.execute(select(classes).where(classes.c.id == class_id)).first()
    asked = _asked(class_row)
    for student_id, prompt in conn.execute(select(students.c.id, students.c.prompt)
                                           .where(students.c.class_id == class_id)).all():
        if prompt not in asked:
            conn.execute(update(students).where(students.c.id == student_id)
                         .values(prompt=_next_prompt(conn, class_row, student_id)))


def _student(conn: Connection, row) -> Student:
    count = conn.execute(select(func.count()).select_from(drawings).where(
        drawings.c.student_id == row.id)).scalar_one()
    return Student(row.pseudonym, row.nickname, row.prompt, count)


# --- The teacher ---------------------------------------------------------------------------------------------

def start_class(labels=prompts.DIGITS, pin: str | None = None) -> tuple[ClassInfo, str]:
    """A new class, paused, and its teacher's secret (shown once: the store keeps only its hash)."""
    labels = _labels(labels)
    if pin is not None and len(str(pin).strip()) < 4:
        raise ClassError("a PIN has at least 4 characters")
    secret = keys.new_token()
    pin_hash = keys.hash_pin(str(pin).strip()) if pin is not None else None
    with db.engine().begin() as conn:
        taken = set(conn.execute(select(classes.c.code)).scalars())
        code = next(c for c in iter(keys.new_code, None) if c not in taken)
        conn.execute(insert(classes).values(code=code, teacher_hash=keys.token_hash(secret), pin_hash=pin_hash,
                                            activity=PAUSED, labels=json.dumps(labels), created_at=time.time()))
        return _info(conn, _class_row(conn, code)), secret


def is_teacher(code: str, secret: str) -> bool:
    """Whether ``secret`` opens the teacher's actions of class ``code``; ``TooManyGuesses`` (with its message for
    the screen) while the class's PIN is locked."""
    try:
        with _as_teacher(code, secret):
            return True
    except TooManyGuesses:
        raise
    except (NotAllowed, ClassError):
        return False


def set_activity(code: str, secret: str, activity: str) -> ClassInfo:
    """Start an activity (``draw``, ``stump``, ``letters``) or pause the class; the students' screens follow it."""
    if activity not in ACTIVITIES:
        raise ClassError(f"no activity {activity!r}; choose from {', '.join(ACTIVITIES)}")
    with _as_teacher(code, secret) as (conn, row):
        conn.execute(update(classes).where(classes.c.id == row.id).values(activity=activity))
        if activity != PAUSED:
            _prompt_again(conn, row.id)
        return _info(conn, _class_row(conn, code))


def set_letters(code: str, secret: str, letters) -> ClassInfo:
    """Name the letters the letters activity asks for (2 to ``MAX_LETTERS``: any classes, not only letters)."""
    letters = _labels(letters, MAX_LETTERS, "letters")
    with _as_teacher(code, secret) as (conn, row):
        labels, _ = _label_sets(row)
        conn.execute(update(classes).where(classes.c.id == row.id).values(
            labels=json.dumps({"labels": labels, "letters": letters})))
        if row.activity == LETTERS:
            _prompt_again(conn, row.id)
        return _info(conn, _class_row(conn, code))


def hide(code: str, secret: str, drawing_id: int, hidden: bool = True) -> None:
    """Hide a drawing (or show it again): a hidden drawing is left out of every figure and the export."""
    with _as_teacher(code, secret) as (conn, row):
        done = conn.execute(update(drawings).where(drawings.c.id == int(drawing_id), drawings.c.class_id == row.id)
                            .values(hidden=bool(hidden))).rowcount
    if not done:
        raise ClassError(f"the class has no drawing {drawing_id}")


def roster(code: str, secret: str) -> list[Student]:
    """The students with their nicknames, for the teacher's screen only."""
    with _as_teacher(code, secret) as (conn, row):
        rows = conn.execute(select(students).where(students.c.class_id == row.id).order_by(students.c.id)).all()
        return [_student(conn, r) for r in rows]


def end_class(code: str, secret: str) -> None:
    """The teacher ends the class: it is deleted with everything its students drew and the sets made of it."""
    with _as_teacher(code, secret) as (conn, row):
        _delete(conn, row)


def derived_dir() -> Path:
    """Where files made from a class's drawings are kept (its training sets), named ``<code>-...``."""
    return paths.vp_home() / "classes"


def _delete(conn: Connection, class_row) -> None:
    # Explicitly, child tables first: SQLite enforces ON DELETE CASCADE only with its foreign keys on.
    conn.execute(delete(drawings).where(drawings.c.class_id == class_row.id))
    conn.execute(delete(pin_guesses).where(pin_guesses.c.class_id == class_row.id))
    conn.execute(delete(students).where(students.c.class_id == class_row.id))
    conn.execute(delete(classes).where(classes.c.id == class_row.id))
    for made in derived_dir().glob(f"{class_row.code}-*"):
        made.unlink(missing_ok=True)


# --- Students ------------------------------------------------------------------------------------------------

def join(code: str, nickname: str = "", token: str | None = None) -> tuple[Student, str]:
    """A new student of class ``code`` with a pseudonym and their rejoin token (kept by their browser).

    ``token``: the one the join form offered (a new one when None). A join with a token that already has a
    student of the class returns that student, given ``nickname`` if they had none: a tap joins once."""
    nickname = " ".join(str(nickname or "").split())[:MAX_NICKNAME]
    token = token or keys.new_token()
    with db.engine().begin() as conn:
        class_row = _class_row(conn, code)
        known = conn.execute(select(students).where(students.c.class_id == class_row.id,
                                                    students.c.token_hash == keys.token_hash(token))).first()
        if known is not None and nickname and not known.nickname:
            conn.execute(update(students).where(students.c.id == known.id).values(nickname=nickname))
            return replace(_student(conn, known), nickname=nickname), token
        if known is not None:
            return _student(conn, known), token
        taken = set(conn.execute(select(students.c.pseudonym).where(students.c.class_id == class_row.id)).scalars())
        pseudonym = next(p for p in iter(lambda: "s" + keys.new_token()[:6].lower(), None) if p not in taken)
        student_id = conn.execute(insert(students).values(
            class_id=class_row.id, pseudonym=pseudonym, token_hash=keys.token_hash(token), nickname=nickname,
            joined_at=time.time())).inserted_primary_key[0]
        prompt = _next_prompt(conn, class_row, student_id)
        conn.execute(update(students).where(students.c.id == student_id).values(prompt=prompt))
        return Student(pseudonym, nickname, prompt), token


def rejoin(code: str, token: str) -> Student:
    """The student whose token this is: the same pseudonym, prompt and drawings as before the reload."""
    with db.reading() as conn:
        return _student(conn, _student_row(conn, _class_row(conn, code), token))


def screen(code: str, token: str) -> tuple[str, str] | None:
    """What a student's screen shows: the class's activity and the student's prompt; None when the class or the
    student is gone. Every student's screen asks this every few seconds, so it is one indexed query, no counts."""
    with db.reading() as conn:
        found = conn.execute(select(classes.c.activity, students.c.prompt).join(students).where(
            classes.c.code == keys.normal_code(code),
            students.c.token_hash == keys.token_hash(token if isinstance(token, str) else ""))).first()
    return None if found is None else (found.activity, found.prompt)


def submit(code: str, token: str, submission_id: str, label: str, strokes: list, png: str) -> Drawing:
    """Store a student's drawing of ``label`` (their prompt), as the canvas sent it, and ask for the next label.

    ``png``: the canvas' picture as a data URL. A submission id already stored for this student returns the
    drawing stored then and changes nothing, so a retry never counts a drawing twice. The drawing returned
    carries the student as the submit left them (``sender``). One transaction: the drawing is checked before it
    (no lock held while its picture is decoded), and what is returned is what was written, not read again."""
    submission_id = str(submission_id or "")
    if not 0 < len(submission_id) <= MAX_SUBMISSION_ID:
        raise ClassError(f"a submission needs an id of 1 to {MAX_SUBMISSION_ID} characters")
    picture = _checked_drawing(strokes, png)
    try:
        with db.engine().begin() as conn:
            class_row = _class_row(conn, code)
            student = _student_row(conn, class_row, token, lock=True)
            done = _find(conn, student.id, submission_id)
            if done is not None:  # sent again (a retry, a reload): the drawing stored then
                return replace(done, sender=_student(conn, student))
            if class_row.activity not in DRAWING_ACTIVITIES:
                raise ClassError("the class is not drawing now: wait for the teacher to start an activity")
            if str(label) != student.prompt:
                raise ClassError(f"you were asked to draw {student.prompt}, not {label}")
            stored = Drawing(0, student.pseudonym, student.prompt, class_row.activity, time.time(), False,
                             submission_id, strokes, picture)
            drawing_id = conn.execute(insert(drawings).values(
                class_id=class_row.id, student_id=student.id, submission_id=submission_id, label=stored.label,
                activity=stored.activity, strokes=json.dumps(strokes), png=picture, created_at=stored.created_at,
                hidden=False)).inserted_primary_key[0]
            prompt = _next_prompt(conn, class_row, student.id)
            conn.execute(update(students).where(students.c.id == student.id).values(prompt=prompt))
            return replace(stored, id=drawing_id, sender=replace(_student(conn, student), prompt=prompt))
    except IntegrityError:  # the same submission, sent twice at once (on PostgreSQL): the first one won
        pass
    with db.reading() as conn:
        student = _student_row(conn, _class_row(conn, code), token)
        return replace(_find(conn, student.id, submission_id), sender=_student(conn, student))


def _checked_drawing(strokes, png) -> bytes:
    """The PNG's bytes, when ``strokes`` and ``png`` are what the canvas sends and hold a drawing."""
    if not isinstance(strokes, list) or not all(isinstance(s, dict) for s in strokes):
        raise ClassError("the strokes are not the canvas' strokes")
    if not strokes:
        raise ClassError("the canvas is empty: draw first, then send")
    if len(json.dumps(strokes)) > MAX_STROKES_JSON:
        raise ClassError("the drawing has too many strokes")
    read = preprocess.read_canvas_png(png)
    if read is None:
        raise ClassError("the picture is not the canvas' picture")
    if read.empty:
        raise ClassError("the canvas is empty: draw first, then send")
    return base64.b64decode(png[len(preprocess.CANVAS_PNG):])


def _drawing(row, pseudonym: str) -> Drawing:
    strokes = json.loads(row.strokes) if "strokes" in row._fields else []
    return Drawing(row.id, pseudonym, row.label, row.activity, row.created_at, bool(row.hidden), row.submission_id,
                   strokes, bytes(row.png))


def _find(conn: Connection, student_id: int, submission_id: str) -> Drawing | None:
    row = conn.execute(select(drawings, students.c.pseudonym).join(students).where(
        drawings.c.student_id == student_id, drawings.c.submission_id == submission_id)).first()
    return None if row is None else _drawing(row, row.pseudonym)


# --- Reading a class -----------------------------------------------------------------------------------------

def class_info(code: str) -> ClassInfo:
    """The class's state (what students' screens follow) and its counts of visible drawings and students."""
    with db.reading() as conn:
        return _info(conn, _class_row(conn, code))


def drawings_mark(code: str) -> tuple[int, int, int, int]:
    """What changes whenever a figure of class ``code`` may: its drawings, the newest one's id, and the hidden
    ones' count and sum of ids (a drawing hidden and another shown again within one look still changes it)."""
    with db.reading() as conn:
        row = _class_row(conn, code)
        hidden = case((drawings.c.hidden.is_(True), drawings.c.id), else_=0)
        found = conn.execute(select(func.count(), func.max(drawings.c.id), func.sum(drawings.c.hidden.cast(Integer)),
                                    func.sum(hidden)).where(drawings.c.class_id == row.id)).one()
    return tuple(int(x or 0) for x in found)


def hidden_flags(code: str) -> dict[int, bool]:
    """Every drawing of class ``code`` by id, oldest first: whether it is hidden (a few bytes a drawing, for a
    reader that keeps the drawings it fetched before: a drawing never changes once stored but for this flag)."""
    with db.reading() as conn:
        row = _class_row(conn, code)
        found = conn.execute(select(drawings.c.id, drawings.c.hidden).where(drawings.c.class_id == row.id)
                             .order_by(drawings.c.id)).all()
    return {int(i): bool(hidden) for i, hidden in found}


def class_drawings(code: str, include_hidden: bool = False, since_id: int = 0, strokes: bool = True) -> list[Drawing]:
    """The class's drawings, oldest first; hidden ones only when asked (the teacher's screen, to show them again).
    ``strokes=False``: without their strokes (left empty), for the wall, whose figures read the pictures only and
    which reads every drawing every second.

    Every figure, statistic and export reads drawings here, so a hidden drawing leaves all of them at once."""
    with db.reading() as conn:
        row = _class_row(conn, code)
        columns = [c for c in drawings.c if strokes or c is not drawings.c.strokes]
        query = (select(*columns, students.c.pseudonym).join(students)
                 .where(drawings.c.class_id == row.id, drawings.c.id > since_id).order_by(drawings.c.id))
        if not include_hidden:
            query = query.where(drawings.c.hidden.is_(False))
        return [_drawing(r, r.pseudonym) for r in conn.execute(query).all()]


def drawn_counts(code: str, letters: bool = False) -> Counter:
    """The class's visible drawings per label; ``letters``: of the letters activity only."""
    with db.reading() as conn:
        return _counts(conn, _class_row(conn, code).id, letters=letters)


def list_classes() -> list[ClassInfo]:
    """Every class in the store, oldest first."""
    with db.reading() as conn:
        return [_info(conn, row) for row in conn.execute(select(classes).order_by(classes.c.id)).all()]


def delete_class(code: str) -> None:
    """Delete a class and everything its students drew, without its teacher's secret: for the machine's owner
    at the command line (``python -m core class delete``), never offered to a page."""
    with db.engine().begin() as conn:
        _delete(conn, _class_row(conn, code))
