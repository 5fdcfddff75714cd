"""Class mode in real browsers (issue 31): a teacher and three students, each in a browser context of their own
(one a phone with touch), join by code, draw the asked digit on the app's canvas and send it; the teacher's wall
counts every drawing and the teacher's Export downloads them as a zip; a student's screen has no teacher's control,
also not with their token in the teacher's address. Slow: one app server and Chromium."""

from __future__ import annotations

import json
import zipfile

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from bench.harness import browser
from core.classroom import db, store
from core.images import strokes
from tests.busy import stretched

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
HOOK = '[data-testid="{}"]'


def hook(page, testid: str, timeout: float = 120_000):
    element = page.locator(HOOK.format(testid)).first
    element.wait_for(timeout=timeout)
    return element


@pytest.fixture(scope="module")
def class_app(tmp_path_factory):
    """One app server and one Chromium for the file's tests, on a class store of their own: ``(url, chromium,
    the store's address)``. Each test starts a class of its own in it (a server and a browser each cost another
    start of Streamlit, TensorFlow and Chromium)."""
    address = f"sqlite:///{tmp_path_factory.mktemp('class_store') / 'classes.db'}"
    with browser.browser() as chromium, browser.serve(env={db.DB_ENV: address}) as (url, _):
        yield url, chromium, address


@pytest.fixture
def class_server(class_app, monkeypatch):
    """``(url, chromium)`` of the file's server, with this test process on the same class store. The test's
    browser contexts are closed after it: a teacher's wall left open would go on refreshing through the next."""
    url, chromium, address = class_app
    monkeypatch.setenv(db.DB_ENV, address)
    yield url, chromium
    for context in chromium.contexts:
        context.close()


def test_a_teacher_and_three_students_draw_together(class_server, tmp_path, unipen):
    url, chromium = class_server
    by_label = {}
    for record in unipen:
        by_label.setdefault(str(record["label"]), record)
    teacher = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    teacher.set_default_timeout(120_000)  # the first page a fresh server serves loads TensorFlow
    teacher.goto(f"{url}/class")
    teacher.get_by_role("button", name="Start a class").click()
    code = hook(teacher, "vp-class-code").inner_text().strip()
    address = hook(teacher, "vp-class-join").get_attribute("data-url")
    assert address.endswith(f"/class?join={code}") and "127.0.0.1" not in address and "localhost" not in address
    teacher.get_by_text("Draw for our data set").click()

    students = []
    for i, options in enumerate([PHONE, {}, {}]):
        page = chromium.new_context(**options).new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{url}/class?join={code}")  # the join address, on this test's server
        page.get_by_label("Your nickname").fill(f"student {i}")
        page.get_by_role("button", name="Join").click()
        students.append(page)
    for page in students:
        label = hook(page, "vp-class-prompt").get_attribute("data-label")
        assert page.locator(HOOK.format("vp-class-teacher")).count() == 0
        browser.draw(page, strokes.canvas_paths(by_label[label]), browser.canvas_box(page))
        page.get_by_role("button", name="Send").click()
        page.get_by_text("drawings sent: 1").wait_for(timeout=60_000)
    teacher.wait_for_function(f"() => document.querySelector('{HOOK.format('vp-class-count')}')"
                              "?.dataset.count === '3'", timeout=60_000)
    browser.wait_for_images(teacher)
    teacher.screenshot(path=browser.screenshot_path("class_wall.png", tmp_path), full_page=True)
    students[0].screenshot(path=browser.screenshot_path("class_phone.png", tmp_path))
    with teacher.expect_download() as download:  # the zip is made when the teacher presses
        teacher.get_by_role("button", name="Export the class's drawings").click()
    assert download.value.suggested_filename == f"class-{code}.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        card = json.loads(archive.read("card.json"))
        text = b"".join(archive.read(n) for n in archive.namelist() if not n.endswith(".png")).decode()
        assert len([n for n in archive.namelist() if n.startswith("images/")]) == 3
    assert card["drawings"] == 3 and card["students"] == 3 and "student 0" not in text  # no nicknames

    # A student who puts their own token in the teacher's address gets no teacher's screen.
    token = students[0].url.split("student=")[1].split("&")[0]
    students[0].goto(f"{url}/class?class={code}&teacher={token}")
    students[0].get_by_text("not the teacher's address").wait_for(timeout=60_000)
    assert students[0].locator(HOOK.format("vp-class-teacher")).count() == 0
    # Reloaded with their own address, they are the same student with their drawing.
    students[1].reload()
    students[1].get_by_text("drawings sent: 1").wait_for(timeout=60_000)


