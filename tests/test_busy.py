"""Limits that say "at once" are stretched by how busy the machine is, never shrunk (tests/busy.py)."""

import os

from tests.busy import stretched


def test_a_limit_stretches_with_the_load_per_core_and_never_shrinks(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 5.0, 1.0))  # 4.5 processes a core want to run
    assert stretched(2.0) == 9.0
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))  # a quiet machine: the limit as written
    assert stretched(2.0) == 2.0
