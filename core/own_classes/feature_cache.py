"""The frozen network's penultimate features of a project's examples, computed once per example and cached.

Each example's features are a row of the array cache (``core.base.array_cache.rows``, under ``own-features/``),
keyed by content: the model file's bytes and the code that reads and embeds an example for the file, the example
file's bytes for the row. A new example costs one pass through the network; the same drawing in another project
(an import, a copy, a project taught again) costs none.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np

from core.base import array_cache
from core.base.files import file_digest
from core.images import preprocess
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


# The code that turns an example file into its features (as imported: tests stand in for ``embed`` to count
# its calls), and the module that cuts a network at its features (read rather than imported: see ``network``).
RECIPE = (decode_example, preprocess.scale_pixels, network, embed)
HEADS_SOURCE = Path(importlib.util.find_spec("core.nets.heads").origin)


def _recipe() -> str:
    """``RECIPE`` and ``HEADS_SOURCE``'s code, as one key part."""
    return array_cache.key([*array_cache.code(*RECIPE), HEADS_SOURCE.read_bytes()])


def features(project: Project, model_name: str = DEFAULT_MODEL) -> np.ndarray:
    """The (N, D) frozen features of the project's examples, in ``examples`` order.

    Each example's features are computed once and kept in the array cache, keyed by the model
    file's content (SHA-256), the recipe's code and the example file's content: a new example
    costs one network pass, and a new model file or a changed example is recomputed, never
    served stale.
    """
    folder = project_dir(project)
    shutil.rmtree(folder / "features", ignore_errors=True)  # the project's own cache, before the shared one
    files, _, _ = example_files(folder)
    data = [p.read_bytes() for p in files]
    hashes = [hashlib.sha256(d).hexdigest() for d in data]
    first = {h: i for i, h in reversed(list(enumerate(hashes)))}  # two identical drawings: one network pass

    def compute(missing: list[str]) -> np.ndarray:
        return embed(model_name, np.stack([decode_example(data[first[h]], files[first[h]]) for h in missing]))

    rows = array_cache.rows(f"own-features/{file_key(model_name)}", [model_key(model_name), _recipe()], hashes,
                            compute)
    return rows.astype(np.float32, copy=False)
