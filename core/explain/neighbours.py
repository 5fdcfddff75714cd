"""What a network remembers: the MNIST training digits closest to a drawing in the network's own features.

The features are the input of the network's last layer (its penultimate
activations): what it has made of a picture just before deciding. The 60,000
training digits' features are computed once per model file (its content) and kept under
``$VP_HOME/cache/embeddings``; a query is an exact nearest-neighbour search among
them with faiss (a flat L2 index): at this size it answers in 1-13 ms here, about
twice as fast as scikit-learn's brute force (2-24 ms; see bench/bench_explain.py).

Computing 60,000 digits' features takes 10-17 s (the DNN) to a minute or more (the
ResNet) on a laptop CPU, too long to keep a page waiting. So they are computed
ahead: ``build_ahead`` computes every shipped network's when the app server starts
(on a side thread) or at install (``python -m core indexes``). Should a page still
come first, ``Indexer`` starts with as many of the first training digits as it
reads in ``SAMPLE_SECONDS`` (at most ``SAMPLE``), and the full index follows in a
background thread; the page says which one it searched. One builder at a time per
model file, across threads and processes: a second waits for the first and reads
what it saved.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import keras
import numpy as np

from core.base import paths
from core.base.files import atomic_path, file_digest, locked
from core.data import datasets
from core.images import preprocess
from core.nets import registry
from core.nets.heads import embedding_model


@dataclass
class Index:
    """Training digits' features, searchable, with their labels."""

    features: np.ndarray
    labels: np.ndarray
    search: faiss.IndexFlatL2

    def nearest(self, feature: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Indices into MNIST's training set and (Euclidean) distances of the ``k`` nearest digits."""
        squared, idx = self.search.search(np.ascontiguousarray(feature, np.float32).reshape(1, -1), k)
        return idx[0], np.sqrt(np.maximum(squared[0], 0.0))


SAMPLE = 6_000  # at most this many training digits for a first visit, while the full index is built
SAMPLE_SECONDS = 3.0  # and no more than it reads in this time (a batch at least): slow networks get fewer
BATCH = 1000  # digits per forward pass while computing features
SAMPLE_BATCH = 500  # the sample's: small enough to stop near SAMPLE_SECONDS with a slow network
AHEAD = (*registry.DRAW_MODELS, "net002")  # the shipped networks the Explain page offers: indexed ahead


def _cache_file(name: str) -> Path:
    # Keyed by the model file's content: a fresh clone or a copy of the same weights finds the features kept.
    key = hashlib.sha1(f"{name}:{file_digest(registry.get(name).path())}".encode()).hexdigest()[:16]
    folder = paths.cache_dir() / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name.replace(':', '_')}-{key}.npy"


def _features(model: keras.Model, x: np.ndarray, batch_size: int = BATCH) -> np.ndarray:
    """The penultimate activations of ``x`` (n, 28, 28, 1), a batch at a time."""
    embed = embedding_model(model)
    return np.concatenate([np.asarray(embed(x[i: i + batch_size], training=False), np.float32)
                           for i in range(0, len(x), batch_size)])


def _index(features: np.ndarray, labels: np.ndarray) -> Index:
    flat = faiss.IndexFlatL2(features.shape[1])
    flat.add(np.ascontiguousarray(features, np.float32))
    return Index(features, labels, flat)


def _training_digits() -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), _ = datasets.load_mnist(download=False)
    return preprocess.scale_pixels(x_train)[..., None], y_train


@functools.cache
def _training_labels() -> np.ndarray:
    """The training digits' labels alone: what an index whose features are kept needs (the pixels, scaled to
    floats, take seconds on a busy machine). Read once per process (60 kB), not once per network."""
    return datasets.load_mnist(download=False)[0][1]


def build_index(name: str, model: keras.Model, batch_size: int = BATCH) -> Index:
    """The index of MNIST's training digits for model ``name`` (features cached on disk per model file)."""
    x, y = _training_digits()
    return _index(_full_features(model, _cache_file(name), x, batch_size=batch_size), y)


def _full_features(model: keras.Model, path: Path, x: np.ndarray, sample: np.ndarray | None = None,
                   batch_size: int = BATCH) -> np.ndarray:
    """Every training digit's features: the whole copy at ``path``, or computed (after the ``sample`` rows already
    computed) and saved there. Under a lock beside ``path``: a second builder, in this process or another, waits
    for the first and reads its copy rather than computing the same features on the same cores."""
    with locked(path.with_name(f".{path.stem}.lock")):
        features = _kept_features(path, model, len(x))
        if features is None:
            rest = _features(model, x[0 if sample is None else len(sample):], batch_size)
            features = rest if sample is None else np.concatenate([sample, rest])
            with atomic_path(path) as tmp:
                np.save(tmp, features)
    return features


