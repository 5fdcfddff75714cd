"""Touch screens: drawing with a finger on a phone and a tablet, in Chromium with synthetic touch events."""

import time

import pytest

from bench.harness import browser
from core.images import strokes
from tests.busy import stretched
from tests.test_browser import clean_examples

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
INK = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }"""


@pytest.fixture(scope="module")
def app(app_server):
    with browser.browser() as chromium:
        yield app_server, chromium


def fits(page, box) -> None:
    """No sideways scrolling, the whole canvas on screen, and a finger on it draws rather than scrolls."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("innerWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.evaluate("innerWidth")
    touch = page.locator(browser.CANVAS).first.evaluate("c => getComputedStyle(c).touchAction")
    assert touch == "none"  # the browser leaves the finger's moves to the canvas: the page does not scroll


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_a_digit_drawn_with_a_finger_reads_as_one_drawn_with_the_mouse(app, unipen, viewport):
    url, chromium = app
    context = chromium.new_context(viewport=viewport, has_touch=True, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    draw = browser.finger(context, page)
    for rec in clean_examples(unipen, (3, 7)):  # the digits the mouse test reads
        page.goto(url)
        box = browser.canvas_box(page)
        fits(page, box)
        draw(strokes.canvas_paths(rec), box)
        end, seen = time.time() + 30, None
        while time.time() < end and seen != str(rec["label"]):
            seen = browser.prediction(page)
            time.sleep(0.2)
        assert seen == str(rec["label"]), rec["id"]
        if viewport is PHONE:  # the answers sit below the canvas, not beside it
            answer = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.bounding_box()
            assert answer["y"] >= box["y"] + box["height"]
    context.close()


@pytest.mark.parametrize("path", ["filters", "explain", "letters"])
def test_every_canvas_takes_a_finger_at_a_phones_width(app, unipen, path):
    url, chromium = app
    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{url}/{path}")
    browser.canvas_box(page)
    page.locator(browser.CANVAS).first.scroll_into_view_if_needed()  # a finger reaches what is on screen
    box = browser.canvas_box(page)
    fits(page, box)
    surface = page.locator(browser.CANVAS).first
    assert surface.evaluate(INK) == 0
    draw = browser.finger(context, page)
    draw([[(60, 60), (140, 140), (220, 220)], [(220, 60), (60, 220)]], box)
    page.wait_for_timeout(300)
    both = surface.evaluate(INK)
    assert both > 1000  # both strokes drawn, with the pen's width
    # the toolbar is in view without a hover (a finger cannot hover): a tap on Undo takes the last stroke back
    undo = page.locator('[data-testid="vp-undo"]').first
    # The page reruns after each stroke (the Explain page's sections are drawn again): the toolbar is back within
    # moments, not at the very instant the stroke ends (CI, busy machine: not yet visible 300 ms after it).
    undo.wait_for(state="visible", timeout=stretched(10_000))
    assert undo.is_enabled()
    # a page still loading its first answer may push the canvas down: tap once the button has stopped moving
    last = None
    for _ in range(60):
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        if (here := undo.bounding_box()) == last:
            break
        last = here
        page.wait_for_timeout(500)
    undo.tap()
    page.wait_for_timeout(300)
    assert 0 < surface.evaluate(INK) < both
    context.close()
