"""The wall's figures (core.classroom.stats, captions): the shipped Draw networks read a class's real drawings.

The class draws real pen digits: UNIPEN's (tests/data/unipen_fixture.jsonl, drawn on a canvas-sized picture as the
canvas draws them) and the recorded canvas payloads, each student asked for digits by the store's prompts.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.classroom import captions, stats, store
from core.nets import registry
from core.nets.inference import Predictor
from tests import class_drawings


@pytest.fixture(scope="module")
def drawn_class(tmp_path_factory):
    yield from class_drawings.real_class(tmp_path_factory)


@pytest.fixture(scope="module")
def predictors():
    return {name: Predictor.load(name) for name in registry.DRAW_MODELS}


def test_the_wall_counts_and_scores_the_class_with_the_draw_networks(drawn_class, predictors):
    code, _, fake = drawn_class
    wall = stats.class_stats(code, predictors)
    assert wall.total == 42 and sum(wall.counts.values()) == 42
    assert all(wall.counts[d] >= 4 for d in stats.DIGITS)  # every student drew every digit once
    assert [d.submission_id for d in wall.latest[:2]] == ["honest", "fake"]  # newest first
    assert [s.name for s in wall.scores] == list(registry.DRAW_MODELS)
    for score in wall.scores:
        assert score.total == 42 and score.confusion.sum() == 42 and np.trace(score.confusion) == score.right
        assert score.mnist_accuracy == registry.card(score.name)["test_accuracy"]
        # Real pen digits: the shipped networks read most, but not the stumper.
        assert 0.75 <= score.accuracy < 1
        lowest = [r.p_asked for r in score.hardest]
        assert lowest == sorted(lowest) and len(lowest) == stats.HARDEST
    # The stumper fools all three networks and comes first; the honest drawing is no stumper.
    assert wall.attempts == 2 and wall.stumpers[0].drawing.id == fake.id and wall.stumpers[0].fooled == 3
    assert "honest" not in [s.drawing.submission_id for s in wall.stumpers]


def test_the_captions_say_what_the_numbers_show(drawn_class, predictors):
    code, _, fake = drawn_class
    wall = stats.class_stats(code, predictors)
    best = wall.lead
    assert best.right == max(s.right for s in wall.scores)
    said = captions.draw_caption(wall)
    assert said.startswith(f"The {best.title} reads {round(100 * best.accuracy)}% of the class's 42 digits")
    asked, read, times = captions._most_confused(wall)
    assert f"a {asked} read as a {read} ({times}x)" in said
    assert sum(s.confusion[int(asked), int(read)] for s in wall.scores) == times
    assert captions.caption(wall) == captions.stump_caption(wall)  # the class is stumping now
    assert captions.stump_caption(wall).startswith(
        f"Of the class's 2 tries, {len(wall.stumpers)} fool at least one network and ")
    assert f"the best stumper is a {fake.label} read as " in captions.stump_caption(wall)


def test_a_hidden_drawing_leaves_every_figure(drawn_class, predictors):
    code, secret, fake = drawn_class
    before = stats.class_stats(code, predictors)
    # The drawing the DNN finds hardest after the stumper: one of UNIPEN's.
    misread = next(r.drawing for r in before.scores[0].hardest if r.drawing.id != fake.id)
    store.hide(code, secret, fake.id)
    store.hide(code, secret, misread.id)
    try:
        after = stats.class_stats(code, predictors)
        gone = {fake.id, misread.id}
        assert after.total == before.total - 2
        assert after.counts == {label: n - [fake.label, misread.label].count(label)
                                for label, n in before.counts.items()}
        assert not gone & {d.id for d in after.latest}
        assert not gone & {s.drawing.id for s in after.stumpers} and after.attempts == before.attempts - 1
        for b, a in zip(before.scores, after.scores):
            assert a.total == b.total - 2 and a.confusion.sum() == b.confusion.sum() - 2
            assert not gone & {r.drawing.id for r in a.hardest}
        assert "of the class's 40 digits" in captions.draw_caption(after)
    finally:
        store.hide(code, secret, fake.id, hidden=False)
        store.hide(code, secret, misread.id, hidden=False)
