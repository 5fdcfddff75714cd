"""One atomic file write: readers see the old file or the new one, never half of one.

Caches, model cards, trained models and heads are read by other processes (the app, a CLI, a run's
worker) while they may be rewritten. Each is written to a temporary file beside it and then renamed
over it in one step (``os.replace`` is atomic on one file system).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` when the block ends without error.

    The temporary name carries the process id and a random part, so two processes writing the same file at
    once never share one, and it keeps ``path``'s suffix (``np.save`` and ``model.save`` go by it). On an
    error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
