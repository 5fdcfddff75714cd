"""The Draw page's networks as ONNX files, for reading a drawing in the browser while the pen moves.

A reading in the browser (onnxruntime-web) needs no round trip to the server, so it can follow every
pen move; it must still be the shipped network's own reading. Each ONNX file is exported from the
shipped ``.keras`` file by Keras' own ONNX export and has a card beside it naming the sha256 of the
file it was made from and how far its probabilities are from Keras' on real digits: a shipped model
replaced without its browser copy is caught by ``stale`` (and by a test).

Made by ``python -m core browser-models`` (``./train_all.sh`` runs it after training the digits).
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import numpy as np

from core.base.files import atomic_path
from core.base.paths import ROOT
from core.data import datasets
from core.nets import registry

BROWSER_DIR = ROOT / "static" / "models"  # served by the app at /app/static/models
CHECK_DIGITS = 256  # MNIST test digits on which each copy's probabilities are held to Keras'


def _stem(name: str) -> str:
    """A model's file name without its suffix: a lab network, ``run:<id>``, is ``run/<id>`` (static/live/reader.mjs
    finds it there; git ignores the folder)."""
    return name.replace(registry.RUN_PREFIX, registry.RUN_PREFIX[:-1] + "/", 1)


def onnx_path(name: str, out_dir: Path | None = None) -> Path:
    return (out_dir or BROWSER_DIR) / f"{_stem(name)}.onnx"


def card_path(name: str, out_dir: Path | None = None) -> Path:
    return (out_dir or BROWSER_DIR) / f"{_stem(name)}.json"


def check_images(n: int = CHECK_DIGITS) -> tuple[np.ndarray, str]:
    """The first ``n`` MNIST test digits as the networks take them, (n, 28, 28, 1) in [0, 1], and what they are;
    random pixels when MNIST is not here (the check then says less, but still compares the two files)."""
    try:
        (_, _), (x_test, _) = datasets.load_dataset("mnist", download=False)
        return (x_test[:n].astype(np.float32) / 255.0)[..., None], "MNIST test digits"
    except datasets.DataError:
        return np.random.default_rng(0).uniform(0, 1, (n, 28, 28, 1)).astype(np.float32), "random pixels"


def run_onnx(path: Path, images: np.ndarray) -> np.ndarray:
    """The ONNX file's output for (N, 28, 28, 1) images, by onnxruntime on the CPU."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images.astype(np.float32)})[0]


def export(name: str, models_dir: Path | None = None, out_dir: Path | None = None) -> dict:
    """Write the ONNX copy of the model ``name`` (shipped, or ``run:<id>`` from the lab) and its card; returns the
    card."""
    source = registry.get(name).path(models_dir)
    model = registry.load(name, models_dir)
    images, checked_on = check_images()
    model(images[:1])  # Keras exports only a model that has been called
    out = onnx_path(name, out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with atomic_path(out) as tmp:
        model.export(str(tmp), format="onnx", verbose=False)
        browser = run_onnx(tmp, images)
        keras_probs = np.asarray(model.predict(images, verbose=0))
        card = {"model": name, "source": source.name, "source_sha256": datasets.sha256_file(source),
                "onnx_sha256": datasets.sha256_file(tmp), "bytes": tmp.stat().st_size,
                "checked_on": f"{len(images)} {checked_on}",
                "max_abs_difference": float(np.abs(browser - keras_probs).max()),
                "same_top_digit": float((browser.argmax(1) == keras_probs.argmax(1)).mean()),
                "export_seconds": round(time.perf_counter() - start, 1)}
    with atomic_path(card_path(name, out_dir)) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n")
    return card


def stale(name: str, models_dir: Path | None = None, out_dir: Path | None = None) -> str | None:
    """Why the browser copy of ``name`` cannot stand for the shipped model (None when it can)."""
    onnx, card_file = onnx_path(name, out_dir), card_path(name, out_dir)
    if not onnx.is_file() or not card_file.is_file():
        return f"{name} has no browser copy in {onnx.parent}; make it with: python -m core browser-models"
    card = json.loads(card_file.read_text())
    source = registry.get(name).path(models_dir)
    if card.get("source_sha256") != datasets.sha256_file(source):
        return (f"{source.name} changed after its browser copy was made; remake it with: "
                "python -m core browser-models")
    if card.get("onnx_sha256") != datasets.sha256_file(onnx):
        return f"{onnx.name} is not the file its card describes; remake it with: python -m core browser-models"
    return None


@functools.cache
def _stands_for(name: str, versions: tuple[int, int]) -> bool:
    return stale(name) is None


def live_models(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The Draw networks, and of ``extra`` (lab networks, ``run:<id>``), those whose browser copy stands for their
    file now (checked once per file version): a copy left behind by a retrained model is not used, so the live
    reading never contradicts the page's."""
    out = []
    for name in (*registry.DRAW_MODELS, *(n for n in extra if n not in registry.DRAW_MODELS)):
        copy = onnx_path(name)
        if copy.is_file() and registry.version(name) and _stands_for(name, (registry.version(name),
                                                                            copy.stat().st_mtime_ns)):
            out.append(name)
    return out
