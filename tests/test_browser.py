"""Real-browser tests: the app served by ``streamlit run``, driven in headless Chromium."""

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

from bench.harness import browser
from core.data import samples
from core.images import preprocess, strokes
from core.nets import registry
from core.nets.inference import Predictor

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def chromium():
    with browser.browser() as b:
        yield b


@pytest.fixture(scope="module")
def page(chromium, app_server):
    """A page of the session's app server: these tests draw, upload and read, and launch nothing."""
    pg = chromium.new_page(viewport={"width": 1400, "height": 1000})
    pg.goto(app_server)
    yield pg
    pg.close()


def wait_for_prediction(page, expected: str, timeout: float = 30.0) -> str | None:
    end = time.time() + timeout
    value = None
    while time.time() < end:
        value = browser.prediction(page)
        if value == expected:
            return value
        time.sleep(0.2)
    return value


def clean_examples(unipen, labels, min_strokes: int = 1):
    """For each label, the first UNIPEN digit (of at least ``min_strokes`` pen strokes) the best model reads
    right offline, drawn as the canvas does."""
    best = Predictor.load(registry.best_model())
    chosen = []
    for label in labels:
        for rec in unipen:
            if rec["label"] != label or len(rec["strokes"]) < min_strokes:
                continue
            gray = strokes.render(strokes.canvas_paths(rec)) / 255.0
            probs, _ = best.predict(preprocess.from_canvas(gray).image)
            if probs.argmax() == label and probs.max() > 0.9:
                chosen.append(rec)
                break
    return chosen


def test_drawing_with_the_mouse_shows_each_digit(page, unipen, tmp_path):
    box = browser.canvas_box(page)
    assert browser.prediction(page) is None  # an empty canvas makes up nothing
    assert page.get_by_text("Draw a digit", exact=False).first.is_visible()
    examples = clean_examples(unipen, (3, 7, 0))
    assert [r["label"] for r in examples] == [3, 7, 0]
    for rec in examples:
        page.reload()
        box = browser.canvas_box(page)
        browser.draw(page, strokes.canvas_paths(rec), box)
        assert wait_for_prediction(page, str(rec["label"])) == str(rec["label"]), rec["id"]
        # every network's reading and its time are on the page too
        for name in registry.DRAW_MODELS:
            # Streamlit sends elements one by one: wait for each column rather than count at once
            page.get_by_text(f"{registry.get(name).title} reads", exact=False).first.wait_for(timeout=10_000)
    page.screenshot(path=browser.screenshot_path("draw.png", tmp_path), full_page=True)


def test_the_reading_changes_while_the_pen_moves_before_it_is_lifted(page):
    """Issue 18: the shipped networks read the drawing in the browser during the stroke (``vp-live``), from "1"
    to "7" as the bar is added; the server's full answer follows at pen-up."""
    from playwright.sync_api import expect

    page.reload()
    box = browser.canvas_box(page)
    live = page.locator('[data-testid="vp-live"]')

    def at(x, y):
        return box["x"] + x * box["width"] / strokes.CANVAS_SIDE, box["y"] + y * box["height"] / strokes.CANVAS_SIDE

    page.mouse.move(*at(150, 50))
    page.mouse.down()
    for y in range(50, 231, 10):  # the stem, slanting a little
        page.mouse.move(*at(150 - (y - 50) * 0.15, y))
    expect(live).to_have_attribute("data-digit", "1", timeout=15_000)  # the button is still down
    assert live.get_attribute("data-model") == registry.best_model() and float(live.get_attribute("data-ms")) > 0
    page.mouse.up()
    page.mouse.move(*at(70, 50))
    page.mouse.down()
    for x in range(70, 151, 8):  # the bar, from the left to the top of the stem
        page.mouse.move(*at(x, 50))
    expect(live).to_have_attribute("data-digit", "7", timeout=15_000)
    rows = page.locator('[data-testid="vp-live"] .vp-row')
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.model)")) == sorted(registry.DRAW_MODELS)
    page.mouse.up()
    assert wait_for_prediction(page, "7") == "7"


def test_upload_through_the_browser(page, unipen, tmp_path):
    page.reload()
    page.get_by_role("tab", name="Upload a picture").click()
    rec = next(r for r in unipen if r["label"] == 5)
    data = samples.make_photo(rec, "phone", seed=2)
    path = tmp_path / "five.jpg"
    path.write_bytes(data)
    page.locator('input[type="file"]').set_input_files(str(path))
    assert wait_for_prediction(page, "5") == "5"
    bad = tmp_path / "broken.png"
    img = io.BytesIO()
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(img, format="PNG")
    bad.write_bytes(img.getvalue()[:40])
    page.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_text("Cannot read broken.png", exact=False).wait_for(timeout=30_000)


