"""Class mode in real browsers (issue 31): a teacher and three students, each in a browser context of their own
(one a phone with touch), join by code, draw the asked digit on the app's canvas and send it; the teacher's wall
counts every drawing and the teacher's Export downloads them as a zip; a student's screen has no teacher's control,
also not with their token in the teacher's address. Slow: one app server and Chromium."""

from __future__ import annotations

import json
import zipfile

import pytest

from bench.harness import browser
from core.classroom import db, store
from core.images import strokes

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
HOOK = '[data-testid="{}"]'


def hook(page, testid: str, timeout: float = 120_000):
    element = page.locator(HOOK.format(testid)).first
    element.wait_for(timeout=timeout)
    return element


def test_a_teacher_and_three_students_draw_together(tmp_path, unipen):
    home = str(tmp_path / "home")
    by_label = {}
    for record in unipen:
        by_label.setdefault(str(record["label"]), record)
    with browser.browser() as chromium, browser.serve(env={"VP_HOME": home}) as (url, _):
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


def test_a_student_who_opens_the_join_address_again_is_the_same_student(tmp_path, unipen, monkeypatch):
    """The browser keeps the student's token (localStorage): the join address opened again, or an address that
    lost its token, brings back the same student with their drawing counted once; another browser is a new
    student."""
    address = f"sqlite:///{tmp_path / 'classes.db'}"
    monkeypatch.setenv(db.DB_ENV, address)  # this test and its server share the class store
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    with browser.browser() as chromium, browser.serve(env={db.DB_ENV: address}) as (url, _):
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
