"""Atomic writes: readers see the old file (or folder) or the new one, never half of one; and content digests.

Caches, model cards, trained models and heads are read by other processes (the app, a CLI, a run's
worker) while they may be rewritten. Each is written to a temporary file beside it and then renamed
over it in one step (``os.replace`` is atomic on one file system).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import secrets
import shutil
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


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a file's content ("" when there is none): a cache key that survives a copy or a fresh clone,
    where a modification time does not. Remembered per (path, size, modification time), so a model file is read
    once per process, not once per drawing."""
    try:
        st = Path(path).stat()
    except OSError:
        return ""
    return _digest(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


# --- Folders: replaced whole, and brought back after a crash ---------------------------------------------------


def _aside(target: Path) -> Path:
    """Where ``replace_folder`` keeps the old folder while the new one moves in: hidden, and named after it."""
    return target.with_name(f".{target.name}.replaced")


@contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """One holder at a time, across processes and threads: an advisory lock on ``path`` (a file, made empty if
    missing, or a folder). Each call opens ``path`` anew, so two threads of one process exclude each other too."""
    path = Path(path)
    fd = os.open(path, os.O_RDONLY) if path.is_dir() else os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _folder_lock(target: Path):
    """One process at a time replaces or restores a folder of ``target``'s parent: an advisory lock on the
    parent folder itself, so that no lock file is left beside the folders."""
    return locked(target.parent)


def replace_folder(new: Path, target: Path) -> None:
    """Rename the folder ``new`` to ``target``; an existing ``target`` is deleted only once ``new`` is in place.

    Renaming a folder within one file system is atomic, but replacing one takes two renames (POSIX has no
    atomic swap of two folders): the old folder is moved aside to a hidden name first. A crash between the two
    renames leaves it there, and ``restore_folder`` (which readers call) moves it back, so a crash never loses
    the old folder. A lock keeps two processes replacing the same folder from crossing.
    """
    new, target = Path(new), Path(target)
    with _folder_lock(target):
        _restore(target)
        aside = _aside(target)
        if target.exists():
            target.rename(aside)
        try:
            new.rename(target)
        except BaseException:
            if aside.exists():
                aside.rename(target)
            raise
        shutil.rmtree(aside, ignore_errors=True)


def restore_folder(target: Path) -> bool:
    """Bring back a folder that a crash in ``replace_folder`` left aside; True when one was brought back."""
    target = Path(target)
    if not _aside(target).exists():
        return False  # the usual case, without taking the lock
    with _folder_lock(target):
        return _restore(target)


def _restore(target: Path) -> bool:
    aside = _aside(target)
    if not aside.exists():
        return False
    if target.exists():  # the crash came after the new folder was in place: the old one is no longer needed
        shutil.rmtree(aside, ignore_errors=True)
        return False
    aside.rename(target)
    return True


def restore_folders(parent: Path) -> None:
    """``restore_folder`` for every folder under ``parent`` that a crash left aside."""
    for aside in Path(parent).glob(".*.replaced"):
        restore_folder(aside.with_name(aside.name[1:-len(".replaced")]))
