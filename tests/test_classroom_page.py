"""The Class page through AppTest (no server, no browser): the teacher starts a class and sees the join code,
its address and the wall; a student joins by the address and is asked for a digit; a student's token opens no
teacher's screen. The hooks a browser test reads (``data-testid``, issue 31) are checked here as the page renders
them."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core.classroom import db, join, store
from tests import canvas_payloads
from tests.pages import TIMEOUT


@pytest.fixture
def class_db(tmp_path, monkeypatch):
    monkeypatch.setenv(db.DB_ENV, f"sqlite:///{tmp_path / 'classes.db'}")


def class_page(**query) -> AppTest:
    """The Class page opened at an address with ``query``."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/classroom.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def hooks(at: AppTest) -> dict[str, dict]:
    """Each ``data-testid`` the page's HTML carries: its attributes and text."""
    found = {}
    for element in at.get("html"):
        for m in re.finditer(r'<(\w+) data-testid="(vp-class[\w-]*)"([^>]*)>([^<]*)', element.proto.body):
            attrs = dict(re.findall(r'data-([\w-]+)="([^"]*)"', m.group(3)))
            found[m.group(2)] = attrs | {"text": m.group(4)}
    return found


def test_the_teacher_starts_a_class_and_sees_its_code_address_and_wall(class_db):
    at = class_page()
    next(b for b in at.button if b.label == "Start a class").click()
    at.run()
    assert not at.exception, at.exception
    [info] = store.list_classes()
    assert at.query_params["class"] == info.code and store.is_teacher(info.code, at.query_params["teacher"])
    found = hooks(at)
    assert "vp-class-teacher" in found and found["vp-class-code"]["text"] == info.code
    url = found["vp-class-join"]["url"]
    assert url.endswith(f"/{join.PAGE}?{join.JOIN}={info.code}") and "localhost" not in url and "//127." not in url
    assert found["vp-class-count"]["count"] == "0"


def test_a_student_joins_by_the_address_and_is_asked_for_their_digit(class_db):
    info, secret = store.start_class()
    at = class_page(**{join.JOIN: info.code})
    at.text_input[0].input("Ann")
    next(b for b in at.button if b.label == "Join").click()
    at.run()
    token = at.query_params["student"]
    me = store.rejoin(info.code, token)
    assert me.nickname == "Ann"
    assert "vp-class-teacher" not in hooks(at) and "Wait for your teacher" in [t.value for t in at.title]

    store.set_activity(info.code, secret, store.DRAW)
    at = class_page(**{"class": info.code, "student": token})  # the student's screen, reloaded
    found = hooks(at)
    assert found["vp-class-prompt"]["label"] == me.prompt and "vp-class-teacher" not in found
    ask = f"Draw {'an' if me.prompt == '8' else 'a'} {me.prompt}"  # "an 8"
    assert [t.value for t in at.title] == [] and ask in found["vp-class-prompt"]["text"]


def test_a_students_token_in_the_teachers_address_opens_nothing(class_db):
    info, secret = store.start_class()
    _, token = store.join(info.code)
    at = class_page(**{"class": info.code, "teacher": token})
    assert "vp-class-teacher" not in hooks(at) and not at.button and at.error
    assert store.class_info(info.code).activity == store.PAUSED


def class_with_drawings(students: int):
    """A class drawing for its data set, each of ``students`` students having sent the canvas' recorded 7."""
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    sent = canvas_payloads.sent("seven_two_strokes")
    for _ in range(students):
        me, token = store.join(info.code)
        store.submit(info.code, token, "s", me.prompt, sent["strokes"], sent["png"])
    return info, secret


def test_the_wall_counts_the_class_drawings(class_db):
    info, secret = class_with_drawings(3)
    at = class_page(**{"class": info.code, "teacher": secret})
    assert hooks(at)["vp-class-count"]["count"] == "3"


def test_the_teacher_launches_train_on_our_hands_from_the_wall(class_db, fake_engine):
    info, secret = class_with_drawings(2)
    at = class_page(**{"class": info.code, "teacher": secret})
    at.toggle(key="class_train").set_value(True).run()
    next(b for b in at.button if b.label == "Train on our hands").click()
    at.run()
    assert not at.exception and not at.error, at.error
    [run] = fake_engine
    assert run.lab == "class" and run.params["recipe"] == "class"
    assert [p.proto.text for p in at.get("progress")] == [f"Run {run.number}: queued, 0%"]


def test_a_class_store_that_cannot_be_opened_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(db.DB_ENV, "not a database")
    at = class_page()
    assert [e.value for e in at.error] == [
        f"Class mode cannot open its store: the class store at {db.DB_ENV}=not a database cannot be opened: "
        "Could not parse SQLAlchemy URL from given URL string"]
    assert not at.button


def test_a_teacher_reopens_their_class_with_the_pin_which_stays_out_of_the_address(class_db):
    info, _ = store.start_class(pin="red-fox-42")
    at = class_page()
    form = {t.label: t for t in at.text_input}
    form["Code of your class"].input(info.code.lower())
    form["Your PIN"].input("red-fox-41")
    next(b for b in at.button if b.label == "Open my class").click()
    at.run()
    assert "vp-class-teacher" not in hooks(at)
    assert [e.value for e in at.error] == ["No class here has that code and PIN."]
    form = {t.label: t for t in at.text_input}
    form["Your PIN"].input("red-fox-42")
    next(b for b in at.button if b.label == "Open my class").click()
    at.run()
    assert not at.exception, at.exception
    assert hooks(at)["vp-class-code"]["text"] == info.code and "vp-class-teacher" in hooks(at)
    assert dict(at.query_params) == {"class": info.code}  # no PIN in the address
    assert not [c for c in at.code if "red-fox" in c.value]  # nor on the screen
