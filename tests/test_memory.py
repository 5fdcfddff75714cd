"""The server gives the memory of expired sessions back to the operating system (core.base.memory)."""

import json
import platform
import subprocess
import sys

import pytest

from core.base import memory
from core.base.paths import ROOT

# Run in a fresh interpreter: in a test worker that ran other tests first (TensorFlow's threads, many arenas), glibc
# may give the session's heap back by itself or place it where the test cannot see it (RSS 2,166 -> 2,166 MB once).
SESSION = """
import json, threading, psutil
from core.base import memory
process = psutil.Process()
kept_after = []  # what outlives a session (cached answers, say), spread over its heap

def session():  # a session's script thread: its own allocator heap
    made = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]  # about 200 MB in malloc'ed blocks
    kept_after.extend(made[::100])

memory.release_free_memory()
before = process.memory_info().rss
thread = threading.Thread(target=session)
thread.start()
thread.join()
held = process.memory_info().rss  # the heap cannot shrink past the blocks still in use: RSS stays
released = memory.release_free_memory()
print(json.dumps(dict(before=before, held=held, after=process.memory_info().rss, released=released,
                      kept=len(kept_after))))
"""


@pytest.mark.skipif(platform.system() != "Linux", reason="malloc_trim is glibc's")
def test_memory_freed_by_a_sessions_thread_goes_back_to_the_system():
    done = subprocess.run([sys.executable, "-c", SESSION], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rss = json.loads(done.stdout)
    assert rss["released"] and rss["kept"] == 2000
    assert rss["held"] - rss["before"] > 100e6, rss  # the session's freed blocks still count...
    assert rss["held"] - rss["after"] > 100e6, rss  # ...until they are released


def test_a_daemon_thread_keeps_releasing():
    thread = memory.keep_releasing(every_s=3600)
    assert thread.is_alive() and thread.daemon
