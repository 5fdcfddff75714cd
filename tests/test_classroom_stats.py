"""The wall's figures (core.classroom.stats, captions): the shipped Draw networks read a class's real drawings.

The class draws real pen digits: UNIPEN's (tests/data/unipen_fixture.jsonl, drawn on a canvas-sized picture as the
canvas draws them) and the recorded canvas payloads, each student asked for digits by the store's prompts.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.classroom import captions, db, keys, stats, store
from core.nets import registry
from core.nets.inference import Predictor
from tests import class_drawings
from tests.needs import needs_data


@pytest.fixture(scope="module")
def drawn_class(tmp_path_factory):
    yield from class_drawings.real_class(tmp_path_factory)


@pytest.fixture(scope="module")
def many_hands(tmp_path_factory):
    from core.data import unipen

    yield from class_drawings.many_hands(tmp_path_factory, unipen.load_unipen())


@pytest.fixture(scope="module")
def predictors():
    return {name: Predictor.load(name) for name in registry.DRAW_MODELS}


@pytest.mark.slow
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
    # The three read the same 41 of the 42 digits: no network leads, the caption says so.
    assert {s.right for s in wall.scores} == {41} and wall.lead is None and len(wall.front) == 3
    said = captions.draw_caption(wall)
    assert said.startswith(f"The {captions._and([s.title for s in wall.front])} each read 98% of the class's 42 "
                           "digits")
    asked, read, times = captions._most_confused(wall)
    assert f"a {asked} read as a {read} ({times}x)" in said
    assert sum(s.confusion[int(asked), int(read)] for s in wall.scores) == times
    assert captions.confusion_title(wall) == "How the 3 networks together read the class's digits (they are level)"
    assert (wall.confusion == sum(s.confusion for s in wall.scores)).all()
    assert captions.caption(wall) == captions.stump_caption(wall)  # the class is stumping now
    assert captions.stump_caption(wall).startswith(
        f"Of the class's 2 tries, {len(wall.stumpers)} fool at least one network and ")


def test_a_stumpers_caption_says_which_network_read_what(drawn_class, predictors):
    code, _, fake = drawn_class
    wall = stats.class_stats(code, predictors)
    best = wall.stumpers[0]
    sent = class_drawings.stumper_digit(fake.label)  # what every network reads in the stumper's drawing
    assert best.drawing.id == fake.id and set(best.reads.values()) == {sent}
    said = f"DNN read {sent}, ConvNet read {sent}, ResNet read {sent}; asked for " + fake.label
    assert captions.what_each_read(wall, best) == said
    assert captions.stump_caption(wall).endswith(f"; the best stumper: {said}.")
    # The hardest drawings of networks that are level: each network's reading of each, from its probabilities.
    digits = [d for d in store.class_drawings(code) if d.label in stats.DIGITS]
    probs = stats.read_drawings(digits, predictors)
    assert len(wall.hardest) == stats.HARDEST
    for hard in wall.hardest:
        i = [d.id for d in digits].index(hard.drawing.id)
        reads = ", ".join(f"{registry.get(n).title} read {int(probs[n][i].argmax())}" for n in registry.DRAW_MODELS)
        assert captions.what_each_read(wall, hard) == f"{reads}; asked for {hard.drawing.label}"


def test_below_the_minimum_the_wall_says_what_is_still_missing(drawn_class, predictors):
    """The class's first drawings, as the wall sees them while they come in (one student draws ten, then the next):
    until MIN_DRAWINGS digits from MIN_STUDENTS students, no network leads, no confusion matrix, and the caption
    counts what is missing."""
    code, _, _ = drawn_class
    info, shown = store.class_info(code), store.class_drawings(code)
    said = {}
    for k in range(1, len(shown) + 1):
        wall = stats.drawings_stats(info, shown[:k], predictors)
        students = len({d.student for d in shown[:k]})
        if k < stats.MIN_DRAWINGS or students < stats.MIN_STUDENTS:
            assert wall.missing == (max(0, stats.MIN_DRAWINGS - k), max(0, stats.MIN_STUDENTS - students))
            assert wall.lead is None and not wall.front and captions.confusion_title(wall) is None
            said[k] = captions.draw_caption(wall)
            assert " reads " not in said[k] and "level" not in said[k] and "mistake" not in said[k]
        else:
            assert wall.enough and captions.confusion_title(wall) is not None
    assert stats.MIN_DRAWINGS == 30 and stats.MIN_STUDENTS == 3
    assert said[1] == ("1 digit from 1 student so far: 29 more drawings and 2 more students to compare the "
                       "networks fairly (at least 30 digits from 3 students).")
    assert said[18].startswith("18 digits from 2 students so far: 12 more drawings and 1 more student to compare")
    assert said[29].startswith("29 digits from 3 students so far: 1 more drawing to compare the networks fairly")
    assert set(said) == set(range(1, 30))  # from the 30th digit (the third student's 10th) the wall compares


def scores_of(*correct: list[int]) -> list[stats.NetworkScore]:
    """Networks that read the same drawings, right (1) or wrong (0) in turn."""
    return [stats.NetworkScore(f"n{i}", f"N{i}", sum(c), len(c), None, np.zeros((10, 10), int),
                               correct=np.array(c, bool)) for i, c in enumerate(correct)]


def test_a_network_beats_another_only_beyond_chance():
    """McNemar's rule on the drawings the two read differently: wins - losses > 2 sqrt(wins + losses)."""
    same = [1] * 40
    a, b = scores_of(same, same)
    assert not stats.beats(a, b) and not stats.beats(b, a)  # a tie is never a lead
    a, b = scores_of([1] * 36 + [1] * 4, [1] * 36 + [0] * 4)
    assert not stats.beats(a, b)  # 4 to 0: 4 is not above 2 * sqrt(4)
    a, b = scores_of([1] * 35 + [1] * 5, [1] * 35 + [0] * 5)
    assert stats.beats(a, b) and not stats.beats(b, a)  # 5 to 0: above 2 * sqrt(5) = 4.5
    a, b = scores_of([1] * 20 + [0] * 10 + [1] * 10, [0] * 20 + [1] * 10 + [1] * 10)
    assert not stats.beats(a, b)  # 20 to 10: 10 is not above 2 * sqrt(30) = 11


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


