"""Your own classes in a real browser: the projects a browser makes are its own, across a reload, and another
browser (its own storage) does not see them until they are shared."""

import pytest

from bench.harness import browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def open_own_classes(context, url):
    page = context.new_page()
    page.goto(url.rstrip("/") + "/own-classes")
    page.get_by_role("heading", name="Your own classes").wait_for(timeout=90_000)
    page.get_by_label("New project").wait_for(timeout=60_000)  # the browser's token has come back
    return page


def test_a_browser_keeps_its_projects_and_another_browser_does_not_see_them(app_server):
    # The session's app server: a project made here is this browser's own (that is the point), so the other
    # tests' browsers on that server never see it.
    url = app_server
    with browser.browser() as chromium:
        alice = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = open_own_classes(alice, url)
        page.get_by_label("New project").fill("alices shapes")
        page.get_by_label("Its classes, separated by commas (2 to 10)").fill("circle, cross")
        page.get_by_role("button", name="Create").click()
        page.get_by_text("Draw at least 2 examples", exact=False).wait_for(timeout=60_000)
        page.reload()
        page.get_by_text("Draw at least 2 examples", exact=False).wait_for(timeout=90_000)
        # A reload opens this browser's project (the selectbox shows it; the hint above says one is open).
        assert "alices shapes" in page.locator('[data-testid="stSelectbox"]').first.inner_html()
        bob = open_own_classes(chromium.new_context(viewport={"width": 1400, "height": 1000}), url)
        bob.get_by_text("Create a project to start", exact=False).wait_for(timeout=60_000)
        assert "alices shapes" not in bob.content()
