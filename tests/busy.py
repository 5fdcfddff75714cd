"""Time limits that say "at once" on a quiet machine and still hold on a busy one (CI machines here differ 2x
from hour to hour, and a developer's runs beside the tests more)."""

from __future__ import annotations

import os


def stretched(seconds: float) -> float:
    """``seconds``, a limit on a quiet machine, times how busy this one is now: its load average over the last
    minute per core, at least 1. A command that waits on a network timeout still fails it; one slowed down by
    other work on the machine does not."""
    return seconds * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
