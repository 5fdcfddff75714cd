"""What a network remembers: the MNIST training digits closest to a drawing in the network's own features.

The features are the input of the network's last layer (its penultimate
activations): what it has made of a picture just before deciding. The 60,000
training digits' features are computed once per model file and kept under
``$VP_HOME/cache/embeddings``; a query is an exact nearest-neighbour search among
them with faiss (a flat L2 index): at this size it answers in 1-13 ms here, about
twice as fast as scikit-learn's brute force (2-24 ms; see bench/bench_explain.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import faiss
import keras
import numpy as np

from core.base import paths
from core.base.files import atomic_path
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


def _cache_file(name: str):
    key = hashlib.sha1(f"{name}:{registry.version(name)}".encode()).hexdigest()[:16]
    folder = paths.cache_dir() / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name.replace(':', '_')}-{key}.npy"


def build_index(name: str, model: keras.Model, batch_size: int = 1000) -> Index:
    """The index of MNIST's training digits for model ``name`` (features cached on disk per model file)."""
    (x_train, y_train), _ = datasets.load_mnist(download=False)
    path = _cache_file(name)
    if path.is_file():
        features = np.load(path, allow_pickle=False)
    else:
        embed = embedding_model(model)
        x = preprocess.scale_pixels(x_train)[..., None]
        features = np.concatenate([np.asarray(embed(x[i: i + batch_size], training=False), np.float32)
                                   for i in range(0, len(x), batch_size)])
        with atomic_path(path) as tmp:
            np.save(tmp, features)
    flat = faiss.IndexFlatL2(features.shape[1])
    flat.add(np.ascontiguousarray(features, np.float32))
    return Index(features, y_train, flat)
