"""core.explain.stroke_importance.leave_one_out: the drawing read again without each of its strokes."""

import numpy as np
import pytest

from core.data import unipen
from core.explain import stroke_importance
from core.explain.stroke_importance import leave_one_out
from core.images import preprocess, strokes
from core.nets.inference import Predictor
from tests.conftest import UNIPEN_FIXTURE


def pen_stroke(points, width: int = 18) -> dict:
    """One stroke as the canvas sends it (tests/data/canvas_payloads.json has real ones)."""
    return {"points": [list(p) for p in points], "width": width}


def line(a, b, n: int = 8) -> list[tuple[float, float]]:
    return [(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for t in np.linspace(0.0, 1.0, n)]


BAR = line((80, 60), (200, 60))  # a 7: the bar, then the stem
STEM = line((200, 60), (120, 230))
CROSSBAR = line((130, 150), (185, 150))  # the bar across a European 7's stem


def drawing(*paths, width: int = 18) -> list[dict]:
    return [pen_stroke(p, width) for p in paths]


def read(predictor, drawn) -> np.ndarray:
    gray = strokes.render_strokes(strokes.canvas_strokes(drawn))
    return predictor.predict(preprocess.from_canvas(preprocess.scale_pixels(gray)).image)[0]


class Recording:
    """A stand-in network: answers class ``ink % 10`` with probability 0.9 and records what it is shown."""

    shape = (28, 28, 1)

    def __init__(self):
        self.seen = []

    def predict(self, image):
        self.seen.append(np.array(image))
        probs = np.full(10, 0.1 / 9, np.float32)
        probs[int(round(float(np.sum(image)))) % 10] = 0.9
        return probs, 0.1


def test_each_stroke_left_out_in_turn_and_the_rest_read_as_the_canvas_is_read():
    sent = drawing(BAR, STEM, CROSSBAR)
    sent[2]["width"] = 30  # each stroke keeps its own pen width
    sent.insert(1, {"points": []})  # not a stroke: ignored
    fake = Recording()
    effects = leave_one_out(sent, fake, answer=3)
    assert [e.index for e in effects] == [0, 1, 2]  # drawing order
    drawn = strokes.canvas_strokes(sent)
    assert [w for _, w in drawn] == [18, 18, 30]
    for e, image_seen in zip(effects, fake.seen, strict=True):
        rest = strokes.render_strokes(drawn[:e.index] + drawn[e.index + 1:])
        np.testing.assert_array_equal(e.image, rest)
        assert e.image.shape == (280, 280) and e.image.dtype == np.uint8
        expected = preprocess.from_canvas(preprocess.scale_pixels(rest)).image
        np.testing.assert_array_equal(image_seen, expected)  # the app's one preprocessing path
        probs, _ = Recording().predict(expected)
        assert e.probability == pytest.approx(float(probs[3])) and type(e.probability) is float
        assert e.reading == int(probs.argmax()) and type(e.reading) is int
    # Without the bar, the 30-pixel crossbar is as thick as its pen (the stem crosses column 180 far above it).
    assert 28 <= np.count_nonzero(effects[0].image[128:175, 180]) <= 32


@pytest.mark.parametrize("sent", [None, [], [{"points": []}, {"points": [[1, 2, 3]]}]],
                         ids=["none", "no strokes", "no usable strokes"])
def test_nothing_drawn_nothing_to_leave_out(sent):
    fake = Recording()
    assert leave_one_out(sent, fake, answer=7) == []
    assert fake.seen == []


def test_one_stroke_left_out_leaves_nothing_to_read():
    fake = Recording()
    [effect] = leave_one_out(drawing(STEM), fake, answer=1)
    assert (effect.index, effect.probability, effect.reading) == (0, 0.0, None)
    assert effect.image.shape == (280, 280) and not effect.image.any()
    assert fake.seen == []  # the network is not asked about an empty canvas


def test_a_stroke_whose_removal_leaves_only_a_dot_leaves_nothing_to_read():
    dot = [(140.0, 140.0), (141.0, 140.0)]
    fake = Recording()
    without_stem, without_dot = leave_one_out(drawing(STEM, dot), fake, answer=1)
    assert (without_stem.probability, without_stem.reading) == (0.0, None)  # a dot is not a digit
    assert without_stem.image.any()  # but it is drawn
    assert without_dot.reading is not None and len(fake.seen) == 1


@pytest.fixture(scope="module")
def convnet():
    return Predictor.load("convnet")


def ranked(effects):
    """Most important first: the lower the answer's probability without a stroke, the more that stroke mattered."""
    return [e.index for e in sorted(effects, key=lambda e: e.probability)]


def test_the_bar_of_a_7_matters_more_than_its_stem(convnet):
    drawn = drawing(BAR, STEM)
    probs = read(convnet, drawn)
    assert int(probs.argmax()) == 7 and probs[7] > 0.9
    without_bar, without_stem = leave_one_out(drawn, convnet, answer=7)
    assert without_bar.reading == 1 and without_bar.probability < 0.05  # the stem alone is a 1
    assert without_stem.probability > 0.5
    assert ranked([without_bar, without_stem]) == [0, 1]


def test_the_crossbar_of_a_european_7_matters_least(convnet):
    drawn = drawing(BAR, STEM, CROSSBAR)
    assert int(read(convnet, drawn).argmax()) == 7
    effects = leave_one_out(drawn, convnet, answer=7)
    assert effects[2].reading == 7 and effects[2].probability > 0.9  # a 7 without its crossbar is still a 7
    assert max(effects[0].probability, effects[1].probability) < 0.1
    assert ranked(effects)[-1] == 2


def test_a_real_two_stroke_0_needs_its_loop_not_its_closing_tick(convnet):
    record = next(r for r in unipen.load_unipen(UNIPEN_FIXTURE) if r["label"] == 0 and len(r["strokes"]) == 2)
    loop, tick = strokes.canvas_paths(record, box=160)
    assert len(loop) > len(tick)
    drawn = drawing(loop, tick)
    assert int(read(convnet, drawn).argmax()) == 0
    without_loop, without_tick = leave_one_out(drawn, convnet, answer=0)
    assert without_loop.probability < 0.05 and without_loop.reading != 0
    assert without_tick.probability > 0.9 and without_tick.reading == 0
    assert ranked([without_loop, without_tick]) == [0, 1]


def test_by_importance_puts_the_stroke_the_answer_needs_most_first():
    effects = [stroke_importance.StrokeEffect(i, p, None, None) for i, p in enumerate((0.9, 0.1, 0.5))]
    assert [e.index for e in stroke_importance.by_importance(effects)] == [1, 2, 0]
