"""The Class page through AppTest (no server, no browser): the teacher starts a class and sees the join code,
its address and the wall; a student joins by the address and is asked for a digit; a student's token opens no
teacher's screen. The hooks a browser test reads (``data-testid``, issue 31) are checked here as the page renders
them."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import Counter

import pyarrow
import pytest
from streamlit.testing.v1 import AppTest

from bench import bench_class
from core.classroom import db, export, join, stats, store
from tests import canvas_payloads
from tests.pages import TIMEOUT


@pytest.fixture
def class_db(tmp_path, monkeypatch):
    monkeypatch.setenv(db.DB_ENV, f"sqlite:///{tmp_path / 'classes.db'}")


def class_page(answered: bool = True, **query) -> AppTest:
    """The Class page opened at an address with ``query``, in a browser that keeps no student of the class: what
    the page's storage component (app_pages/ui/class_student.py) sends when the storage has no token for it;
    not ``answered``: before the browser's answer reached the server."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/classroom.py")
    for key, value in query.items():
        at.query_params[key] = value
    code = query.get(join.JOIN) or query.get("class")
    if code and answered:
        at.session_state[f"vp_class_student_{code}"] = {"token": ""}
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


def test_a_request_with_the_join_address_after_the_tap_brings_back_the_student_who_joined(class_db):
    """A request that reaches the server after the tap (a reconnection) carries the join address the browser still
    showed: the session's student comes back, named, with no join form to tap a second student into being."""
    info, secret = store.start_class()
    at = class_page(**{join.JOIN: info.code})
    at.text_input[0].input("Ann")
    next(b for b in at.button if b.label == "Join").click()
    at.run()
    token = at.query_params["student"]
    for key in list(at.query_params):
        del at.query_params[key]
    at.query_params[join.JOIN] = info.code  # the address the browser still shows
    at.run()
    assert not at.exception, at.exception
    assert "Join" not in [b.label for b in at.button] and at.query_params["student"] == token
    assert [s.nickname for s in store.roster(info.code, secret)] == ["Ann"]


def test_the_join_address_offers_no_form_before_the_browser_said_what_it_keeps(class_db):
    """A tap before the browser's answer would race it (tests/test_classroom_browser.py shows the lost join)."""
    info, _ = store.start_class()
    for query in ({join.JOIN: info.code}, {"class": info.code}):
        at = class_page(answered=False, **query)
        assert not at.button and not at.text_input and at.caption[0].value == "Opening the class in this browser…"
        at.session_state[f"vp_class_student_{info.code}"] = {"token": ""}  # the browser keeps no token
        at.run()
        assert "Join" in [b.label for b in at.button] and not at.exception


def canvas(at: AppTest):
    """The student's canvas on the page (components v2): its proto, with its id and the data it was given."""
    [found] = [e.proto for e in at.get("bidi_component") if e.proto.component_name.endswith("vp_canvas")]
    return found


def press_send(at: AppTest, drawing: dict) -> AppTest:
    """The canvas' Send pressed with ``drawing`` on it: the request Chromium sends (recorded, ``seven_send``), as
    the bench's students send it (``bench_class.send_widgets``)."""
    states = at._tree.get_widget_states()  # the page's other widgets, as the browser sends them with it
    for widget_id, value_field, value in bench_class.send_widgets(canvas(at).id, drawing):
        state = states.widgets.add()
        state.id = widget_id
        setattr(state, value_field, value)
    at._run(states)
    assert not at.exception, at.exception
    return at


def test_a_students_send_stores_the_whole_drawing_and_answers_with_a_blank_canvas(class_db):
    """Strokes stay in the browser (no request each); Send sends the whole drawing as one trigger, which is stored
    as sent, counted once on the student's screen, and answered with a new, blank canvas and the next prompt."""
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    me, token = store.join(info.code, "Ann")
    at = class_page(**{"class": info.code, "student": token})
    first = canvas(at)
    assert json.loads(first.json)["send"] == "Send" and "Send" not in [b.label for b in at.button]
    sent = canvas_payloads.sent("seven_send")
    assert len(sent["strokes"]) == 2  # the whole 7: both its strokes, sent at once
    press_send(at, sent)
    [stored] = store.class_drawings(info.code)
    assert (stored.label, stored.strokes, stored.png_data_url) == (me.prompt, sent["strokes"], sent["png"])
    after = store.rejoin(info.code, token)
    assert f"Class {info.code} · you are Ann · drawings sent: 1" in [c.value for c in at.caption]
    assert hooks(at)["vp-class-prompt"]["label"] == after.prompt != me.prompt
    assert canvas(at).id != first.id and json.loads(canvas(at).json)["strokes"] == []  # a new, blank canvas
    at.run()  # the page again (the student's screen following the class): nothing sent twice
    assert store.class_info(info.code).drawings == 1 and store.rejoin(info.code, token).drawings == 1


def type_the_teachers_pin(at: AppTest, pin: str) -> AppTest:
    """Type ``pin`` in the join page's "I am the teacher" field and send it."""
    field = next(t for t in at.text_input if t.label == "The PIN you chose when you started the class")
    field.input(pin)
    next(b for b in at.button if b.label == "Open the teacher's screen").click()
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_a_students_token_in_the_teachers_address_opens_nothing(class_db):
    info, secret = store.start_class(pin="red-fox-42")
    _, token = store.join(info.code)
    at = class_page(**{"class": info.code, "teacher": token})
    assert "vp-class-teacher" not in hooks(at) and not at.button and at.error
    # Nor in the "I am the teacher" field of the join page: neither the token nor a wrong PIN.
    for guess in (token, "red-fox-41", ""):
        at = type_the_teachers_pin(class_page(**{join.JOIN: info.code}), guess)
        assert [e.value for e in at.error] == ["No class here has that code and PIN."]
        assert "vp-class-teacher" not in hooks(at) and dict(at.query_params) == {join.JOIN: info.code}
        assert "class_pins" not in at.session_state  # no PIN kept in this session
    assert store.class_info(info.code).activity == store.PAUSED


