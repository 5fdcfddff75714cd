"""Class mode's store (core.classroom.store): a class, its students and their drawings, by the rules of issue 31.

The drawings are what the canvas really sent (tests/canvas_payloads.py); the store is a fresh SQLite file per test.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest

from bench.harness import postgres
from core.classroom import db, keys, schema, store
from tests import canvas_payloads, needs


@pytest.fixture(scope="module")
def postgres_server():
    why = postgres.available()
    if why and os.environ.get(needs.REQUIRE_ENV) == "1":  # CI installs PostgreSQL: the store is tested on both
        pytest.fail(f"{why}; {needs.REQUIRE_ENV}=1 says it must be here", pytrace=False)
    if why:
        pytest.skip(why)
    with postgres.server() as base:
        yield base


@pytest.fixture(params=["sqlite", "postgresql"])
def class_db(request, tmp_path, monkeypatch):
    """A store of its own, in each kind of database: the SQLite file or the PostgreSQL database VP_CLASS_DB names."""
    if request.param == "sqlite":
        monkeypatch.setenv(db.DB_ENV, f"sqlite:///{tmp_path / 'classes.db'}")
    else:
        monkeypatch.setenv(db.DB_ENV, postgres.new_database(request.getfixturevalue("postgres_server")))
    return request.param


def drawing(label: str = "seven_two_strokes") -> dict:
    sent = canvas_payloads.sent(label)
    return {"strokes": sent["strokes"], "png": sent["png"]}


def at_once(act, n: int) -> None:
    """``act(0)`` to ``act(n - 1)`` on threads of their own, all started before any is waited for."""
    threads = [threading.Thread(target=act, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def drawing_class(**kw) -> tuple[store.ClassInfo, str]:
    info, secret = store.start_class(**kw)
    store.set_activity(info.code, secret, store.DRAW)
    return info, secret


def test_a_join_with_the_token_the_form_offered_joins_once_and_names_the_student_after(class_db):
    """The join form offers a token before the tap; the tap's callback joins with it unnamed, and the form's next
    run names the student: a tap whose run a newer request interrupted still makes one student."""
    info, secret = drawing_class()
    offered = keys.new_token()
    me, token = store.join(info.code, "", offered)
    again, same = store.join(info.code, "Ann", offered)
    assert same == token == offered and again.pseudonym == me.pseudonym
    assert store.join(info.code, "Bob", offered)[0].nickname == "Ann"  # a name is given once
    assert [s.nickname for s in store.roster(info.code, secret)] == ["Ann"]
    assert store.join(info.code, "Cy")[1] != offered and store.class_info(info.code).students == 2


@pytest.mark.slow
def test_a_student_joins_by_code_draws_and_rejoins_as_the_same_student(class_db):
    info, _ = drawing_class()
    assert len(info.code) == keys.CODE_LENGTH and set(info.code) <= set(keys.CODE_ALPHABET)
    me, token = store.join(f" {info.code.lower()} ", "Ann")  # typed as a student types it
    first = store.submit(info.code, token, "sub-1", me.prompt, **drawing())
    assert first.label == me.prompt and first.student == me.pseudonym

    again = store.rejoin(info.code, token)  # the page reloaded: the token from the address
    assert (again.pseudonym, again.nickname, again.drawings) == (me.pseudonym, "Ann", 1)
    assert again.prompt != me.prompt  # asked for the next digit

    # The answer to the first submit was lost and the page sends it again: stored once, the prompt unchanged.
    assert store.submit(info.code, token, "sub-1", me.prompt, **drawing()) == first
    assert store.rejoin(info.code, token) == again
    assert store.class_info(info.code).drawings == 1
    assert [d.submission_id for d in store.class_drawings(info.code)] == ["sub-1"]
    stored = store.class_drawings(info.code)[0]
    assert stored.png_data_url == drawing()["png"] and stored.strokes == drawing()["strokes"]


def test_a_students_screen_follows_the_activity_and_the_prompt_and_ends_with_the_class(class_db):
    info, secret = drawing_class()
    me, token = store.join(info.code, "Ann")
    other, _ = store.join(info.code, "Bob")
    assert store.screen(info.code.lower(), token) == (store.DRAW, me.prompt)
    store.submit(info.code, token, "sub-1", me.prompt, **drawing())
    asked = store.rejoin(info.code, token).prompt
    store.set_activity(info.code, secret, store.STUMP)
    assert store.screen(info.code, token) == (store.STUMP, store.rejoin(info.code, token).prompt)
    assert asked != me.prompt and other.prompt is not None
    assert store.screen(info.code, "not-a-token") is None
    other_class, _ = drawing_class()
    assert store.screen(other_class.code, token) is None  # a token is a student of one class only
    store.end_class(info.code, secret)
    assert store.screen(info.code, token) is None


def test_thirty_students_submitting_at_once_lose_nothing_and_double_nothing(class_db):
    info, _ = drawing_class()
    per_student, errors = 2, []
    sent = drawing()
    start = threading.Barrier(30)

    def student(i: int) -> None:
        try:
            me, token = store.join(info.code, f"student {i}")
            start.wait()
            for n in range(per_student):
                prompt = store.rejoin(info.code, token).prompt
                for _ in range(2):  # every submit sent twice, as a retry after a lost answer does
                    store.submit(info.code, token, f"{i}-{n}", prompt, **sent)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    at_once(student, 30)
    assert errors == []
    stored = store.class_drawings(info.code)
    assert len(stored) == store.class_info(info.code).drawings == 30 * per_student
    assert Counter(d.student for d in stored) == Counter({s: per_student for s in {d.student for d in stored}})
    assert len({d.student for d in stored}) == 30


def test_reading_the_class_never_waits_for_a_drawing_being_stored(class_db):
    """The students' screens and the wall read while a writer holds the store (a submit, thirty of them at once):
    on SQLite a transaction that only reads does not wait for the writers' lock (it waited up to its 30 s busy
    timeout behind each submit, and the whole class behind it)."""
    info, _ = drawing_class()
    me, token = store.join(info.code)
    read = threading.Event()

    def a_screen() -> None:
        store.screen(info.code, token), store.rejoin(info.code, token), store.class_info(info.code)
        store.class_drawings(info.code), store.drawings_mark(info.code)
        read.set()

    reader = threading.Thread(target=a_screen)
    with db.engine().begin() as conn:  # a writer's transaction: on SQLite it holds the lock from its start
        conn.execute(schema.students.update().where(schema.students.c.pseudonym == me.pseudonym).values(nickname="x"))
        reader.start()
        assert read.wait(5), "a reader waited for the writer"
    reader.join()


def test_one_submission_sent_ten_times_at_once_is_stored_once(class_db):
    info, _ = drawing_class()
    me, token = store.join(info.code)
    start, answers, errors = threading.Barrier(10), [], []

    def send() -> None:
        start.wait()
        try:
            answers.append(store.submit(info.code, token, "same", me.prompt, **drawing()).id)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(answers) == 10 and len(set(answers)) == 1
    assert store.class_info(info.code).drawings == 1 and store.rejoin(info.code, token).drawings == 1


def test_each_student_is_asked_for_every_digit_before_any_again(class_db):
    info, _ = drawing_class()
    me, token = store.join(info.code)
    asked = []
    for n in range(15):
        prompt = store.rejoin(info.code, token).prompt
        asked.append(prompt)
        store.submit(info.code, token, f"s{n}", prompt, **drawing())
    assert sorted(asked[:10]) == [str(d) for d in range(10)]
    assert len(set(asked[10:])) == 5


def test_only_the_teachers_secret_or_pin_opens_the_teachers_actions(class_db):
    info, secret = store.start_class()
    other, other_secret = store.start_class(pin="4711")
    me, token = store.join(info.code)
    actions = {
        "start an activity": lambda s: store.set_activity(info.code, s, store.DRAW),
        "hide a drawing": lambda s: store.hide(info.code, s, 1),
        "see the nicknames": lambda s: store.roster(info.code, s),
        "end the class": lambda s: store.end_class(info.code, s),
    }
    for what, action in actions.items():
        for wrong in (token, other_secret, "4711", "", None, keys.token_hash(secret)):
            with pytest.raises(store.NotAllowed):
                action(wrong)
        assert store.class_info(info.code).activity == store.PAUSED, what
    assert not store.is_teacher(info.code, token) and store.is_teacher(info.code, secret)
    assert [s.nickname for s in store.roster(info.code, secret)] == [""]
    store.end_class(info.code, secret)
    assert [c.code for c in store.list_classes()] == [other.code]
    # A class started with a PIN: the PIN opens the teacher's actions too, a wrong one does not.
    with pytest.raises(store.NotAllowed):
        store.set_activity(other.code, "4712", store.STUMP)
    assert store.set_activity(other.code, "4711", store.STUMP).activity == store.STUMP


def test_five_wrong_pins_lock_a_class_pin_for_ten_minutes_but_not_the_teachers_address(class_db, monkeypatch):
    info, secret = store.start_class(pin="4711")
    other, _ = store.start_class(pin="4711")
    for guess in ("0000", "1234", "", None, "4712"):
        with pytest.raises(store.NotAllowed) as refused:
            store.set_activity(info.code, guess, store.DRAW)
        assert not isinstance(refused.value, store.TooManyGuesses)
    # The sixth try is not checked, the right PIN neither; the message says why and for how long.
    with pytest.raises(store.TooManyGuesses, match=f"too many wrong PINs for class {info.code}: its PIN opens "
                                                   "nothing for 10 more minutes"):
        store.set_activity(info.code, "4711", store.DRAW)
    with pytest.raises(store.TooManyGuesses):
        store.is_teacher(info.code, "4711")
    assert store.class_info(info.code).activity == store.PAUSED
    assert store.set_activity(info.code, secret, store.DRAW).activity == store.DRAW  # the teacher's address
    assert store.is_teacher(other.code, "4711")  # another class's PIN is its own
    later = time.time() + store.PIN_WINDOW_S + 1
    monkeypatch.setattr(store.time, "time", lambda: later)
    assert store.set_activity(info.code, "4711", store.STUMP).activity == store.STUMP


@pytest.mark.slow
def test_wrong_pins_sent_at_once_from_many_servers_count_each_and_stop_at_the_limit(class_db):
    """Twelve wrong PINs at once (as from several app servers sharing the store): five are checked, seven are
    refused unchecked; the store holds the count, so a server's restart or a second server does not reset it."""
    info, _ = store.start_class(pin="4711")
    start, refused, errors = threading.Barrier(12), [], []

    def guess(i: int) -> None:
        start.wait()
        try:
            store.is_teacher(info.code, f"{1000 + i}")
        except store.TooManyGuesses:
            refused.append(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    at_once(guess, 12)
    assert errors == [] and len(refused) == 12 - store.PIN_GUESSES
    with pytest.raises(store.TooManyGuesses):
        store.is_teacher(info.code, "4711")


def test_a_student_token_works_in_its_own_class_only(class_db):
    mine, _ = drawing_class()
    theirs, _ = drawing_class()
    me, token = store.join(mine.code)
    with pytest.raises(store.NotAllowed):
        store.rejoin(theirs.code, token)
    with pytest.raises(store.NotAllowed):
        store.submit(theirs.code, token, "x", me.prompt, **drawing())
    assert store.class_info(theirs.code).drawings == 0


def small_png() -> str:
    """A PNG that is not the canvas' picture: a 28x28 one."""
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (28, 28), (255, 255, 255, 255)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("sent, why", [
    (lambda: canvas_payloads.sent("clear"), "empty"),  # after the Clear button
    (lambda: canvas_payloads.sent("dot"), "empty"),  # one click: a dot, no digit
    (lambda: drawing() | {"png": small_png()}, "not the canvas"),
    (lambda: drawing() | {"strokes": "[]"}, "not the canvas"),
])
def test_an_empty_or_foreign_drawing_is_refused_and_changes_nothing(class_db, sent, why):
    info, _ = drawing_class()
    me, token = store.join(info.code)
    sent = sent()
    with pytest.raises(store.ClassError, match=why):
        store.submit(info.code, token, "s", me.prompt, sent["strokes"], sent["png"])
    assert store.class_info(info.code).drawings == 0 and store.rejoin(info.code, token).prompt == me.prompt


def test_nothing_is_drawn_while_the_class_is_paused_or_for_another_label(class_db):
    info, secret = drawing_class()
    me, token = store.join(info.code)
    wrong = next(label for label in info.labels if label != me.prompt)
    with pytest.raises(store.ClassError, match=f"asked to draw {me.prompt}"):
        store.submit(info.code, token, "a", wrong, **drawing())
    store.set_activity(info.code, secret, store.PAUSED)
    with pytest.raises(store.ClassError, match="not drawing"):
        store.submit(info.code, token, "b", me.prompt, **drawing())
    with pytest.raises(store.ClassError, match="no class"):
        store.join("ZZZZZZ")
    assert store.class_info(info.code).drawings == 0


def test_a_hidden_drawing_leaves_the_counts_and_the_drawings(class_db):
    info, secret = drawing_class()
    me, token = store.join(info.code)
    kept = store.submit(info.code, token, "a", me.prompt, **drawing())
    gone = store.submit(info.code, token, "b", store.rejoin(info.code, token).prompt, **drawing())
    store.hide(info.code, secret, gone.id)
    assert [d.id for d in store.class_drawings(info.code)] == [kept.id]
    assert store.class_info(info.code).drawings == 1
    assert [d.hidden for d in store.class_drawings(info.code, include_hidden=True)] == [False, True]
    assert store.hidden_flags(info.code) == {kept.id: False, gone.id: True}  # what the wall reads every change
    store.hide(info.code, secret, gone.id, hidden=False)
    assert store.class_info(info.code).drawings == 2
    assert store.hidden_flags(info.code) == {kept.id: False, gone.id: False}