def test_the_wall_makes_its_figures_again_only_when_the_class_changed(drawn_class, predictors):
    code, secret, fake = drawn_class
    first = stats.class_stats(code, predictors)
    assert stats.class_stats(code, predictors) is first  # a quiet second: the figures it had
    oldest = store.class_drawings(code)[0]
    store.hide(code, secret, fake.id)
    try:
        hidden = stats.class_stats(code, predictors)
        assert hidden is not first and hidden.total == first.total - 1
        assert fake.id not in {d.id for d in hidden.latest}
        # One drawing shown again and another hidden between two looks: the same count, other figures.
        store.hide(code, secret, fake.id, hidden=False)
        store.hide(code, secret, oldest.id)
        swapped = stats.class_stats(code, predictors)
        assert swapped.total == hidden.total and fake.id in {d.id for d in swapped.latest}
    finally:
        store.hide(code, secret, fake.id, hidden=False)
        store.hide(code, secret, oldest.id, hidden=False)
    assert stats.class_stats(code, predictors).total == first.total


def test_the_wall_fetches_only_drawings_it_has_not_read_and_misses_none_committed_late(drawn_class, predictors,
                                                                                      monkeypatch):
    code, _, _ = drawn_class
    first = stats.class_stats(code, predictors)
    # A drawing committed after a newer one (two Sends at once on PostgreSQL): this server has not read it, though
    # it read drawings with higher ids.
    started, kept = stats._DRAWN[db.url(), keys.normal_code(code)]
    late = sorted(kept)[len(kept) // 2]
    del kept[late]
    stats._FIGURES.clear()
    fetched, fetch = [], store.class_drawings
    monkeypatch.setattr(store, "class_drawings", lambda *a, **k: fetched.append(k["since_id"]) or fetch(*a, **k))
    again = stats.class_stats(code, predictors)
    assert fetched == [late - 1]  # the rows from the late one on, not the whole class
    assert late in stats._DRAWN[db.url(), keys.normal_code(code)][1]
    assert again.total == first.total and [d.id for d in again.latest] == [d.id for d in first.latest]
    assert [(s.right, s.total) for s in again.scores] == [(s.right, s.total) for s in first.scores]
    stats._FIGURES.clear()
    assert stats.class_stats(code, predictors).total == first.total and fetched == [late - 1]  # nothing new: no rows


def leads_through(lesson: list[store.Drawing], info: store.ClassInfo, predictors) -> list[str | None]:
    """The network the wall names after each drawing of ``lesson`` arrives (None: none leads)."""
    return [getattr(stats.drawings_stats(info, lesson[:k], predictors).lead, "name", None)
            for k in range(1, len(lesson) + 1)]


@pytest.mark.slow
@needs_data("unipen_dev_digits.jsonl")
def test_the_wall_names_a_lead_only_beyond_chance_and_never_switches_it_mid_lesson(many_hands, predictors):
    """A class of 27 UNIPEN writers, each sending their own digits as the store asks (431 drawings), as the wall
    sees them arrive: in the order the class sent them, and in two other orders (other lessons of the same hands).
    The three Draw networks read 98-99% of them: the wall calls them level throughout, whatever the order. (The wall
    that named the network with most right, ties to the best on MNIST, named the ResNet, then the ConvNet, then
    the DNN, then the ResNet again in one of these lessons.)"""
    code, _ = many_hands
    info, shown = store.class_info(code), store.class_drawings(code)
    assert len(shown) == 431 and len({d.student for d in shown}) == 27
    for order in range(3):
        lesson = list(shown)
        random.Random(order).shuffle(lesson) if order else None
        named = {name for name in leads_through(lesson, info, predictors) if name}
        assert len(named) <= 1, (order, named)
    wall = stats.drawings_stats(info, shown, predictors)
    assert wall.lead is None and [s.right for s in wall.front] == [425, 424, 421]
    assert captions.draw_caption(wall).startswith(
        "The ResNet, ConvNet and DNN are level on the class's 431 digits: they read 425, 424 and 421 of them, a "
        "difference chance alone could make")


@pytest.mark.slow
@needs_data("unipen_dev_digits.jsonl")
def test_a_network_that_reads_the_class_clearly_better_is_named(many_hands, predictors):
    """Beside Net 002 (report 002's network), which misreads 21 of the class's 431 digits, the ResNet (6) leads: the
    wall names it once the readings they differ on say so beyond chance, and never names Net 002."""
    code, _ = many_hands
    info, shown = store.class_info(code), store.class_drawings(code)
    pair = {"resnet": predictors["resnet"], "net002": Predictor.load("net002")}
    named = leads_through(shown, info, pair)
    first = named.index("resnet")
    assert set(named) == {None, "resnet"} and named[-1] == "resnet"
    early = stats.drawings_stats(info, shown[:first], pair)
    resnet, net002 = early.scores
    assert early.enough and not stats.beats(resnet, net002)  # one drawing earlier, not yet beyond chance
    wall = stats.drawings_stats(info, shown, pair)
    assert [s.right for s in wall.scores] == [425, 410]
    assert captions.draw_caption(wall).startswith("The ResNet reads 99% of the class's 431 digits")
    assert captions.confusion_title(wall) == "How the ResNet reads the class's digits"
    assert captions.hardest_title(wall) == "Hardest for the ResNet"
