"""Letters with many hands (activity 4): the class draws the letters its teacher names, prompted in turn, and a head
taught by the class reads students it never saw better than one taught by one hand (core.classroom.letters).

The lesson is checked on real handwriting: UNIPEN's lowercase a, b and c by the writers who wrote them, each
writer a student of the class, every drawing sent through the store as the canvas sends it."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from sqlalchemy import update

from core import own_classes
from core.classroom import captions, db, export, keys, letters, schema, store
from core.data import unipen
from tests.class_drawings import unipen_payload
from tests.needs import needs_data
from tests.test_classroom import class_db, drawing, postgres_server  # noqa: F401 - fixtures: both stores

ABC = ("a", "b", "c")


def letters_class(letters_asked=store.DEFAULT_LETTERS) -> tuple[store.ClassInfo, str]:
    info, secret = store.start_class()
    store.set_letters(info.code, secret, letters_asked)
    return store.set_activity(info.code, secret, store.LETTERS), secret


@pytest.mark.slow
@pytest.mark.usefixtures("class_db")
def test_students_are_asked_for_the_letters_in_turn_and_back_to_digits(tmp_path):
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    me, token = store.join(info.code)
    assert me.prompt in store.prompts.DIGITS
    info = store.set_activity(info.code, secret, store.LETTERS)
    assert info.letters == store.DEFAULT_LETTERS and info.labels == store.prompts.DIGITS
    asked = []
    for i in range(6):
        asked.append(store.rejoin(info.code, token).prompt)
        store.submit(info.code, token, f"l{i}", asked[-1], **drawing())
    assert Counter(asked) == dict.fromkeys(store.DEFAULT_LETTERS, 2)  # every letter once, then again
    card = export.export_class(info.code, tmp_path / "class.zip")  # the letters are the class's data too
    assert {label: n for label, n in card["labels"].items() if n} == dict.fromkeys(store.DEFAULT_LETTERS, 2)
    store.set_letters(info.code, secret, ["x", "y"])
    assert store.rejoin(info.code, token).prompt in ("x", "y")  # a letter taken away is asked no more
    store.set_activity(info.code, secret, store.DRAW)
    assert store.rejoin(info.code, token).prompt in store.prompts.DIGITS
    assert store.class_info(info.code).letters == ("x", "y")


@pytest.mark.usefixtures("class_db")
def test_letters_are_named_by_the_teacher_only_and_2_to_10_of_them():
    info, secret = letters_class()
    _, token = store.join(info.code)
    with pytest.raises(store.NotAllowed):
        store.set_letters(info.code, token, ["p", "q"])
    with pytest.raises(store.NotAllowed):
        letters.train_in_background(info.code, token)
    for wrong in (["a"], list("abcdefghijk"), ["a", " "]):
        with pytest.raises(store.ClassError, match="2 to 10 different letters"):
            store.set_letters(info.code, secret, wrong)
    assert store.class_info(info.code).letters == store.DEFAULT_LETTERS  # unchanged
    assert store.MAX_LETTERS == own_classes.MAX_CLASSES  # the head's own limit


@pytest.mark.usefixtures("class_db")
def test_too_few_students_say_what_is_missing_instead_of_a_conclusion():
    info, secret = letters_class(["o", "x"])
    for n in range(2):
        _, token = store.join(info.code)
        for i in range(2):
            store.submit(info.code, token, f"{n}-{i}", store.rejoin(info.code, token).prompt, **drawing())
    result = letters.compare(info.code)
    said = captions.letters_caption(result)
    assert said.startswith("Not enough letters yet") and "at least 4 students (2 so far)" in said
    assert "better" not in said and "as well" not in said


@needs_data("greek")
def test_report_002s_one_hand_is_its_letters_of_the_class():
    x, y = letters.report_hand(["Beta", "α"])
    assert x.shape == (18, 28, 28) and Counter(y.tolist()) == {0: 9, 1: 9}  # beta first, as the class asks
    assert letters.report_hand(["alpha", "delta"]) is None and letters.report_hand(ABC) is None


@pytest.fixture(scope="module")
def writers_class(tmp_path_factory):
    """A class whose students are UNIPEN's writers of a, b and c: each joins and sends every a, b and c that writer
    wrote, through the store as the canvas sends it. The prompts ask in turn, a writer wrote what they wrote: so
    before each drawing the student's prompt is set to its letter (the one thing written around the store). The
    class's random tokens are seeded, so the split into learning and held-out students is the same on every run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(db.DB_ENV, f"sqlite:///{tmp_path_factory.mktemp('letters') / 'classes.db'}")
        seeded = random.Random(31)
        mp.setattr(keys, "new_token", lambda: f"{seeded.getrandbits(128):032x}")
        by_writer: dict[str, dict[str, list]] = {}
        for record in unipen.load_unipen(file=unipen.LETTERS):
            if record["label"] in ABC:
                by_writer.setdefault(record["writer"], {}).setdefault(record["label"], []).append(record)
        info, secret = letters_class(ABC)
        for writer, mine in sorted(by_writer.items()):
            me, token = store.join(info.code, writer)
            for i, record in enumerate(r for letter in ABC for r in mine.get(letter, [])):
                with db.engine().begin() as conn:
                    conn.execute(update(schema.students).where(schema.students.c.pseudonym == me.pseudonym)
                                 .values(prompt=record["label"]))
                try:
                    store.submit(info.code, token, f"{writer}-{i}", record["label"], **unipen_payload(record))
                except store.ClassError as e:  # a record whose strokes are one dot: refused, as on the canvas
                    assert "empty" in str(e)
        yield info.code, secret, len(by_writer)


@pytest.mark.slow
@needs_data(unipen.LETTERS)
def test_the_class_teaches_a_head_that_reads_held_out_writers_better_than_one_writer(writers_class):
    code, secret, writers = writers_class
    result = letters.compare(code)
    one, many = result.one_hand, result.many_hands
    drawn = letters.letter_drawings(code, ABC)
    assert not result.missing and result.model == "net002"
    # Split by student: every held-out writer's drawings are read, none learnt; the rest learnt by the class.
    assert many.read == one.read and many.drawings + many.read == len(drawn)
    assert result.held_out_students + many.students == writers
    assert one.taught_by.startswith("one student, ") and one.students == 1 and one.drawings < many.drawings
    print(f"\n{writers} writers, {result.held_out_students} held out ({many.read} letters): class "
          f"{many.right}/{many.read} = {many.accuracy:.1%} ({many.drawings} drawings), {one.taught_by} "
          f"{one.right}/{one.read} = {one.accuracy:.1%} ({one.drawings} drawings)")
    assert many.accuracy >= one.accuracy + 0.05  # the lesson, on real handwriting
    assert captions.letters_caption(result).endswith("the class's many hands teach it better.")
    # The teacher's press: the same comparison, made in the background and kept for the wall (and any server).
    letters.train_in_background(code, secret).join(timeout=120)
    kept = letters.latest(code)
    assert kept.many_hands == many and kept.one_hand == one
    assert json.loads(letters.result_path(code).read_text())["letters"] == list(ABC)
