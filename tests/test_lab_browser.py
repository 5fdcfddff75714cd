"""The training lab in a real browser: click Launch, watch the progress bar move, find the run in the table."""

import os
import re
import time

import pytest

from bench.harness import browser
from core.lab import runs

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def lab_home(tmp_path_factory):
    """The browser tests' VP_HOME: where their server keeps its run store."""
    return tmp_path_factory.mktemp("vp_home_browser")


@pytest.fixture(scope="module")
def lab_server(lab_home):
    """The app with its own empty run store (the server starts its own local Ray cluster on the first launch)."""
    home = lab_home
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


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module's tests (each opens a page of its own)."""
    with browser.browser() as b:
        yield b


def progress_values(page) -> list[float]:
    """The values (0-100) of the progress bars on the page."""
    bars = page.locator('[data-testid="stProgress"] [role="progressbar"]')
    return [float(bars.nth(i).get_attribute("aria-valuenow") or 0) for i in range(bars.count())]


def test_launch_watch_and_find_the_run_in_the_compare_table(lab_server, lab_home, chromium, monkeypatch, tmp_path):
    monkeypatch.setenv("VP_HOME", str(lab_home))  # this process reads the server's store
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
    # The table's headline figure is the store's: the run's test accuracy as MLflow holds it.
    [done] = [r for r in server_runs() if r.status == "FINISHED"]
    shown = [float(t) for t in page.locator('[role="gridcell"]').all_inner_texts() if re.fullmatch(r"0\.\d+", t)]
    assert any(abs(v - done.metrics["test_accuracy"]) < 1e-4 for v in shown), (done.metrics, shown)
    page.close()


def server_runs() -> list[runs.RunInfo]:
    """The runs in the server's store (VP_HOME set to it), none before the server has made it."""
    return runs.search() if runs.store_exists() else []


def test_enter_in_a_number_box_then_a_click_on_launch_starts_one_run(lab_server, lab_home, chromium, monkeypatch,
                                                                      tmp_path):
    """Enter in the form's number box submits the form; a click on Launch just after must not start a second
    run with the same settings."""
    monkeypatch.setenv("VP_HOME", str(lab_home))  # this process reads the server's store
    before = {r.run_id for r in server_runs()}
    new: list[runs.RunInfo] = []
    try:
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{lab_server}/compare")
        form = page.locator('[data-testid="stForm"]')
        form.wait_for(timeout=300_000)  # below the table, which times and scores every network first
        form.get_by_label("Epochs").fill("1")
        digits = form.get_by_label(re.compile("Training digits"))
        digits.fill("600")
        digits.press("Enter")
        # The click comes while the Enter's launch is under way (the server starts its Ray cluster first),
        # or just after it: the moment a student clicks Launch to be sure.
        page.get_by_text(re.compile("Starting the run engine|Queueing runs|Launched 1 run")).first.wait_for(
            timeout=120_000)
        form.get_by_role("button", name="Launch").click()
        # The first press launches (the server may first start its Ray cluster); the second, if it was not
        # stopped by Streamlit before it launched, is refused on the page or launches within seconds.
        said = page.get_by_text(re.compile("launched nothing"))
        deadline = time.monotonic() + 240
        while not new and time.monotonic() < deadline:
            new = [r for r in server_runs() if r.run_id not in before]
            page.wait_for_timeout(500)
        deadline = time.monotonic() + 30
        while len(new) < 2 and not said.count() and time.monotonic() < deadline:
            page.wait_for_timeout(500)
            new = [r for r in server_runs() if r.run_id not in before]
        page.wait_for_timeout(2000)
        new = [r for r in server_runs() if r.run_id not in before]
        print(f"second press: {'refused on the page' if said.count() else 'no word of it on the page'}")
        page.screenshot(path=browser.screenshot_path("lab_launch_once.png", tmp_path), full_page=True)
        page.close()
        assert len(new) == 1, f"{len(new)} runs launched: {[r.label for r in new]}"
        assert new[0].params["epochs"] == "1" and new[0].params["limit"] == "600"
    finally:
        for run in new:
            runs.request_cancel(run.run_id)
