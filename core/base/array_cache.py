"""One content-keyed cache of NumPy arrays under ``VP_HOME/cache``.

Derived arrays that are slow to make (decoded photos, a built data set, features of a data set) are kept as
one uncompressed ``.npz`` each, named by a hash of what they were made from: the caller lists the parts
(file names and sizes or hashes, a recipe's version, a model's hash), so a changed input is a new key and
never reads a stale copy, and the same inputs on another machine or a fresh clone find the same name.
A damaged copy is rebuilt; every write is atomic, so two processes building the same key at once both end
with a whole file.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from core.base import paths
from core.base.files import atomic_path

Arrays = dict[str, np.ndarray]


def key(parts: Iterable[str | bytes]) -> str:
    """A short hex key over ``parts`` in order (each part length-prefixed, so parts never run together)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:24]


def path_for(name: str, parts: Iterable[str | bytes]) -> Path:
    """Where the arrays of ``name`` made from ``parts`` are kept."""
    return paths.cache_dir() / f"{name}-{key(parts)}.npz"


def read(path: Path) -> Arrays | None:
    """The arrays kept at ``path``, or None when there are none or the copy is damaged (it is then removed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)
        return None


def cached(name: str, parts: Iterable[str | bytes], build: Callable[[], Arrays],
           valid: Callable[[Arrays], bool] = lambda arrays: True) -> Arrays:
    """The arrays ``build()`` makes from the inputs named by ``parts``: read back when kept, else built and kept.

    ``valid`` judges a copy read back (its shapes, dtypes, labels): one that reads but is not what ``build``
    makes is damaged too, and is rebuilt rather than served."""
    path = path_for(name, list(parts))
    arrays = read(path)
    if arrays is not None and not valid(arrays):
        path.unlink(missing_ok=True)
        arrays = None
    if arrays is None:
        arrays = build()
        with atomic_path(path) as tmp:
            np.savez(tmp, **arrays)
    return arrays
