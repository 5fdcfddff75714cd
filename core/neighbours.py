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
import tensorflow as tf

from core import data, paths, registry

HEAD = "probs"


def embedding_model(model: keras.Model) -> keras.Model:
    """The network up to its last layer's input: a picture in, its features out."""
    return keras.Model(model.inputs[0], model.get_layer(HEAD).input)


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
    (x_train, y_train), _ = data.load_mnist(download=False)
    path = _cache_file(name)
    if path.is_file():
        features = np.load(path, allow_pickle=False)
    else:
        embed = embedding_model(model)
        x = x_train.astype(np.float32)[..., None] / 255.0
        features = np.concatenate([np.asarray(embed(x[i: i + batch_size], training=False), np.float32)
                                   for i in range(0, len(x), batch_size)])
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, features)
        tmp.replace(path)
    flat = faiss.IndexFlatL2(features.shape[1])
    flat.add(np.ascontiguousarray(features, np.float32))
    return Index(features, y_train, flat)


def compiled_embedder(model: keras.Model):
    """A fast one-image feature function for ``model`` (traced once; an eager call costs tens of ms)."""
    embed = embedding_model(model)
    fn = tf.function(lambda x: embed(x, training=False),
                     input_signature=[tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)])

    def features(image: np.ndarray) -> np.ndarray:
        return fn(tf.constant(np.asarray(image, np.float32).reshape(1, *model.input_shape[1:]))).numpy()[0]

    return features


def features_of(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """One image's features (the penultimate activations)."""
    x = np.asarray(image, np.float32).reshape(1, *model.input_shape[1:])
    return np.asarray(embedding_model(model)(x, training=False), np.float32)[0]
