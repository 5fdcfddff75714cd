"""The pages as a teacher shows them: a 1400 px wide browser, sidebar open (issue 14, section 3).

What only a browser shows: a table wider than its frame, chart titles on top of each other, a chart clipped.
"""

import pytest

from core.images import strokes
from tests import browser

pytestmark = pytest.mark.slow

WIDTH = 1400


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    home = str(tmp_path_factory.mktemp("vp_home_pages_browser"))  # an empty run store
    with browser.browser() as chromium, browser.serve(env={"VP_HOME": home}) as (url, _):
        pg = chromium.new_page(viewport={"width": WIDTH, "height": 1000})
        pg.goto(url)
        yield pg
        pg.close()


def goto(page, path: str, heading: str) -> None:
    page.goto("/".join(page.url.split("/")[:3]) + path)
    page.get_by_role("heading", name=heading).wait_for(timeout=120_000)


def test_the_compare_table_fits_with_report_004_in_view(page):
    goto(page, "/compare", "Compare networks")
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=180_000)  # the first visit times every network
    page.wait_for_timeout(1000)
    headers = table.locator('[role="columnheader"]').all_inner_texts()  # the grid writes out the columns in view
    assert "report 004" in headers, headers
    scroll, shown = table.locator(".dvn-scroller").first.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scroll <= shown, f"the table is {scroll} px wide in a {shown} px frame: columns {headers} are in view"
