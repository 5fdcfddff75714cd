"""Give the server's freed memory back to the operating system.

A Streamlit server keeps a session per open tab; when a class leaves and the sessions expire, Python frees their
objects, but glibc's allocator keeps the freed pages in its heaps (one per thread that allocated, and every session
runs its script in a thread of its own), so the server's RSS stays where the class left it. ``malloc_trim`` hands
the free pages back. Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading
import time
from collections.abc import Callable

TRIM_EVERY_S = 60.0  # a trim takes milliseconds; sessions expire two minutes after their tab closes


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Return the allocator's free pages to the operating system; False where that is not possible."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))


def keep_releasing(
    every_s: float = TRIM_EVERY_S, release: Callable[[], object] = release_free_memory
) -> threading.Thread:
    """A daemon thread that calls ``release`` (by default: release free memory) every ``every_s`` seconds, for a
    long-running server; a failing call is logged and the next one still comes."""

    def loop() -> None:
        while True:
            time.sleep(every_s)
            try:
                release()
            except Exception:  # noqa: BLE001 - a server must outlive one failed clean-up
                logging.getLogger(__name__).warning("could not release memory", exc_info=True)

    thread = threading.Thread(target=loop, name="vp-release-memory", daemon=True)
    thread.start()
    return thread
