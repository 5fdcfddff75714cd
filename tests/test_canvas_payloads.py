"""Reading the drawing canvas: what it really sent in Chromium (tests/data/canvas_payloads.json), not payloads by
hand."""

import hashlib
import importlib.metadata
import json

import numpy as np
import pytest

from bench import bench_class
from core.base.paths import ROOT
from core.images import preprocess, strokes
from tests import canvas_payloads as recorded
from tests.record_canvas_payloads import CANVAS_JS

DRAWN = [label for label in recorded.labels() if recorded.payload(label)["drawn"]]
PICTURED = [label for label in recorded.labels() if recorded.drawn_strokes(label)]


def distance_to_path(points: np.ndarray, path) -> np.ndarray:
    """Each point's distance to the polyline ``path``."""
    path = np.asarray(path, np.float64)
    if len(path) == 1:
        return np.linalg.norm(points - path[0], axis=1)
    a, b, p = path[:-1][None], path[1:][None], points[:, None]
    t = np.clip(((p - a) * (b - a)).sum(-1) / np.maximum(((b - a) ** 2).sum(-1), 1e-12), 0, 1)
    return np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1).min(axis=1)


def test_the_recording_is_of_the_canvas_and_streamlit_here():
    """A changed canvas or Streamlit may send something else: record again, then rerun these tests."""
    again = "re-record the payloads: python -m tests.record_canvas_payloads"
    assert recorded.meta()["streamlit"] == importlib.metadata.version("streamlit"), again
    assert recorded.meta()["canvas"].endswith(hashlib.sha256((ROOT / CANVAS_JS).read_bytes()).hexdigest()), again


def test_the_canvas_sends_its_strokes_and_its_picture():
    sent = recorded.sent("four_two_strokes")
    assert set(sent) == {"strokes", "png"} and sent["png"].startswith(preprocess.CANVAS_PNG)
    assert [set(s) for s in sent["strokes"]] == [{"points", "width"}] * 2
    assert recorded.sent("initial") is None  # nothing until the first stroke
    assert recorded.sent("clear") == {"strokes": [], "png": None}


def test_a_class_sheet_sends_nothing_while_drawing_and_the_whole_drawing_at_once_with_send():
    """``sending_canvas``: two strokes sent nothing (the Send's run is the page's second), and the Send's request
    holds one trigger, the whole 7 as the Draw page's canvas sends it; the bench's students send that request."""
    p = recorded.payload("seven_send")
    assert recorded.sent("send_initial") is None and p["runs"] == 2
    [widget] = p["message"]["widgets"]
    assert widget["value"] == "json_trigger_value" and widget["json"] == [{"event": "sent", "value": p["sent"]}]
    assert p["sent"] == recorded.sent("seven_two_strokes")
    drawing = recorded.sent("four_two_strokes")
    [(widget_id, value_field, value)] = bench_class.send_widgets("c0ffee", drawing)
    assert widget_id == widget["id"].replace("{canvas}", "c0ffee") and value_field == widget["value"]
    assert json.loads(value) == [{"event": "sent", "value": drawing}]


@pytest.mark.parametrize("label", recorded.labels())
def test_every_stroke_the_canvas_sent_is_read_with_its_pen(label):
    p = recorded.payload(label)
    read = strokes.canvas_strokes(recorded.drawn_strokes(label))
    assert len(read) == len(recorded.drawn_strokes(label)) == len(p["drawn"])
    for points, width in read:
        assert len(points) >= 1 and width == p["pen"]


@pytest.mark.parametrize("label", DRAWN)
def test_strokes_run_where_the_mouse_drew(label):
    """Every point read lies on the mouse's path, and each stroke starts and ends where the mouse did, in canvas
    pixels, whatever the screen's device scale."""
    p = recorded.payload(label)
    for (points, _), drawn in zip(strokes.canvas_strokes(recorded.drawn_strokes(label)), p["drawn"], strict=True):
        points = np.asarray(points)
        assert distance_to_path(points, drawn).max() < 1.0, label
        assert np.linalg.norm(points[0] - drawn[0]) < 1.0 and np.linalg.norm(points[-1] - drawn[-1]) < 1.0, label


@pytest.mark.parametrize("label", PICTURED)
def test_redrawn_strokes_match_the_canvas_picture(label):
    """render_strokes(canvas_strokes(strokes)) is the picture the canvas sent with the same strokes, at 28x28."""
    mine = recorded.downscale(strokes.render_strokes(strokes.canvas_strokes(recorded.drawn_strokes(label))))
    real = recorded.gray28(label)
    assert np.abs(mine - real).mean() < 3.5, label
    ink_mine, ink_real = mine >= 128, real >= 128
    assert (ink_mine & ink_real).sum() / (ink_mine | ink_real).sum() > 0.9, label


def test_undo_redo_and_clear_send_the_drawing_as_it_then_is():
    assert recorded.sent("four_undo") == recorded.sent("four_first_stroke")
    assert recorded.sent("four_redo") == recorded.sent("four_two_strokes")
    assert recorded.drawn_strokes("clear") == [] and recorded.gray("clear") is None


@pytest.mark.parametrize("label", PICTURED)
def test_the_canvas_picture_reads_as_white_ink_on_black(label):
    gray = recorded.gray(label)
    assert gray.shape == (280, 280) and gray.min() >= 0 and gray.max() <= 1 and gray[0, 0] == 0
    assert preprocess.from_canvas(gray).empty == (label == "dot"), label  # a digit is read; a dot is not


def test_a_picture_that_is_not_the_canvas_is_not_read():
    png = recorded.sent("three_one_stroke")["png"]
    assert preprocess.canvas_png_to_gray(png) is not None
    for bad in (None, "", "data:image/jpeg;base64,AAAA", preprocess.CANVAS_PNG + "not base64!",
                preprocess.CANVAS_PNG + "iVBORw0KGgo=", png[:200]):
        assert preprocess.canvas_png_to_gray(bad) is None, bad[:40] if bad else bad
    assert preprocess.canvas_png_to_gray(png, side=140) is None  # the wrong size


def test_odd_strokes_are_left_out_not_crashed_on():
    good = {"points": [[10, 10], [20, 20]], "width": 20}
    odd = [good, {"points": [[1, 2, 3]]}, {"points": "x"}, {"points": [[float("nan"), 1]]}, "stroke", None,
           {"points": []}, {"points": [[5, 5]], "width": "wide"}]
    assert strokes.canvas_strokes(odd) == [([(10.0, 10.0), (20.0, 20.0)], 20)]
    assert strokes.canvas_strokes(None) == []