def test_filters_page_draws_maps_for_a_drawing(page, unipen, tmp_path):
    page.reload()
    browser.canvas_box(page)  # the app is up (the first visit loads the models)
    page.get_by_role("link", name="Filters").click()
    page.get_by_text("Inside the network").first.wait_for(timeout=60_000)
    box = browser.canvas_box(page)
    rec = next(r for r in unipen if r["label"] == 6)
    browser.draw(page, strokes.canvas_paths(rec), box)
    page.get_by_text("largest difference", exact=False).first.wait_for(timeout=30_000)
    page.get_by_text("the network's feature maps", exact=False).first.wait_for(timeout=30_000)
    page.locator('[data-testid="stMetric"]:has-text("softmax")').wait_for(timeout=30_000)  # the end of the page
    # The filter grid really rendered (plotly draws it after its element arrives: wait for it, then count).
    page.locator(".js-plotly-plot .heatmaplayer").first.wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot .heatmaplayer").count() == 1
    # the maps are pictures: the filters, the network's maps, by hand, a deeper layer, the flow strip
    widths = browser.wait_for_images(page, '[data-testid="stImage"] img')
    assert len(widths) >= 6 and min(widths) > 0, widths
    # Streamlit scrolls inside its own container, so a tall window is what shows the whole lesson
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.wait_for_timeout(1000)
    page.screenshot(path=browser.screenshot_path("filters.png", tmp_path))
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_a_page_opened_by_its_address_on_a_fresh_server_gets_the_whole_app(chromium):
    """A bookmarked /filters, the first visit after a (re)start, still runs app.py's frame around the page."""
    with browser.serve() as (url, _):
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/filters")
        page.get_by_text("Inside the network").first.wait_for(timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        labels = [t.split("\n")[-1].strip() for t in nav]  # each link's text: its icon's name, then its label
        assert labels == ["Draw", "Filters", "Explain", "Class", "Compare", "Learning rate", "Grid and search",
                          "Data sets", "Digits to letters", "Your own classes", "Backbones for photos"], nav
        page.get_by_text("Computing on", exact=False).first.wait_for(timeout=10_000)


def test_explain_page_answers_a_drawing_and_a_slider(page, unipen, tmp_path):
    page.goto("/".join(page.url.split("/")[:3]) + "/explain")
    page.get_by_role("heading", name="Why did it say that?").wait_for(timeout=60_000)
    page.get_by_text("Draw a digit on the canvas", exact=False).first.wait_for(timeout=60_000)  # the hint
    box = browser.canvas_box(page)
    rec = clean_examples(unipen, (4,))[0]
    paths = strokes.canvas_paths(rec)
    browser.draw(page, paths, box)
    page.get_by_text("4. What it remembers").wait_for(timeout=60_000)
    page.get_by_text("training digits closest", exact=False).first.wait_for(timeout=60_000)
    curves = page.locator(".js-plotly-plot").first  # the invariance curves: one figure, a panel per transform
    curves.wait_for(timeout=30_000)
    assert curves.locator("g.cartesianlayer > g.subplot").count() == 4
    # One picture each: the maps side by side, the changed digit, the attack, the 8 nearest training digits;
    # and, for a digit of several strokes, one per stroke: the drawing without it (its section comes in last).
    expected = 4 + (len(paths) if len(paths) > 1 else 0)
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"stImage\"] img').length >= {expected}",
                           timeout=60_000, polling=500)
    before = browser.wait_for_images(page, '[data-testid="stImage"] img')
    assert len(before) == expected and max(before) >= 8 * 28
    changed = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Each curve").first
    text_before = changed.inner_text()
    slider = page.get_by_role("slider").nth(1)  # Rotate, after the pen width
    slider.focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")  # +30 degrees, 5 at a time
    page.wait_for_function("t => ![...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
                           ".some(e => e.innerText === t)", arg=text_before, timeout=30_000)
    page.get_by_text("your digit, changed").wait_for(timeout=30_000)
    page.mouse.move(0, 0)
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.screenshot(path=browser.screenshot_path("explain.png", tmp_path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_explain_page_shows_which_stroke_mattered_for_a_two_stroke_digit(page, unipen):
    """The stroke section reads the strokes the canvas really sends, drawn with the mouse in the browser."""
    page.goto("/".join(page.url.split("/")[:3]) + "/explain")
    page.get_by_role("heading", name="Why did it say that?").wait_for(timeout=60_000)
    box = browser.canvas_box(page)
    rec = clean_examples(unipen, (4,), min_strokes=2)[0]
    paths = strokes.canvas_paths(rec)
    assert len(paths) == 2
    browser.draw(page, paths, box)
    page.get_by_text("Which stroke mattered most?").wait_for(timeout=60_000)
    # one picture per stroke, the drawing without it, captioned with what the network then makes of it
    captions = page.get_by_text(re.compile(r"^without stroke \d: 4 at \d+%(, reads \d)?$"))
    captions.nth(1).wait_for(timeout=30_000)
    assert captions.count() == 2


def test_no_request_leaves_the_machine(chromium, app_server):
    """An offline classroom: every page loads from the app's own server, nothing from a font server or a CDN.
    (A page of its own: a new browser context, so nothing comes from the other tests' cache.)"""
    url = app_server
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        (url, "data:", "blob:", "about:", "ws://127.0.0.1")) else None)
    for path, heading in (("", "Draw a digit"), ("filters", "Inside the network"),
                          ("explain", "Why did it say that?"), ("compare", "Compare networks")):
        page.goto(f"{url}/{path}")
        page.get_by_role("heading", name=heading).wait_for(timeout=90_000)
        page.wait_for_timeout(1500)
    page.close()
    assert outside == []
