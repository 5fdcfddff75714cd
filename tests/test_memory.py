"""The server gives the memory of expired sessions back to the operating system (core.base.memory)."""

import platform
import threading
import time

import psutil
import pytest

from core.base import memory


@pytest.mark.skipif(platform.system() != "Linux", reason="malloc_trim is glibc's")
def test_memory_freed_by_a_sessions_thread_goes_back_to_the_system():
    process = psutil.Process()
    kept_after: list[bytes] = []  # what outlives a session (cached answers, say), spread over its heap

    def session() -> None:  # a session's script thread: its own allocator heap
        made = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]  # about 200 MB in malloc'ed blocks
        kept_after.extend(made[::100])

    memory.release_free_memory()
    thread = threading.Thread(target=session)
    thread.start()
    thread.join()
    time.sleep(0.5)
    held = process.memory_info().rss  # the heap cannot shrink past the blocks still in use: RSS stays
    assert memory.release_free_memory()
    after = process.memory_info().rss
    assert held - after > 100e6, f"RSS {held / 1e6:.0f} -> {after / 1e6:.0f} MB"
    assert len(kept_after) == 2000

def test_a_daemon_thread_keeps_releasing():
    thread = memory.keep_releasing(every_s=3600)
    assert thread.is_alive() and thread.daemon
