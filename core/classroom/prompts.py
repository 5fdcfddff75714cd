"""What each student is asked to draw next: every label in turn, so the class's data set comes out balanced.

A student is asked for a label they have drawn least; among those, the one the whole class has least of; among
those, one at random (so thirty students do not all draw a 0 first).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

DIGITS = tuple(str(d) for d in range(10))


def next_label(labels: Sequence[str], mine: Counter, everyone: Counter, rng: random.Random | None = None) -> str:
    """The label to ask for, given the counts of this student's drawings and the class's, per label."""
    if not labels:
        raise ValueError("a class needs at least one label to draw")
    least_mine = min(mine[label] for label in labels)
    candidates = [label for label in labels if mine[label] == least_mine]
    least_class = min(everyone[label] for label in candidates)
    candidates = [label for label in candidates if everyone[label] == least_class]
    return (rng or random).choice(candidates)