def build_ahead(names: tuple[str, ...] = AHEAD) -> Iterator[dict]:
    """Compute and keep the features of every network in ``names`` that has a trained file, one after another,
    so that no page waits for them; one summary each: the network, the training digits, whether its features
    were computed now or found kept, and the seconds. The cache files are named before the first is built,
    so a later change of ``VP_HOME`` (a test's) does not move where they go."""
    files = {name: _cache_file(name) for name in names if registry.version(name)}
    x = None  # the training digits, read only when some features must be computed
    for name, path in files.items():
        began, kept = time.perf_counter(), path.is_file()
        if not kept:
            x = _training_digits()[0] if x is None else x
            _full_features(registry.load(name), path, x)
        yield {"network": name, "digits": len(_training_labels()), "computed": not kept,
               "seconds": round(time.perf_counter() - began, 1)}


def _kept_features(path: Path, model: keras.Model, digits: int) -> np.ndarray | None:
    """The features kept at ``path``, when they are whole: ``digits`` rows of float32 as wide as the
    network's features. A copy that is not (a disk error, a file copied in from elsewhere) is removed and None
    returned, so the features are computed again rather than a wrong index searched."""
    if not path.is_file():
        return None
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        features = None
    width = embedding_model(model).output.shape[-1]
    if features is None or features.dtype != np.float32 or features.shape != (digits, width):
        found = "not a readable array" if features is None else f"{features.dtype} {features.shape}"
        logging.getLogger(__name__).warning("the nearest-neighbour features %s are damaged (%s, not float32 "
                                            "(%d, %d)): computing them again", path, found, digits, width)
        path.unlink(missing_ok=True)
        return None
    return features


def _sample_features(model: keras.Model, x: np.ndarray) -> tuple[np.ndarray, float]:
    """The features of the first training digits, a ``SAMPLE_BATCH`` at a time, until the next batch would end
    after ``SAMPLE_SECONDS`` or ``SAMPLE`` digits are read; and the seconds a digit took in the last batch (the
    first pays for tracing the model, so it would overstate the rest)."""
    embed = embedding_model(model)
    began, parts = time.perf_counter(), []
    while len(parts) * SAMPLE_BATCH < SAMPLE:
        start, batch_began = len(parts) * SAMPLE_BATCH, time.perf_counter()
        parts.append(np.asarray(embed(x[start: start + SAMPLE_BATCH], training=False), np.float32))
        per_digit = (time.perf_counter() - batch_began) / SAMPLE_BATCH
        if time.perf_counter() - began + per_digit * SAMPLE_BATCH > SAMPLE_SECONDS:
            break
    return np.concatenate(parts), per_digit


class Indexer:
    """The nearest-digit index a page searches now, for one model file.

    The full index when its features are on disk. Otherwise ``start`` indexes the
    first training digits it can read in a few seconds (MNIST's order is already
    shuffled, so they stand for all ten digits) and computes the rest in a
    background thread; the full index replaces the sample as soon as it is saved.
    One per model file and process: every session shares it, and the features are
    computed once.
    """

    def __init__(self, name: str, model: keras.Model):
        self.name, self.model = name, model
        self._lock = threading.Lock()
        self._full: Index | None = None
        self._sample: Index | None = None
        self.sample_seconds: float | None = None  # how long the sample took (bench_explain reports it)
        self.error: str | None = None  # why the full build failed, if it did
        self._digits, self._rest_began = 0, None  # training digits in all; when the full build began
        self._per_digit = 0.0  # seconds a digit, as the sample's last batch went
        self._path = _cache_file(name)
        if self._path.is_file():
            labels = _training_labels()
            features = _kept_features(self._path, model, len(labels))
            self._full = _index(features, labels) if features is not None else None

    @property
    def complete(self) -> bool:
        """The index covers all the training digits."""
        return self._full is not None

    @property
    def index(self) -> Index | None:
        """The full index if ready, else the sample's (None before ``start``)."""
        return self._full or self._sample

    def start(self) -> Index:
        """The index to search now: the sample's is computed here (seconds), the full one in the background."""
        with self._lock:  # two sessions asking at once: one computes, the other waits for it
            if self.index is None:
                x, y = _training_digits()
                began = time.perf_counter()
                features, self._per_digit = _sample_features(self.model, x)
                self.sample_seconds = time.perf_counter() - began
                self._sample = _index(features, y[: len(features)])
                self._digits, self._rest_began = len(x), time.perf_counter()
                threading.Thread(target=self._build_rest, args=(features,), daemon=True,
                                 name=f"index-{self.name}").start()
        return self.index

    def seconds_left(self) -> float:
        """About how long the full index still takes: the sample's last batch's pace over the digits left, less
        the time spent on them so far."""
        if self.complete or self._rest_began is None:
            return 0.0
        estimate = self._per_digit * (self._digits - len(self._sample.labels))
        return max(estimate - (time.perf_counter() - self._rest_began), 0.0)

    def _build_rest(self, sample: np.ndarray) -> None:
        try:
            x, y = _training_digits()
            self._full = _index(_full_features(self.model, self._path, x, sample), y)
        except Exception as e:  # noqa: BLE001 - the sample's index stays in use; the page says why
            self.error = f"{type(e).__name__}: {e}"
