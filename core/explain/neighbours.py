"""What a network remembers: the MNIST training digits closest to a drawing in the network's own features.

The features are the input of the network's last layer (its penultimate
activations): what it has made of a picture just before deciding. The 60,000
training digits' features are computed once and kept under ``$VP_HOME/cache/embeddings``
(``core.base.array_cache``), keyed by content: the model file's bytes, the training
digits and the code that computes them; a query is an exact nearest-neighbour search among
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

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import faiss
import keras
import numpy as np

from core.base import array_cache, paths
from core.base.files import file_digest, locked
from core.data import datasets
from core.images import preprocess
from core.nets import heads, registry


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


CACHE = "embeddings"  # the folder under the cache (tests keep it between sessions: tests/conftest.py)


def _features_entry(name: str, x: np.ndarray) -> tuple[str, list]:
    """The cache name and key parts of model ``name``'s features of the training digits ``x`` (uint8)."""
    recipe = array_cache.code(_features, _sample_features, heads.embedding_model, preprocess.scale_pixels)
    return f"{CACHE}/{name.replace(':', '_')}", [file_digest(registry.get(name).path()), x, *recipe]


def _whole(model: keras.Model, digits: int) -> Callable[[dict[str, np.ndarray]], bool]:
    """Whether kept features are whole: ``digits`` rows of float32 as wide as the network's features. A copy
    that is not (a disk error, a file copied in from elsewhere) is computed again rather than a wrong index
    searched."""
    width = heads.embedding_model(model).output.shape[-1]

    def valid(kept: dict[str, np.ndarray]) -> bool:
        features = kept.get("features")
        return features is not None and features.dtype == np.float32 and features.shape == (digits, width)

    return valid


def _features(model: keras.Model, x: np.ndarray, batch_size: int = BATCH) -> np.ndarray:
    """The penultimate activations of digits ``x`` (n, 28, 28, uint8), a batch at a time."""
    embed = heads.embedding_model(model)
    return np.concatenate([np.asarray(embed(preprocess.scale_pixels(x[i: i + batch_size])[..., None],
                                            training=False), np.float32)
                           for i in range(0, len(x), batch_size)])


def _index(features: np.ndarray, labels: np.ndarray) -> Index:
    flat = faiss.IndexFlatL2(features.shape[1])
    flat.add(np.ascontiguousarray(features, np.float32))
    return Index(features, labels, flat)


def _training_digits() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's training digits (uint8, scaled a batch at a time as they are read) and labels."""
    (x_train, y_train), _ = datasets.load_mnist(download=False)
    return x_train, y_train


def build_index(name: str, model: keras.Model, batch_size: int = BATCH) -> Index:
    """The index of MNIST's training digits for model ``name`` (features cached on disk, keyed by content)."""
    x, y = _training_digits()
    return _index(_full_features(name, model, x, batch_size=batch_size), y)


def _full_features(name: str, model: keras.Model, x: np.ndarray, sample: np.ndarray | None = None,
                   batch_size: int = BATCH) -> np.ndarray:
    """Every training digit's features: the kept copy, or computed (after the ``sample`` rows already computed)
    and kept. Under a lock per network: a second builder, in this process or another (the server's ahead
    build, a page, ``python -m core indexes``), waits for the first and reads its copy rather than computing
    the same features on the same cores."""
    entry = _features_entry(name, x)
    with locked(array_cache.path_for(*entry).with_name(f".{name.replace(':', '_')}.lock")):
        kept = array_cache.kept(*entry, _whole(model, len(x)))
        if kept is not None:
            return kept["features"]
        rest = _features(model, x[0 if sample is None else len(sample):], batch_size)
        features = rest if sample is None else np.concatenate([sample, rest])
        _forget_npy()
        array_cache.keep(*entry, {"features": features})
        return features


def _forget_npy() -> None:
    """Remove the features kept as ``.npy`` before the shared array cache (up to 60 MB a network)."""
    for old in (paths.cache_dir() / CACHE).glob("*.npy"):
        old.unlink(missing_ok=True)


def build_ahead(names: tuple[str, ...] = AHEAD) -> Iterator[dict]:
    """Compute and keep the features of every network in ``names`` that has a trained file, one after another,
    so that no page waits for them; one summary each: the network, the training digits, whether its features
    were computed now or found kept, and the seconds."""
    x = None  # the training digits, read once
    for name in [n for n in names if registry.version(n)]:
        began = time.perf_counter()
        x = _training_digits()[0] if x is None else x
        kept = array_cache.path_for(*_features_entry(name, x)).is_file()
        if not kept:
            _full_features(name, registry.load(name), x)
        yield {"network": name, "digits": len(x), "computed": not kept,
               "seconds": round(time.perf_counter() - began, 1)}


def _sample_features(model: keras.Model, x: np.ndarray) -> tuple[np.ndarray, float]:
    """The features of the first training digits, a ``SAMPLE_BATCH`` at a time, until the next batch would end
    after ``SAMPLE_SECONDS`` or ``SAMPLE`` digits are read; and the seconds a digit took in the last batch (the
    first pays for tracing the model, so it would overstate the rest)."""
    embed = heads.embedding_model(model)
    began, parts = time.perf_counter(), []
    while len(parts) * SAMPLE_BATCH < SAMPLE:
        start, batch_began = len(parts) * SAMPLE_BATCH, time.perf_counter()
        batch = preprocess.scale_pixels(x[start: start + SAMPLE_BATCH])[..., None]
        parts.append(np.asarray(embed(batch, training=False), np.float32))
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
        x, y = _training_digits()
        kept = array_cache.kept(*_features_entry(name, x), _whole(model, len(x)))
        self._full = _index(kept["features"], y) if kept is not None else None

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
            self._full = _index(_full_features(self.name, self.model, x, sample), y)
        except Exception as e:  # noqa: BLE001 - the sample's index stays in use; the page says why
            self.error = f"{type(e).__name__}: {e}"
