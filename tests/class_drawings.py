"""A class of real pen digits for the class-mode tests: UNIPEN's (tests/data/unipen_fixture.jsonl, drawn as the
canvas draws them) and a recorded canvas payload, each student asked for digits by the store's prompts."""

from __future__ import annotations

import json

import pytest

from bench.harness.pen import class_of_writers, unipen_payload
from core.classroom import db, store
from tests import canvas_payloads
from tests.conftest import UNIPEN_FIXTURE

STUMPERS = {"7": "seven_two_strokes", "3": "three_one_stroke"}  # the recorded drawings a stumper sends, by digit


def stumper_digit(prompt: str) -> str:
    """The digit the stumper of ``real_class`` draws when asked for ``prompt``: a 7, or a 3 when asked for a 7."""
    return "7" if prompt != "7" else "3"


def real_class(tmp_path_factory):
    """A generator for a module's fixture: a class in a store of its own where four students each draw every digit
    once (UNIPEN's), then one tries to stump the networks; yields (code, teacher's secret, the stumper)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(db.DB_ENV, f"sqlite:///{tmp_path_factory.mktemp('class') / 'classes.db'}")
        pool = {}
        for line in UNIPEN_FIXTURE.read_text().splitlines():
            record = json.loads(line)
            pool.setdefault(str(record["label"]), []).append(record)
        info, secret = store.start_class()
        store.set_activity(info.code, secret, store.DRAW)
        for n in range(4):
            me, token = store.join(info.code, f"student {n}")
            for i in range(10):
                prompt = store.rejoin(info.code, token).prompt
                store.submit(info.code, token, f"{n}-{i}", prompt, **unipen_payload(pool[prompt][n]))
        store.set_activity(info.code, secret, store.STUMP)
        me, token = store.join(info.code, "stumper")
        # A 7 sent when asked for another digit (a 3 when asked for a 7): all three networks read it, so it fools
        # them all (a teacher would hide it: no person reads it as the digit asked). A real 1 sent for a 1 fools none.
        prompt = store.rejoin(info.code, token).prompt
        sent = canvas_payloads.sent(STUMPERS[stumper_digit(prompt)])
        fake = store.submit(info.code, token, "fake", prompt, sent["strokes"], sent["png"])
        prompt = store.rejoin(info.code, token).prompt
        store.submit(info.code, token, "honest", prompt, **unipen_payload(pool[prompt][0]))
        yield info.code, secret, fake




def many_hands(tmp_path_factory, unipen: list[dict]):
    """A generator for a module's fixture: a class in a store of its own where each UNIPEN writer of ``unipen`` is
    a student, drawing in turns, each sending one of their own digits of the label the store asks them for, until
    none of them has the digit asked left; the store's prompts draw from a seeded chance. Yields (code, secret)."""
    import random

    from core.classroom import prompts

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(db.DB_ENV, f"sqlite:///{tmp_path_factory.mktemp('class') / 'classes.db'}")
        mp.setattr(prompts, "random", random.Random(0))
        yield class_of_writers(unipen)
