"""AppTest tests of the pages: the Streamlit script runs for real, without a browser."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui import state
from core.base import device
from core.data import samples
from core.nets import registry
from tests.pages import open_page

TIMEOUT = 120


@pytest.fixture
def app():
    return open_page()


def test_draw_page_opens_on_an_empty_canvas(app):
    assert app.title[0].value == "Draw a digit"
    assert any("Draw a digit" in info.value for info in app.info)
    assert not [m for m in app.metric if m.label == "Prediction"]  # no made-up prediction
    assert any(c.value == f"Computing on **{device.device_label()}**" for c in app.sidebar.caption)


def upload(app, name, content, mime="image/png"):
    app.file_uploader(key="upload").set_value((name, content, mime))
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("style", samples.STYLES)
def test_upload_reads_a_photo_with_every_model(app, unipen, style):
    rec = next(r for r in unipen if r["label"] == 2)
    data = samples.make_photo(rec, style, seed=1)
    upload(app, "two.jpg" if data[:2] == b"\xff\xd8" else "two.png", data)
    prediction = [m for m in app.metric if m.label == "Prediction"]
    assert len(prediction) == 1 and prediction[0].value == "2"
    # Each network's reading, with its time and its ten bars, in one element for all of them.
    (readings,) = [e.proto.body for e in app.get("html") if " reads " in e.proto.body]
    for name in registry.DRAW_MODELS:
        assert f">{registry.get(name).title}</b> reads <b>2</b>" in readings, name
    assert readings.count(" ms</div>") == len(registry.DRAW_MODELS)
    assert readings.count('title="2: ') == 2 * len(registry.DRAW_MODELS)  # the bar for 2 and its name below
    # The preprocessing steps, as four pictures in one element (one message a stroke, not nine).
    steps = [[i.caption for i in e.proto.imgs] for e in app.get("image")]
    assert ["1. your picture (ink made white)", "2. cropped to the ink", "3. fitted into a 20x20 box",
            "4. centred by mass in 28x28"] in steps, steps


def test_upload_of_a_non_image_is_a_clear_error(app):
    upload(app, "notes.png", b"definitely not a png")
    assert any("Cannot read notes.png" in e.value and "not an image" in e.value for e in app.error)
    assert not [m for m in app.metric if m.label == "Prediction"]


def test_upload_of_a_blank_page_finds_no_digit(app):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((300, 300), 230, np.uint8)).save(buf, format="PNG")
    upload(app, "blank.png", buf.getvalue())
    assert any("No digit found" in w.value for w in app.warning)


@pytest.mark.slow
def test_prediction_panel_reads_a_drawn_digit(unipen):
    """The panel the canvas feeds, given a real drawn digit as the canvas would deliver it."""

    def page(rec: dict):
        import numpy as np  # noqa: F811 - AppTest runs this function's body as a script

        from app_pages.ui.readings import show_predictions
        from core.images import preprocess, strokes

        rgba = np.zeros((280, 280, 4), np.uint8)
        rgba[..., 3] = 255
        rgba[..., :3] = strokes.render(strokes.canvas_paths(rec))[..., None]
        show_predictions(preprocess.from_canvas(preprocess.canvas_to_gray(rgba)), key="t")

    for label in (4, 9):
        rec = next(r for r in unipen if r["label"] == label)
        at = AppTest.from_function(page, args=(rec,), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, at.exception
        assert [m.value for m in at.metric if m.label == "Prediction"] == [str(label)]


def test_what_the_network_sees_keeps_every_step_of_a_one_in_its_square(unipen, monkeypatch):
    """A 1 cropped to its ink is several times taller than wide: every step picture the Draw page sends is a
    square (112 px shown 112 px high), none a 112x784 strip that pushes the page down."""
    import io

    from PIL import Image
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    from core.images import preprocess, strokes
    from tests.pages import drawing_state

    sent = []  # the size of every picture the page hands to the browser
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        if mimetype.startswith("image/") and isinstance(data, bytes):
            sent.append(Image.open(io.BytesIO(data)).size)
        return load(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    rec = next(r for r in unipen if r["label"] == 1)
    gray = strokes.render(strokes.canvas_paths(rec)).astype(np.float32) / 255.0  # as the canvas draws it
    crop = preprocess.from_canvas(gray).steps["crop"]
    assert crop.shape[0] > 3 * crop.shape[1], crop.shape  # a 1 the old page stretched
    at = open_page(None, drawing_state(gray))
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["1"]
    steps = next(e for e in at.get("image") if "2. cropped to the ink" in [i.caption for i in e.proto.imgs])
    assert len(steps.proto.imgs) == 4
    assert len(sent) >= 4 and all(w == h for w, h in sent), sent


def test_pen_width_survives_a_visit_to_another_page(app):
    app.slider(key="pen_width").set_value(32)
    app.run()
    app.switch_page("app_pages/filters.py")
    app.run()
    assert app.session_state[state.PEN] == 32  # the Filters canvas draws with it
    assert app.slider(key="pen_width").value == 32  # and its own slider shows it
    app.switch_page("app_pages/draw.py")
    app.run()
    assert not app.exception, app.exception
    assert app.slider(key="pen_width").value == 32


@pytest.mark.slow
def test_each_shipped_example_is_read_right(app):
    examples = samples.examples()
    assert len(examples) == len(samples.EXAMPLES)
    for label in examples:
        app.pills(key="upload_example").set_value(label)
        app.run()
        assert not app.exception, app.exception
        prediction = [m.value for m in app.metric if m.label == "Prediction"]
        assert prediction == [label[-1]], (label, prediction)


def test_reruns_keep_the_models_compiled_kernels(monkeypatch):
    """Streamlit's after-run hook would call keras.backend.clear_session() on every stroke; app.py turns it off."""
    import inspect

    from streamlit.runtime.scriptrunner import script_runner

    # The hook app.py replaces must still be the one Streamlit calls after a run, or the fix does nothing.
    assert "_clean_problem_modules" in inspect.getsource(script_runner.ScriptRunner._run_script)
    calls = []
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: calls.append("clear_session"))
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert calls == []


