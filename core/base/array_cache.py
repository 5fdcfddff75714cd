"""One content-keyed cache of NumPy arrays under ``VP_HOME/cache``.

Derived arrays that are slow to make (decoded photos, a built data set, a network's features or answers) are
kept as one uncompressed ``.npz`` each, named by a hash of what they were made from: the caller lists the parts
(a model file's digest, the input arrays themselves, the code of the recipe that makes them), so a changed input
is a new key and never reads a stale copy, and the same inputs on another machine or a fresh clone find the
same name. A damaged copy (truncated, not an archive, or not what the recipe makes) is removed and rebuilt;
every write is atomic, so two processes building the same key at once both end with a whole file.

``cached`` reads or builds in one step. A cache built in two phases (a quick part for now, the whole later, in
the background) reads with ``kept`` and writes with ``keep``. A cache written in parts, one row per item (the
features of each drawing a user adds), is ``rows``: only the items not kept yet are computed.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from core.base import paths
from core.base.files import atomic_path

Arrays = dict[str, np.ndarray]
Part = str | bytes | np.ndarray

ROWS_LIMIT = 20_000  # rows kept in one ``rows`` file at most: the oldest go first (about 20 MB at 256 floats a row)

log = logging.getLogger(__name__)


def key(parts: Iterable[Part]) -> str:
    """A short hex key over ``parts`` in order (each part length-prefixed, so parts never run together); an array
    counts by its dtype, shape and content."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            content = hashlib.sha256(np.ascontiguousarray(part).data).hexdigest()
            part = f"array {part.dtype.str} {part.shape} {content}"
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:24]


def code(*recipe: object) -> list[bytes]:
    """The source code of the modules, classes or functions that make a cache's arrays: parts of its key, so a
    changed recipe makes its arrays again by itself (a version number bumped by hand can be forgotten)."""
    return [_source(obj) for obj in recipe]


@functools.lru_cache(maxsize=256)
def _source(obj: object) -> bytes:
    return inspect.getsource(obj).encode()  # read once per process: the code it runs does not change under it


def path_for(name: str, parts: Iterable[Part]) -> Path:
    """Where the arrays of ``name`` made from ``parts`` are kept (``name`` may start with a folder:
    ``"embeddings/dnn"``)."""
    path = paths.cache_dir() / f"{name}-{key(parts)}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def read(path: Path) -> Arrays | None:
    """The arrays kept at ``path``, or None when there are none or the copy is damaged (it is then removed)."""
    if not path.is_file():
        return None
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a lone .npy array under the name
            raise ValueError("not an .npz archive")
        with archive:
            return {name: archive[name] for name in archive.files}  # reading checks each array's CRC
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        log.warning("the cached arrays %s are damaged (%s): making them again", path, e)
        path.unlink(missing_ok=True)
        return None


def kept(name: str, parts: Iterable[Part], valid: Callable[[Arrays], bool] = lambda arrays: True
         ) -> Arrays | None:
    """The arrays kept for ``name`` made from ``parts``, or None when there are none yet or the copy is damaged.

    ``valid`` judges a copy read back (its shapes, dtypes, labels): one that reads but is not what the recipe
    makes is damaged too, and is removed rather than served."""
    path = path_for(name, parts)
    arrays = read(path)
    if arrays is not None and not valid(arrays):
        log.warning("the cached arrays %s are not what their recipe makes: making them again", path)
        path.unlink(missing_ok=True)
        return None
    return arrays


def keep(name: str, parts: Iterable[Part], arrays: Arrays) -> Path:
    """Keep ``arrays`` as ``name`` made from ``parts`` (atomically: readers see the old copy or this one)."""
    path = path_for(name, parts)
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)
    return path


def cached(name: str, parts: Iterable[Part], build: Callable[[], Arrays],
           valid: Callable[[Arrays], bool] = lambda arrays: True) -> Arrays:
    """The arrays ``build()`` makes from the inputs named by ``parts``: read back when kept (and ``valid``), else
    built and kept."""
    parts = list(parts)
    arrays = kept(name, parts, valid)
    if arrays is None:
        arrays = build()
        keep(name, parts, arrays)
    return arrays


def rows(name: str, parts: Iterable[Part], keys: list[str], compute: Callable[[list[str]], np.ndarray],
         limit: int = ROWS_LIMIT) -> np.ndarray:
    """The rows of the items ``keys`` names (each key a hash of its item's content), in order: those kept in the
    file of ``name`` made from ``parts`` are read, the others made by one ``compute(missing keys)`` call and added.

    One file holds every item's row, whoever asked for it first (a drawing in two projects is computed once);
    past ``limit`` rows, the oldest go. Two processes adding rows at once: the last write wins and the other's
    new rows are computed again when next asked for; a file is never half written, nor a row served for another
    item."""
    parts = list(parts)

    def valid(arrays: Arrays) -> bool:
        k, r = arrays.get("keys"), arrays.get("rows")
        return k is not None and r is not None and k.ndim == 1 and k.dtype.kind == "U" and r.ndim == 2 \
            and len(k) == len(r)

    arrays = kept(name, parts, valid)
    known = dict(zip(arrays["keys"].tolist(), arrays["rows"])) if arrays is not None else {}
    missing = [k for k in dict.fromkeys(keys) if k not in known]
    if missing:
        known.update(zip(missing, np.asarray(compute(missing))))
        asked = set(keys)
        order = ([k for k in known if k not in asked] + list(dict.fromkeys(keys)))[-limit:]
        keep(name, parts, {"keys": np.array(order, dtype=str), "rows": np.stack([known[k] for k in order])})
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
