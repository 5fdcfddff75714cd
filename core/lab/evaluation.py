"""A model's answers on its data set's test images, kept on disk, and what the Compare page reads from them.

Scoring 10,000 test images takes seconds per digit model on a CPU, and over a minute and a half for the CIFAR
ResNet-9 (each photo is read with its mirror image). So the shipped models' answers are shipped beside their
cards (``<name>.answers.npz``, written by ``python -m core answers``, naming the sha256 of the model file they
belong to), and any other model's are stored once per model file under ``$VP_HOME/cache/predictions``: the
Compare page opens at once, and every score (accuracy, macro-F1, per-class precision/recall/F1, confusion
matrix, mistakes) comes from the same numbers.

The cache (``core.base.array_cache``) is keyed by content: the model file's bytes, the test images and the code
that reads them (``core.nets.inference``). A fresh clone's byte-identical model finds its answers; a model
trained again, another test set or a changed reader computes them afresh.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.base import array_cache, device, paths
from core.base.files import atomic_path, file_digest
from core.base.metrics import evaluate
from core.data import datasets
from core.images import preprocess
from core.nets import inference, registry
from core.nets.inference import Predictor

ANSWERS_SUFFIX = ".answers.npz"


def _predictions_entry(name: str, x: np.ndarray) -> tuple[str, list]:
    """The cache name and key parts of model ``name``'s answers on test images ``x``."""
    return f"predictions/{name.replace(':', '_')}", [file_digest(registry.get(name).path()), x,
                                                     *array_cache.code(inference)]


def test_set(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The test images (float32 in [0, 1], with a channel axis) and labels of a data set."""
    _, (x_test, y_test) = datasets.load_dataset(dataset, download=False)
    x = preprocess.scale_pixels(x_test)
    return (x[..., None] if x.ndim == 3 else x), y_test


def answers_path(name: str) -> Path:
    """Where a shipped model's test answers are shipped: beside its card."""
    return registry.get(name).path().with_suffix(ANSWERS_SUFFIX)


def shipped_answers(name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The answers shipped beside model ``name`` and the test labels they are scored against, or None when there
    are none or they belong to another model file."""
    spec = registry.get(name)
    path = answers_path(name)
    if spec.file is not None or not path.is_file() or not spec.path().is_file():
        return None  # a lab run's model has no shipped answers
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["model_sha256"]) != datasets.sha256_file(spec.path()):
                return None  # the model was trained again after its answers were written
            return stored["probs"].astype(np.float32), stored["labels"]
    except (OSError, ValueError, KeyError):
        return None  # a damaged file: computed again


def test_labels(name: str) -> np.ndarray:
    """The test labels model ``name``'s answers are scored against: shipped with them (no data set to read, which
    takes half a minute for CIFAR-10 the first time), else its data set's."""
    shipped = shipped_answers(name)
    return shipped[1] if shipped is not None else test_set(registry.get(name).dataset)[1]


def ship_answers(name: str) -> Path:
    """Write shipped model ``name``'s test answers beside its card (``python -m core answers``)."""
    probs = test_predictions(name)
    path = answers_path(name)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        # float16 halves the file; a probability off by at most 0.05% changes no answer, mistake or score.
        np.savez_compressed(f, probs=probs.astype(np.float16), labels=test_set(registry.get(name).dataset)[1],
                            model_sha256=np.array(datasets.sha256_file(registry.get(name).path())))
    return path


def test_predictions(name: str, predictor: Predictor | None = None) -> np.ndarray:
    """Probabilities (N, classes) of model ``name`` on its data set's test images: the shipped answers of a
    shipped model, else computed once per model file, test set and reader (``core.base.array_cache``)."""
    shipped = shipped_answers(name)
    if shipped is not None:
        return shipped[0]
    spec = registry.get(name)
    x, _ = test_set(spec.dataset)

    def build() -> dict[str, np.ndarray]:
        for old in (paths.cache_dir() / "predictions").glob("*.npy"):  # kept by modification time before
            old.unlink(missing_ok=True)
        probs = (predictor or Predictor(name, registry.load(name))).predict_batch(x, batch_size=500)
        return {"probs": probs.astype(np.float32)}

    def valid(kept: dict[str, np.ndarray]) -> bool:
        probs = kept.get("probs")
        return probs is not None and probs.dtype == np.float32 and probs.ndim == 2 and len(probs) == len(x)

    return array_cache.cached(*_predictions_entry(name, x), build, valid)["probs"]


def scores(y_true: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of ``probs``."""
    return evaluate(y_true, probs)


def mistakes(y_true: np.ndarray, probs: np.ndarray, limit: int = 24) -> list[dict]:
    """The test images a model gets wrong, the most confidently wrong first."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    conf = probs[wrong, pred[wrong]]
    order = wrong[np.argsort(-conf)][:limit]
    return [{"index": int(i), "true": int(y_true[i]), "predicted": int(pred[i]),
             "confidence": float(probs[i, pred[i]])} for i in order]


def disagreements(predictions: dict[str, np.ndarray], limit: int = 24) -> list[dict]:
    """Test images on which the models give different answers, the most divided first."""
    names = list(predictions)
    preds = np.stack([predictions[n].argmax(axis=1) for n in names])
    split = np.flatnonzero((preds != preds[0]).any(axis=0))
    distinct = np.array([len(set(preds[:, i])) for i in split])
    order = split[np.argsort(-distinct, kind="stable")][:limit]
    return [{"index": int(i), "answers": {n: int(preds[k, i]) for k, n in enumerate(names)}} for i in order]


def ms_per_image(predictor: Predictor, repeats: int = 30) -> float:
    """Median milliseconds of one single-image call on this machine (the Draw page's case)."""
    x = np.zeros(predictor.shape, np.float32)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        predictor.predict(x)
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def time_ahead(names: list[str] | None = None) -> dict[str, float]:
    """Measure and keep ``kept_ms_per_image`` of every shipped network (or ``names``) not timed on this machine
    yet, one at a time: what the app server's start does on a side thread, so that Compare's first visit loads
    no network to fill its table (about 20 s on a busy 2-core machine)."""
    return {name: kept_ms_per_image(name, lambda name=name: Predictor.load(name))
            for name in (names if names is not None else registry.available(dataset=None))}


def kept_ms_per_image(name: str, load: Callable[[], Predictor]) -> float:
    """``ms_per_image`` of model ``name``, measured once per model file (its content) and machine, and kept in the
    array cache: a page lists every network's speed without loading every network at each server start.
    ``load`` gives the ready model, called only when no timing is kept."""
    parts = [name, file_digest(registry.get(name).path()), socket.gethostname(), device.device_label()]
    kept = array_cache.cached("ms-per-image", parts, lambda: {"ms": np.array([ms_per_image(load())])},
                              valid=lambda arrays: arrays["ms"].shape == (1,) and arrays["ms"][0] > 0)
    return float(kept["ms"][0])