def test_the_teacher_opens_their_screen_from_the_join_address_with_the_pin(class_db):
    info, _ = store.start_class(pin="red-fox-42")
    at = class_page(**{join.JOIN: info.code})  # the address of the QR code, opened on the teacher's phone
    assert "vp-class-teacher" not in hooks(at)
    at = type_the_teachers_pin(at, "red-fox-42")
    assert not at.error and "vp-class-teacher" in hooks(at) and hooks(at)["vp-class-code"]["text"] == info.code
    assert dict(at.query_params) == {"class": info.code}  # no PIN in the address
    assert not [c for c in at.code if "red-fox" in c.value]  # nor on the screen


def class_with_drawings(students: int):
    """A class drawing for its data set, each of ``students`` students having sent the canvas' recorded 7."""
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    sent = canvas_payloads.sent("seven_two_strokes")
    for n in range(students):
        me, token = store.join(info.code, f"Kid {n}")
        store.submit(info.code, token, "s", me.prompt, sent["strokes"], sent["png"])
    return info, secret


def test_the_wall_counts_the_class_drawings_and_concludes_nothing_from_three(class_db):
    info, secret = class_with_drawings(3)
    at = class_page(**{"class": info.code, "teacher": secret})
    assert hooks(at)["vp-class-count"]["count"] == "3"
    missing = stats.MIN_DRAWINGS - 3
    assert (
        f"3 digits from 3 students so far: {missing} more drawings to compare the networks fairly (at least "
        f"{stats.MIN_DRAWINGS} digits from {stats.MIN_STUDENTS} students).") in [h.value for h in at.subheader]
    assert not at.get("plotly_chart")  # no confusion matrix of three drawings
    [bars] = at.get("vega_lite_chart")  # the drawings of each digit asked
    drawn = Counter(d.label for d in store.class_drawings(info.code))
    shown = pyarrow.ipc.open_stream(bars.proto.data.data).read_all().to_pylist()
    assert {v["label"]: v["drawings"] for v in shown} == {label: drawn[label] for label in info.labels}
    assert f"The confusion matrix comes with {missing} more drawings." in [c.value for c in at.caption]
    assert "Hardest for the networks" in [h.value for h in at.subheader]


def test_the_teacher_exports_the_class_as_a_zip_from_the_wall(class_db, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    made = {}  # what the download button makes when the teacher presses it, by the id the browser asks for
    add = MediaFileManager.add_deferred

    def keep(self, data, *args, **kwargs):
        file_id = add(self, data, *args, **kwargs)
        made[file_id] = data
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    info, secret = class_with_drawings(3)
    nicknames = [s.nickname for s in store.roster(info.code, secret)]
    at = class_page(**{"class": info.code, "teacher": secret})
    [button] = [b for b in at.get("download_button") if b.proto.label == "Export the class's drawings"]
    zipped = made[button.proto.deferred_file_id]()
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        names = archive.namelist()
        card = json.loads(archive.read("card.json"))
        text = b"".join(archive.read(n) for n in names if not n.endswith(".png")).decode()
    assert sorted(n for n in names if n.startswith("images/")) == sorted(
        f"images/{d.label}/{d.student}-{d.id}.png" for d in store.class_drawings(info.code))
    assert {"strokes.jsonl", "card.json", "README.md"} <= set(names)
    assert card["drawings"] == 3 and card["students"] == 3 and sum(card["labels"].values()) == 3
    assert nicknames == ["Kid 0", "Kid 1", "Kid 2"] and not [n for n in nicknames if n in text]


def test_a_student_cannot_export_the_class(class_db):
    info, _ = class_with_drawings(1)
    _, token = store.join(info.code, "Kid")
    with pytest.raises(store.NotAllowed):
        export.class_zip(info.code, token)


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


def test_an_activity_started_on_another_device_is_not_set_back_by_this_teachers_picker(class_db):
    info, secret = store.start_class()
    at = class_page(**{"class": info.code, "teacher": secret})
    assert store.class_info(info.code).activity != store.STUMP
    store.set_activity(info.code, secret, store.STUMP)  # the teacher's laptop, while the projector shows the wall
    at.run()
    assert not at.exception, at.exception
    assert store.class_info(info.code).activity == store.STUMP
    [picker] = [w for w in at.get("button_group") if w.label == "Activity"]
    assert picker.value == store.STUMP


@pytest.mark.slow
def test_after_five_wrong_pins_the_page_says_the_class_is_locked_and_for_how_long(class_db):
    info, _ = store.start_class(pin="red-fox-42")
    at = class_page()
    for n in range(store.PIN_GUESSES + 1):
        form = {t.label: t for t in at.text_input}
        form["Code of your class"].input(info.code)
        form["Your PIN"].input("red-fox-42" if n == store.PIN_GUESSES else f"red-fox-{n}")
        next(b for b in at.button if b.label == "Open my class").click()
        at.run()
    assert "vp-class-teacher" not in hooks(at)
    assert [e.value for e in at.error] == [
        f"Too many wrong PINs for class {info.code}: its PIN opens nothing for 10 more minutes (the teacher's own "
        "address still does)."]
