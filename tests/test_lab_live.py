"""Issue 18: a network trained in the lab reads the drawing live too, once a student makes its browser copy."""

import pytest

from bench.harness import browser
from core.data import datasets
from core.images import strokes
from core.lab import runs
from core.nets import browser as browser_copies
from core.nets import registry

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def finished_run_with_the_dnns_weights() -> runs.RunInfo:
    """A finished lab run whose model is the shipped DNN's file, stored as a run stores it (no training)."""
    from core.training.train import TrainConfig

    config = TrainConfig(model="dnn", epochs=1)
    run = runs.create(config.params() | {"dataset": "mnist", "learning_rate": config.lr}, "dnn", "compare", "local")
    spec, classes = registry.get("dnn"), datasets.get_dataset("mnist").classes
    card = {"epochs_run": 1, "train_seconds": 1.0, "confusion_matrix": [[0] * 10] * 10} | registry.card("dnn")
    card |= {f"per_class_{score}": [card["test_accuracy"]] * 10 for score in ("precision", "recall", "f1")}
    runs.log_result(run.run_id, card, spec.path(), spec.card_path(), classes)
    runs.client().set_tag(run.run_id, runs.Tag.HAS_MODEL, "1")
    runs.finish(run.run_id, "FINISHED")
    return run


def test_a_lab_network_reads_while_the_pen_moves_once_its_copy_is_made(run_store):
    from playwright.sync_api import expect

    run = finished_run_with_the_dnns_weights()
    name = f"{registry.RUN_PREFIX}{run.run_id}"
    label = registry.get(name).title
    try:
        with browser.serve(env={"VP_HOME": str(run_store)}) as (url, _), browser.browser() as b:
            page = b.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            box = browser.canvas_box(page)
            page.locator('[data-testid="stMultiSelect"]').filter(has_text="Networks").first.click()
            page.get_by_role("option", name=label).click()
            page.keyboard.press("Escape")
            offer = page.get_by_role("button", name=f"Read {label} live too")
            offer.click()  # until now it answered at pen-up only
            expect(offer).to_have_count(0, timeout=120_000)
            live_row = page.locator(f'[data-testid="vp-live"] .vp-row[data-model="{name}"]')

            def at(x, y):
                return (box["x"] + x * box["width"] / strokes.CANVAS_SIDE,
                        box["y"] + y * box["height"] / strokes.CANVAS_SIDE)

            page.mouse.move(*at(70, 50))
            page.mouse.down()
            for x in range(70, 211, 10):  # a 7: the bar, then the stem, read before the button is lifted
                page.mouse.move(*at(x, 50))
            for y in range(50, 241, 10):
                page.mouse.move(*at(210 - (y - 50) * 0.45, y))
            expect(live_row).to_have_attribute("data-digit", "7", timeout=30_000)
            # The same weights as the shipped DNN: the same reading, live.
            dnn_row = page.locator('[data-testid="vp-live"] .vp-row[data-model="dnn"]')
            assert live_row.get_attribute("data-digit") == dnn_row.get_attribute("data-digit")
            assert live_row.locator(".vp-name").get_attribute("title") == label
            page.mouse.up()
        assert browser_copies.stale(name) is None
    finally:
        browser_copies.onnx_path(name).unlink(missing_ok=True)
        browser_copies.card_path(name).unlink(missing_ok=True)