def test_a_student_who_opens_the_join_address_again_is_the_same_student(class_server, unipen):
    """The browser keeps the student's token (localStorage): the join address opened again, or an address that
    lost its token, brings back the same student with their drawing counted once; another browser is a new
    student."""
    url, chromium = class_server
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{url}/class?join={info.code}")
    page.get_by_role("button", name="Join").click()
    label = hook(page, "vp-class-prompt").get_attribute("data-label")
    record = next(r for r in unipen if str(r["label"]) == label)
    browser.draw(page, strokes.canvas_paths(record), browser.canvas_box(page))
    page.get_by_role("button", name="Send").click()
    page.get_by_text("drawings sent: 1").wait_for(timeout=60_000)
    [me] = store.roster(info.code, secret)
    token = page.url.split("student=")[1].split("&")[0]

    for again in (f"{url}/class?join={info.code}", f"{url}/class?class={info.code}"):
        page = context.new_page()  # a new tab: a new session of the same browser
        page.goto(again)
        page.get_by_text(f"you are {me.pseudonym} · drawings sent: 1").wait_for(timeout=60_000)
        assert f"student={token}" in page.url
        assert store.class_info(info.code).students == 1 and store.class_info(info.code).drawings == 1

    other = chromium.new_context().new_page()  # another browser: a new student
    other.goto(f"{url}/class?join={info.code}")
    other.get_by_role("button", name="Join").click()
    other.get_by_text("drawings sent: 0").wait_for(timeout=60_000)
    assert store.class_info(info.code).students == 2 and store.class_info(info.code).drawings == 1
    assert me.pseudonym not in other.get_by_text("drawings sent: 0").inner_text()


def rerun_widgets(message) -> list | None:
    """The widget states a message from the browser carries when it asks for a whole page's rerun, else None."""
    if not isinstance(message, bytes):
        return None
    request = BackMsg.FromString(message)
    if not request.HasField("rerun_script") or request.rerun_script.fragment_id:
        return None
    return list(request.rerun_script.widget_states.widgets)


def tapped(widgets) -> bool:
    """Whether a rerun request is a button's press (a trigger set)."""
    return any(w.WhichOneof("value") == "trigger_value" and w.trigger_value for w in widgets)


class SlowStorageAnswer:
    """A phone slow to run the page's scripts: its answer from storage (the rerun request that carries the state
    of ``class_student``'s component) is held back and reaches the server only after the page's next request
    (the student's tap), or when ``release`` is called."""

    def __init__(self, page, code: str):
        self.answer, self.held, self.server = f"vp_class_student_{code}", [], None
        self.holding = True  # the first answer alone: a later request that carries the component's state (a
        # reconnection on a busy machine) goes up as it comes, or held after the tap it would stand for another race
        page.route_web_socket("**/_stcore/stream", self.route)

    def is_answer(self, message) -> bool:
        widgets = rerun_widgets(message) or []
        return any(w.id.endswith(self.answer) for w in widgets) and not tapped(widgets)

    def route(self, ws) -> None:
        self.server = ws.connect_to_server()

        def up(message):
            if self.holding and self.is_answer(message):
                self.held.append(message)
                self.holding = False
                return
            self.server.send(message)
            self.release()  # the tap went first; the answer follows it

        ws.on_message(up)
        self.server.on_message(ws.send)

    def release(self) -> None:
        while self.held:
            self.server.send(self.held.pop())


def test_a_student_who_taps_join_before_the_browser_answered_is_joined_once(class_server):
    """The join address asks the browser for the token it keeps, a rerun request of its own. A Join tapped
    before that answer reached the server must still join, once, to the student's screen: Streamlit runs the
    newest request, so an answer arriving after the tap interrupted the tap's run or undid its move to the
    student's address (a student in the store, the join form still on the phone; seen in CI on a busy machine)."""
    url, chromium = class_server
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    page = chromium.new_context().new_page()
    page.set_default_timeout(120_000)  # run alone, its page is the fresh server's first: TensorFlow loads
    slow = SlowStorageAnswer(page, info.code)
    page.goto(f"{url}/class?join={info.code}")
    page.get_by_text(f"Join class {info.code}").wait_for()
    for _ in range(int(stretched(100))):  # the answer follows the page's first run at once: wait until held
        if slow.held:
            break
        page.wait_for_timeout(100)
    assert slow.held, "the browser did not answer from its storage"
    page.wait_for_timeout(stretched(2_000))  # the page as it stands while the answer is on its way
    join = page.get_by_role("button", name="Join")
    if not join.is_visible():  # nothing to tap before the answer: let it through, then tap
        slow.release()
    join.click()
    page.get_by_text("drawings sent: 0").wait_for(timeout=stretched(30_000))
    assert "student=" in page.url and store.class_info(info.code).students == 1
