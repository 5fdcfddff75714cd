"""The Draw page's networks as ONNX files for the browser: each is the shipped network, and stays so."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.nets import browser, registry
from tests.needs import require_data


@pytest.mark.parametrize("name", registry.DRAW_MODELS)
def test_each_shipped_draw_network_has_a_browser_copy_made_from_the_file_shipped_now(name):
    # Fails when a shipped .keras file is retrained or replaced without `python -m core browser-models`.
    assert browser.stale(name) is None, browser.stale(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", registry.DRAW_MODELS)
def test_each_browser_copy_reads_digits_as_the_shipped_network_does(name):
    images, _ = browser.check_images(200)
    expected = registry.load(name).predict(images, verbose=0)
    got = browser.run_onnx(browser.onnx_path(name), images)
    assert got.shape == expected.shape == (200, 10)
    assert np.abs(got - expected).max() < 1e-4 and (got.argmax(1) == expected.argmax(1)).all()


@pytest.mark.slow
def test_a_changed_model_or_copy_is_caught_and_export_makes_it_right_again(tmp_path):
    models, out = tmp_path / "models", tmp_path / "browser"
    models.mkdir()
    shutil.copy(registry.get("convnet").path(), models / "convnet.keras")
    assert "no browser copy" in browser.stale("convnet", models, out)
    card = browser.export("convnet", models, out)
    assert browser.stale("convnet", models, out) is None
    assert card["same_top_digit"] == 1.0 and card["max_abs_difference"] < 1e-4
    assert json.loads(browser.card_path("convnet", out).read_text()) == card
    # another network saved under the same name: the copy no longer stands for it
    shutil.copy(registry.get("dnn").path(), models / "convnet.keras")
    assert "changed after its browser copy" in browser.stale("convnet", models, out)
    browser.export("convnet", models, out)
    assert browser.stale("convnet", models, out) is None
    with open(browser.onnx_path("convnet", out), "ab") as f:
        f.write(b"\0")
    assert "not the file its card describes" in browser.stale("convnet", models, out)


def test_the_copies_are_checked_on_real_digits_when_mnist_is_here():
    require_data("mnist")
    cards = [json.loads(browser.card_path(n).read_text()) for n in registry.DRAW_MODELS]
    assert all(c["checked_on"] == f"{browser.CHECK_DIGITS} MNIST test digits" and c["same_top_digit"] == 1.0
               for c in cards), cards


def test_the_vendored_runtime_is_the_version_package_json_pins():
    from core.base.paths import ROOT

    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["onnxruntime-web"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/onnxruntime-web"]
    bundle = ROOT / "static" / "vendor" / "onnxruntime-web" / "ort.wasm.bundle.min.mjs"
    assert locked["version"] == pinned
    assert f"ONNX Runtime Web v{pinned}\n" in bundle.read_text()[:200]
    assert (bundle.parent / "ort-wasm-simd-threaded.wasm").stat().st_size > 1_000_000


def test_a_lab_networks_copy_goes_to_a_folder_git_ignores(tmp_path):
    import subprocess

    from core.base.paths import ROOT

    copy = browser.onnx_path("run:0123abcd")
    assert copy == browser.BROWSER_DIR / "run" / "0123abcd.onnx"
    assert browser.card_path("run:0123abcd") == browser.BROWSER_DIR / "run" / "0123abcd.json"
    assert subprocess.run(["git", "check-ignore", "-q", str(copy)], cwd=ROOT).returncode == 0
