"""The frozen network's penultimate features of a project's examples, computed once per example and cached.

The cache sits in the project's ``features/`` folder, ``<model>.npy`` and ``<model>.json``, keyed by the model's
name, its file and each example's content, so a new example costs one pass through the network.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from core.base.files import atomic_path, file_digest
from core.nets import registry
from core.own_classes.projects import (
    DEFAULT_MODEL,
    NETWORKS,
    SIDE,
    Project,
    ProjectError,
    decode_example,
    example_files,
    project_dir,
)


def model_key(model_name: str) -> str:
    """The model file's content digest: what the cached features and a head are keyed by. A fresh clone or a copy
    of a byte-identical file keeps them valid; a retrained network (new weights) does not."""
    return file_digest(registry.get(model_name).path())


def file_key(model_name: str) -> str:
    return re.sub(r"[^\w\-]", "_", model_name)  # 'run:<id>' names a lab model: no ':' in file names


@functools.lru_cache(maxsize=4)
def network(model_name: str, version: str):
    """The network up to its penultimate layer, and a compiled one-image version (kept per model file)."""
    # Imported here: Keras takes seconds to load, and listing or deleting projects needs none of it.
    from core.nets import heads

    model = registry.load(model_name)
    if tuple(model.input_shape[1:]) != (SIDE, SIDE, 1):
        readers = ", ".join(n for n in NETWORKS if n in registry.available(dataset=None))
        raise ProjectError(f"'{model_name}' does not read {SIDE}x{SIDE} gray drawings; choose one of the "
                           f"drawing networks: {readers}.")
    return heads.embedding_model(model), heads.compiled_embedder(model)


def embed(model_name: str, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The penultimate features of (N, 28, 28) pictures in [0, 1]: one pass through the frozen network."""
    reader, _ = network(model_name, model_key(model_name))
    x = np.asarray(images, np.float32).reshape(-1, SIDE, SIDE, 1)
    return np.concatenate([np.asarray(reader(x[i: i + batch_size], training=False), np.float32)
                           for i in range(0, len(x), batch_size)])


def _read_cache(folder: Path, model_name: str, version: str) -> dict[str, np.ndarray]:
    """Cached features by example hash; empty when missing, damaged or made by another model file."""
    index, matrix = folder / f"{file_key(model_name)}.json", folder / f"{file_key(model_name)}.npy"
    try:
        meta = json.loads(index.read_text())
        rows = np.load(matrix, allow_pickle=False)
        if meta["model"] != model_name or meta["version"] != version or rows.ndim != 2 \
                or len(meta["hashes"]) != len(rows):
            return {}
        return dict(zip(meta["hashes"], rows))
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_cache(folder: Path, model_name: str, version: str, cache: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    index, matrix = folder / f"{file_key(model_name)}.json", folder / f"{file_key(model_name)}.npy"
    # The index and the matrix are checked against each other on reading, so a crash between the two
    # renames leaves a cache that is ignored, never one that pairs features with the wrong examples.
    with atomic_path(index) as tmp_index, atomic_path(matrix) as tmp_matrix:
        np.save(tmp_matrix, np.stack(list(cache.values())).astype(np.float32))
        tmp_index.write_text(json.dumps({"model": model_name, "version": version, "hashes": list(cache)}))


def features(project: Project, model_name: str = DEFAULT_MODEL) -> np.ndarray:
    """The (N, D) frozen features of the project's examples, in ``examples`` order.

    Each example's features are computed once and kept under the project's
    ``features/`` folder, keyed by the model's name, its file's content (SHA-256) and the
    example file's content (SHA-256): a new example costs one network pass, and
    a new model file or a changed example is recomputed, never served stale.
    """
    folder = project_dir(project)
    files, _, _ = example_files(folder)
    version = model_key(model_name)
    data = [p.read_bytes() for p in files]
    hashes = [hashlib.sha256(d).hexdigest() for d in data]
    cache = _read_cache(folder / "features", model_name, version)
    # hash -> first example with it, for the examples not in the cache (two identical drawings: one pass).
    missing = {h: i for i, h in reversed(list(enumerate(hashes))) if h not in cache}
    if missing:
        new = embed(model_name, np.stack([decode_example(data[i], files[i]) for i in missing.values()]))
        cache.update(zip(missing, new))
    kept = {h: cache[h] for h in dict.fromkeys(hashes)}  # removed examples' features are dropped
    if kept and (missing or len(kept) != len(cache)):
        _write_cache(folder / "features", model_name, version, kept)
    if not hashes:
        return np.zeros((0, 0), np.float32)
    return np.stack([kept[h] for h in hashes]).astype(np.float32)

