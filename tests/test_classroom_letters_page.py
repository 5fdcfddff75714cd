"""Letters with many hands on the Class page (AppTest): the teacher starts the activity, the students are asked for
the letters, and after the teacher's press the wall shows one hand's head beside the class's, both read on
held-out students. The class draws real pen letters: UNIPEN's a, b and y as its alpha, beta and gamma (the shapes
a person writes them by), so the one hand is report 002's 27 letters."""

from __future__ import annotations

from collections import Counter

import pytest

from core.classroom import captions, letters, store
from core.data import unipen
from tests.class_drawings import unipen_payload
from tests.needs import needs_data
from tests.test_classroom_page import class_db, class_page, hooks  # noqa: F401 - class_db: a fixture

pytestmark = [pytest.mark.slow, needs_data(unipen.LETTERS, "greek")]
AS_GREEK = {"alpha": "a", "beta": "b", "gamma": "y"}  # the Latin letter each Greek one is written like
STUDENTS = 6


@pytest.mark.usefixtures("class_db")
def test_the_teacher_starts_letters_students_draw_them_and_the_wall_shows_both_heads():
    info, secret = store.start_class()
    teacher = class_page(**{"class": info.code, "teacher": secret})
    assert next(t for t in teacher.text_input if t.label.startswith("The letters to draw")).value == \
        "alpha, beta, gamma"
    next(b for b in teacher.button if b.label == "Start letters").click()
    teacher.run()
    assert not teacher.exception and not teacher.error, teacher.error
    assert store.class_info(info.code).activity == store.LETTERS

    pool: dict[str, list] = {}
    for record in unipen.load_unipen(file=unipen.LETTERS):
        pool.setdefault(record["writer"], []).append(record)
    writers = [w for w, mine in sorted(pool.items(), key=lambda t: -len(t[1]))
               if {"a", "b", "y"} <= {r["label"] for r in mine}][:STUDENTS]
    asked = Counter()
    for n, writer in enumerate(writers):
        me, token = store.join(info.code)
        screen = class_page(**{"class": info.code, "student": token})
        prompt = hooks(screen)["vp-class-prompt"]
        assert prompt["label"] == me.prompt and prompt["label"] in store.DEFAULT_LETTERS
        assert prompt["text"].startswith(f"Draw the letter {me.prompt} (")  # with its glyph: "(β)"
        mine = {letter: [r for r in pool[writer] if r["label"] == latin] for letter, latin in AS_GREEK.items()}
        for i in range(6):  # asked in turn: each letter twice
            letter = store.rejoin(info.code, token).prompt
            asked[letter] += 1
            store.submit(info.code, token, f"{n}-{i}", letter, **unipen_payload(mine[letter][i % len(mine[letter])]))
    assert asked == dict.fromkeys(store.DEFAULT_LETTERS, 2 * STUDENTS)

    teacher.run()
    next(b for b in teacher.button if b.label == "Teach the heads").click()
    teacher.run()
    assert not teacher.exception and not teacher.error, teacher.error
    letters.train_in_background(info.code, secret).join(timeout=120)  # the press's thread, still running or done
    teacher.run()
    found = hooks(teacher)
    one, many = found["vp-class-letters-one"], found["vp-class-letters-class"]
    result = letters.latest(info.code)
    assert float(one["accuracy"]) == pytest.approx(result.one_hand.accuracy, abs=1e-4)
    assert float(many["accuracy"]) == pytest.approx(result.many_hands.accuracy, abs=1e-4)
    assert one["read"] == many["read"] == str(result.many_hands.read) != "0"
    assert result.one_hand.taught_by == letters.REPORT_HAND and result.one_hand.drawings == 27
    said = [s.value for s in teacher.subheader]
    assert captions.letters_caption(result) in said  # the wall's sentence, from the figures
    assert f"the head taught by {letters.REPORT_HAND} (27 drawings) {float(one['accuracy']):.0%}" in \
        captions.letters_caption(result)