@pytest.mark.slow
def test_the_app_marks_runs_of_a_dead_app_failed_as_it_starts(tmp_path, monkeypatch):
    """After a restart, a run the old server left RUNNING is FAILED without a lab page being opened, and the
    check runs beside the first page, not in its way."""
    import socket
    import subprocess
    import sys
    import threading
    import time

    from core.lab import runs

    monkeypatch.setenv("VP_HOME", str(tmp_path))  # a store of its own: the check is made once per store
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = runs.create({"model": "net002", "dataset": "mnist"}, "net002", "compare", "local")
    runs.client().set_tag(run.run_id, runs.Tag.OWNER, f"{socket.gethostname()}:{dead.pid}")
    runs.client().update_run(run.run_id, status="RUNNING")
    checked_on = []
    reconcile = runs.reconcile
    monkeypatch.setattr(runs, "reconcile", lambda: checked_on.append(threading.current_thread().name) or reconcile())
    at = open_page()  # the Draw page, as a restarted server's first visitor sees it
    assert at.title[0].value == "Draw a digit"
    deadline = time.monotonic() + 60
    while runs.get(run.run_id).status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    after = runs.get(run.run_id)
    assert after.status == "FAILED" and "stopped" in (after.error or "")
    assert checked_on and "ScriptRunner" not in checked_on[0] and checked_on[0] != "MainThread", checked_on
    for thread in threading.enumerate():  # let it finish before this test's store goes away
        if thread.name == checked_on[0]:
            thread.join(timeout=30)


def test_a_loaded_network_is_kept_out_of_the_garbage_collectors_scans():
    """Loaded networks live as long as the server: frozen, a full collection does not stop every session to
    scan them (bench/bench_classroom.py)."""
    import gc

    from app_pages.ui import nets

    nets._predictor.clear()
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    nets.predictor(registry.DRAW_MODELS[0])
    assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
