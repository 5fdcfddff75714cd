"""The training lab in a real browser: click Launch, watch the progress bar move, find the run in the table."""

import os
import re
import time

import pytest

from tests import browser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """The app with its own empty run store (the server starts its own local Ray cluster on the first launch)."""
    home = tmp_path_factory.mktemp("vp_home_browser")
    saved = os.environ.get("VP_HOME")
    os.environ["VP_HOME"] = str(home)
    try:
        with browser.serve() as (url, _):
            yield url
    finally:
        if saved is None:
            os.environ.pop("VP_HOME", None)
        else:
            os.environ["VP_HOME"] = saved


def progress_values(page) -> list[float]:
    """The values (0-100) of the progress bars on the page."""
    bars = page.locator('[data-testid="stProgress"] [role="progressbar"]')
    return [float(bars.nth(i).get_attribute("aria-valuenow") or 0) for i in range(bars.count())]


def test_launch_watch_and_find_the_run_in_the_compare_table(lab_server, tmp_path):
    with browser.browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{lab_server}/compare")
        page.get_by_role("heading", name="Compare networks").wait_for(timeout=90_000)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=90_000)
        form = page.locator('[data-testid="stForm"]')
        form.wait_for(timeout=60_000)
        # Typed values are taken when the field loses focus (Enter would submit the form at once).
        form.get_by_label("Epochs").fill("3")
        form.get_by_label(re.compile("Training digits")).fill("3000")
        form.get_by_role("button", name="Launch").click()

        # The progress bar appears and moves while the run trains.
        seen: list[float] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            values = progress_values(page)
            if values:
                seen.append(values[0])
                if len(set(seen)) >= 2 and seen[-1] > seen[0]:
                    break
            page.wait_for_timeout(500)
        assert len(set(seen)) >= 2 and max(seen) > min(seen), f"progress seen: {seen}"
        page.screenshot(path=browser.screenshot_path("lab_training.png", tmp_path), full_page=True)

        # When it ends, the page refreshes and the run is a row of the table.
        row = page.locator('[role="gridcell"]').filter(has_text=re.compile(r"^DNN, run \d+ \(lr 0\.001\)$"))
        row.first.wait_for(state="attached", timeout=300_000)
        page.locator('[data-testid="stProgress"]').first.wait_for(state="detached", timeout=30_000)
        assert page.get_by_text(re.compile(r"DNN, run \d+ \(lr 0\.001\).*test accuracy")).count() >= 1
        page.close()
