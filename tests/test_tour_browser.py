"""A tour of every page as a class sees it (issue 28, section 5): 1400 px with a mouse, a 390 px phone with a finger.

Each page opens with its defaults and the pages that read a drawing get a real digit (UNIPEN pen strokes); the
launch of a run from a page, and its row in the Compare table, are tests/test_lab_browser.py's. On every page: no
exception box, nothing wider than the screen, every picture inside its column, and the page's headline figure as
the model cards hold it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from bench.harness import browser
from core.images import strokes
from core.nets import registry

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
# Every page of app.py's navigation: its address and its heading.
PAGES = {
    "": "Draw a digit",
    "filters": "Inside the network",
    "explain": "Why did it say that?",
    "compare": "Compare networks",
    "learning-rate": "How the learning rate changes everything",
    "grid": "Tuning the knobs",
    "datasets": "Data sets",
    "letters": "Transfer learning: from digits to Greek letters",
    "own-classes": "Your own classes",
    "backbones": "Transfer learning: backbones for new photos",
    "class": "Class",
}
DRAWN = {"": 7, "filters": 3, "explain": 4}  # the pages that read a drawing, and the digit drawn there
FIRST_VISIT_S = 300  # a page's first visit on a busy 2-core CI machine (Compare times every network)

# Elements of the main column whose box leaves the screen sideways, unless a scrolling or clipping frame holds them
# (a wide table scrolls inside its own frame; that is not the page running off the screen).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const e of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= width + 1 && r.left >= -1) continue;
    let framed = false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll|hidden|clip)/.test(s.overflowX)) {
        const f = p.getBoundingClientRect();
        framed = f.right <= width + 1 && f.left >= -1;
        break;
      }
    }
    if (!framed) out.push(`${e.tagName.toLowerCase()}[${e.getAttribute('data-testid') || e.className}] `
                          + `${Math.round(r.left)}..${Math.round(r.right)} px`);
  }
  return [document.documentElement.scrollWidth, out.slice(0, 8)];
}"""
# Pictures (img) of the main column outside the column that holds them.
PICTURES = """() => {
  const out = [];
  for (const img of document.querySelectorAll('[data-testid="stMain"] img')) {
    const r = img.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const col = img.closest('[data-testid="stColumn"]') || img.closest('[data-testid="stMainBlockContainer"]');
    const c = col.getBoundingClientRect();
    if (r.left < c.left - 1 || r.right > c.right + 1)
      out.push(`${img.alt || img.src.slice(-40)}: ${Math.round(r.left)}..${Math.round(r.right)} px in a column `
               + `at ${Math.round(c.left)}..${Math.round(c.right)}`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def app(app_server):
    """The session's app server (an empty run store of its own), and Chromium."""
    with browser.browser() as chromium:
        yield app_server, chromium


def check(page, where: str) -> None:
    """No exception box, no sideways overflow, every picture inside its column."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()[:600]}"
    scroll, out = page.evaluate(OVERFLOW)
    width = page.evaluate("document.documentElement.clientWidth")
    assert scroll <= width + 1 and not out, f"{where}: the page is {scroll} px wide on a {width} px screen: {out}"
    assert not (pictures := page.evaluate(PICTURES)), f"{where}: pictures outside their column: {pictures}"


def visit(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name=PAGES[path]).wait_for(timeout=FIRST_VISIT_S * 1000)
    browser.settle(page, FIRST_VISIT_S)


def cells(page) -> list[str]:
    """The text of the cells of the page's first table (the data grid writes out those in view for screen readers,
    so the table is brought into view first)."""
    page.locator('[data-testid="stDataFrame"]').first.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll('[role=\"gridcell\"]').length > 0", timeout=30_000)
    return page.locator('[role="gridcell"]').all_inner_texts()


def draw_on(page, path: str, unipen, pen) -> None:
    rec = next(r for r in unipen if r["label"] == DRAWN[path] and len(r["strokes"]) == 1)
    page.locator(browser.CANVAS).first.scroll_into_view_if_needed()
    pen(strokes.canvas_paths(rec), browser.canvas_box(page))
    browser.settle(page, FIRST_VISIT_S)


def reads(page, digit: int) -> bool:
    """The page says a network reads the digit: "ConvNet reads 7" in words, or a metric (Filters' softmax,
    Explain's "DNN reads", Draw's "Prediction") whose value is the digit."""
    if page.get_by_text(re.compile(rf"reads {digit}\b")).count():
        return True
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text()
        value = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
        if re.search("reads|softmax|Prediction", label) and value == str(digit):
            return True
    return False


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_every_page_with_its_defaults(app, unipen, screen):
    url, chromium = app
    phone = screen == "phone"
    context = chromium.new_context(viewport=PHONE if phone else DESKTOP, has_touch=phone, is_mobile=phone)
    page = context.new_page()
    mouse = lambda paths, box: browser.draw(page, paths, box)  # noqa: E731
    pen = browser.finger(context, page) if phone else mouse
    problems = []  # every page is visited, and all that is wrong is told at once
    try:
        for path in PAGES:
            where = f"/{path} at {screen}"
            try:
                visit(page, url, path)
                check(page, where)
                if path in DRAWN:
                    draw_on(page, path, unipen, pen)
                    assert reads(page, DRAWN[path]), f"{where}: no network is said to read the drawn {DRAWN[path]}"
                    check(page, where + " after drawing")
                if path == "compare":  # the headline: the shipped networks' accuracy, as their cards hold it
                    shown = cells(page)
                    for name in registry.DRAW_MODELS:
                        accuracy = str(registry.card(name)["test_accuracy"])
                        assert accuracy in shown, f"{where}: {registry.get(name).title} {accuracy} not in {shown[:40]}"
            except (AssertionError, TimeoutError, PlaywrightError) as e:
                said = str(e).splitlines()[0]  # a check's own message names the page; Playwright's does not
                problems.append(said if isinstance(e, AssertionError) else f"{where}: {said}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
