"""The transfer lab in a real browser: a letter drawn with the mouse, and your own classes drawn, trained, read."""

import math

import pytest

from bench.harness import browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def page(app_server):
    """The session's app server, in a browser of this file's own: its own-classes projects are this browser's
    alone (test_own_classes_browser), so no other test's project is on the page."""
    with browser.browser() as chromium:
        pg = chromium.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(app_server)
        yield pg
        pg.close()


def circle(cx=140, cy=140, r=80, n=40):
    return [[(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n + 1)]]


def cross():
    return [[(60, 60), (220, 220)], [(220, 60), (60, 220)]]


def canvas_box(page, which: int = 0):
    """A canvas scrolled into view (these pages are long: the mouse only reaches what is on screen)."""
    canvas = page.locator(browser.CANVAS).nth(which)
    canvas.wait_for(state="visible", timeout=60_000)
    canvas.scroll_into_view_if_needed()
    return canvas.bounding_box()


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    box.wait_for(timeout=60_000)
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def goto(page, path: str, heading: str) -> None:
    page.goto("/".join(page.url.split("/")[:3]) + path)
    page.get_by_role("heading", name=heading).wait_for(timeout=90_000)


def test_a_letter_drawn_on_the_greek_canvas_gets_a_reading(page):
    goto(page, "/letters", "Transfer learning: from digits to Greek letters")
    page.get_by_text("Draw α, β or γ on the canvas").wait_for(timeout=60_000)
    # An alpha as people write it: a loop open to the right, its two ends crossing into tails.
    alpha = [[(230, 80), (190, 150), (150, 200), (100, 215), (60, 190), (50, 140), (75, 95), (120, 85),
              (160, 120), (200, 190), (235, 220)]]
    browser.draw(page, alpha, canvas_box(page))
    assert metric(page, "Reading").split()[0] in "αβγ"


def test_own_classes_are_drawn_trained_and_read_in_the_browser(page):
    goto(page, "/own-classes", "Your own classes")
    page.get_by_label("New project").fill("shapes")
    page.get_by_label("Its classes, separated by commas (2 to 10)").fill("circle, cross")
    page.get_by_role("button", name="Create").click()
    page.get_by_text("Draw at least 2 examples", exact=False).wait_for(timeout=60_000)
    for name, shape in (("circle", circle), ("cross", cross)):
        page.locator('[data-testid="stButtonGroup"]').get_by_text(name, exact=True).click()  # the class pill
        for i in range(3):
            page.get_by_role("button", name=f"Add to {name}").wait_for(timeout=60_000)
            box = canvas_box(page)
            browser.draw(page, shape() if name == "cross" else circle(r=60 + 10 * i), box)
            add = page.get_by_role("button", name=f"Add to {name}")
            page.wait_for_function("b => !b.disabled", arg=add.element_handle(), timeout=30_000)
            add.click()
            page.get_by_text(f"{name}: the last {i + 1} of {i + 1}").wait_for(timeout=60_000)
            # the next example starts on a blank canvas, not over the one just added
            page.wait_for_function("c => !c.getContext('2d').getImageData(0, 0, 280, 280).data.some("
                                   "(v, i) => i % 4 === 0 && v > 128)",
                                   arg=page.locator(browser.CANVAS).first.element_handle(), timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    assert metric(page, "Held-out accuracy").endswith("%")
    page.get_by_text("Draw one of your classes.").wait_for(timeout=60_000)
    browser.draw(page, circle(r=70), canvas_box(page, which=1))
    assert metric(page, "Reading") == "circle"


def test_on_a_phone_the_letters_table_shows_the_accuracy_and_every_recipe_is_on_screen(page):
    """At 390 px the table showed only "network" and "recipe", and the recipes box hid "from scratch"."""
    phone = page.context.browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    try:
        phone.goto(page.url)
        goto(phone, "/letters", "Transfer learning: from digits to Greek letters")
        scratch = phone.locator('[data-testid="stCheckbox"]').get_by_text("from scratch", exact=True)
        scratch.wait_for(timeout=60_000)
        box = scratch.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        table = phone.locator('[data-testid="stDataFrame"]').nth(1)
        table.scroll_into_view_if_needed()
        # The grid draws on a canvas; its accessible copy says which column comes first, at the table's left edge.
        first = table.locator('th[aria-colindex="1"]').first
        first.wait_for(state="attached", timeout=60_000)
        assert first.text_content().strip() == "test accuracy"
        box = table.bounding_box()
        assert box and 0 <= box["x"] < 100, box
    finally:
        phone.close()
