"""Reading the drawing canvas: what it really sent in Chromium (tests/data/canvas_payloads.json), not JSON by hand."""

import importlib.metadata

import numpy as np
import pytest

from core.images import preprocess, strokes
from tests import canvas_payloads as recorded

DRAWN = [label for label in recorded.labels() if recorded.payload(label)["drawn"]]
PICTURED = [label for label in recorded.labels() if recorded.payload(label)["json_data"].get("objects")]
WHOLE_PICTURES = [label for label in recorded.labels()
                  if "gray_png" in (recorded.payload(label)["image"] or {})]


def distance_to_path(points: np.ndarray, path) -> np.ndarray:
    """Each point's distance to the polyline ``path``."""
    path = np.asarray(path, np.float64)
    if len(path) == 1:
        return np.linalg.norm(points - path[0], axis=1)
    a, b, p = path[:-1][None], path[1:][None], points[:, None]
    t = np.clip(((p - a) * (b - a)).sum(-1) / np.maximum(((b - a) ** 2).sum(-1), 1e-12), 0, 1)
    return np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1).min(axis=1)


def extent(points) -> float:
    """The diagonal of the points' bounding box."""
    return float(np.linalg.norm(np.ptp(np.asarray(points), axis=0)))


def direction(points) -> float:
    """The angle in degrees from the first point to the last (y down, as on the canvas)."""
    dx, dy = np.asarray(points[-1]) - np.asarray(points[0])
    return float(np.degrees(np.arctan2(dy, dx)))


def test_the_recording_is_of_the_installed_canvas():
    """A new streamlit-drawable-canvas may send something else: record again, then rerun these tests."""
    assert recorded.meta()["streamlit-drawable-canvas"] == importlib.metadata.version("streamlit-drawable-canvas"), \
        "re-record the payloads: python -m tests.record_canvas_payloads"


def test_the_canvas_sends_fabric_7_paths():
    """What the consumers must read: capitalised "Path" objects placed by their centre (not hand-written "path")."""
    objects = recorded.json_data("four_two_strokes")["objects"]
    assert [o["type"] for o in objects] == ["Path", "Path"]
    assert all(o["originX"] == o["originY"] == "center" for o in objects)
    assert [c[0] for c in objects[0]["path"]][:2] == ["M", "Q"] and objects[0]["path"][-1][0] == "L"
    assert recorded.json_data("initial") == {"objects": [], "background": "#000000"}


@pytest.mark.parametrize("label", recorded.labels())
def test_every_stroke_the_canvas_sent_is_read(label):
    p = recorded.payload(label)
    read = strokes.canvas_strokes(p["json_data"])
    assert len(read) == len(p["json_data"].get("objects") or [])
    for (points, width), obj in zip(read, p["json_data"]["objects"]):
        assert len(points) >= 2
        assert width == round(p["pen"] * obj["scaleX"])  # the pen width, grown with the stroke if scaled


@pytest.mark.parametrize("label", DRAWN)
def test_strokes_run_where_the_mouse_drew(label):
    """Every point read lies on the mouse's path (the canvas smooths a little), and each stroke starts and ends
    where the mouse did, in canvas pixels, whatever the screen's device scale."""
    p = recorded.payload(label)
    read = strokes.canvas_strokes(p["json_data"])
    assert len(read) == len(p["drawn"])
    for (points, _), drawn in zip(read, p["drawn"]):
        points = np.asarray(points)
        assert distance_to_path(points, drawn).max() < 2.0, label
        assert np.linalg.norm(points[0] - drawn[0]) < 1.5 and np.linalg.norm(points[-1] - drawn[-1]) < 1.5, label


@pytest.mark.parametrize("label", PICTURED)
def test_redrawn_strokes_match_the_canvas_picture(label):
    """render_strokes(canvas_strokes(json)) is the picture the canvas sent with the same JSON, at 28x28."""
    mine = recorded.downscale(strokes.render_strokes(strokes.canvas_strokes(recorded.json_data(label))))
    real = recorded.gray28(label)
    assert np.abs(mine - real).mean() < 3.5, label
    ink_mine, ink_real = mine >= 128, real >= 128
    assert (ink_mine & ink_real).sum() / (ink_mine | ink_real).sum() > 0.9, label


def test_a_dragged_scaled_and_turned_stroke_is_read_where_the_canvas_shows_it():
    """The canvas' edit toggle moves a stroke by its left/top, scale and angle; its path stays as drawn."""
    before = strokes.canvas_strokes(recorded.json_data("seven_two_strokes"))
    moved = strokes.canvas_strokes(recorded.json_data("seven_bar_moved"))
    assert moved[0] == before[0]
    np.testing.assert_allclose(np.asarray(moved[1][0]), np.asarray(before[1][0]) + [30, 40], atol=1e-6)
    scaled = strokes.canvas_strokes(recorded.json_data("seven_bar_scaled"))[1]
    turned = recorded.json_data("seven_bar_turned")["objects"][1]
    bar = np.asarray(strokes.canvas_strokes(recorded.json_data("seven_bar_turned"))[1][0])
    assert extent(scaled[0]) == pytest.approx(turned["scaleX"] * extent(moved[1][0]), rel=1e-6)
    assert direction(bar) - direction(scaled[0]) == pytest.approx(turned["angle"], abs=1e-6)


def test_undo_redo_and_reset_send_the_drawing_as_it_then_is():
    first = strokes.canvas_strokes(recorded.json_data("four_first_stroke"))
    assert strokes.canvas_strokes(recorded.json_data("four_undo")) == first
    assert strokes.canvas_strokes(recorded.json_data("four_redo")) == strokes.canvas_strokes(
        recorded.json_data("four_two_strokes"))
    assert recorded.payload("four_undo")["image"]["sha256"] == recorded.payload("four_first_stroke")["image"]["sha256"]
    for label in ("initial", "reset"):
        assert strokes.canvas_strokes(recorded.json_data(label)) == []
        assert not strokes.render_strokes([]).any()


@pytest.mark.parametrize("label", WHOLE_PICTURES)
def test_the_canvas_picture_reads_as_white_ink_on_black(label):
    p = recorded.payload(label)
    rgba = recorded.rgba(label)  # checked against the hash of what Python received
    assert rgba.shape == (280, 280, 4) and rgba.dtype == np.uint8
    gray = preprocess.canvas_to_gray(rgba)
    assert gray.min() >= 0 and gray.max() <= 1
    assert gray.sum() == pytest.approx(p["image"]["ink"], abs=0.01)
    # a digit is read; a blank canvas, or a dot, is not
    assert preprocess.from_canvas(gray).empty == (label in ("reset", "dot")), label


def test_every_picture_is_280_pixels_square_whatever_the_screen():
    for label in recorded.labels():
        image = recorded.payload(label)["image"]
        assert image is None or image["shape"] == [280, 280, 4], label
    assert recorded.payload("initial")["image"] is None  # a canvas that has sent nothing has no picture yet
