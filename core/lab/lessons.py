"""What a run's curves say, decided from the numbers: did it diverge, did it overfit.

The pages' captions interpret results with these, never from where a line happens to end: a ConvNet at
11% after two epochs has not necessarily diverged, and a validation loss that rises once in a short run
is not overfitting.

- **Diverged**: the training loss became NaN (or infinite), or ended above where it began (the first
  batches' loss; without it, the first epoch's).
- **Overfitting**: the training loss kept falling while the validation loss rose, epoch after epoch,
  for at least ``OVERFIT_EPOCHS`` epochs in a row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

OVERFIT_EPOCHS = 3  # rising validation loss over this many epochs in a row (with training loss falling)


def diverged(loss: Sequence[float], start: float | None = None) -> bool:
    """Whether training blew up: a NaN or infinite loss, or a last loss above ``start`` (default: the first)."""
    values = [float(v) for v in loss]
    if not values:
        return False
    if any(not math.isfinite(v) for v in values):
        return True
    begin = values[0] if start is None or not math.isfinite(start) else float(start)
    return values[-1] > begin


def overfitting_epochs(loss: Sequence[float], val_loss: Sequence[float]) -> int:
    """The longest stretch of epochs over which training loss fell every epoch while validation loss rose."""
    longest = current = 0
    for i in range(1, min(len(loss), len(val_loss))):
        if loss[i] < loss[i - 1] and val_loss[i] > val_loss[i - 1]:
            current += 1
            longest = max(longest, current)
        else:
            current = 0
    return longest


def overfitting(loss: Sequence[float], val_loss: Sequence[float], epochs: int = OVERFIT_EPOCHS) -> bool:
    return overfitting_epochs(loss, val_loss) >= epochs


@dataclass(frozen=True)
class Lesson:
    """A run's verdict and the numbers behind it, for a caption."""

    diverged: bool
    overfitting: bool
    start_loss: float | None
    end_loss: float | None
    rising_epochs: int

    def words(self, name: str) -> str | None:
        """One sentence on ``name`` when its curves show something; None when they show neither."""
        if self.diverged:
            if self.end_loss is None or not math.isfinite(self.end_loss):
                return f"{name} diverged: its training loss became NaN."
            return (f"{name} diverged: its training loss ended at {self.end_loss:.2f}, above the "
                    f"{self.start_loss:.2f} it began at.")
        if self.overfitting:
            return (f"{name} overfits: its validation loss rose for {self.rising_epochs} epochs in a row while its "
                    f"training loss fell.")
        return None


def lesson(curves: dict[str, Sequence[tuple[int, float]]]) -> Lesson:
    """The verdict on a run's curves, as ``core.lab.runs.curves`` gives them (``(step, value)`` per key)."""
    loss = [v for _, v in curves.get("loss", [])]
    val_loss = [v for _, v in curves.get("val_loss", [])]
    batches = [v for _, v in curves.get("batch_loss", [])]
    start = batches[0] if batches else (loss[0] if loss else None)
    end = loss[-1] if loss else (batches[-1] if batches else None)
    series = [*(batches[:1]), *loss] if loss else batches
    rising = overfitting_epochs(loss, val_loss)
    return Lesson(diverged=diverged(series, start), overfitting=rising >= OVERFIT_EPOCHS, start_loss=start,
                  end_loss=end, rising_epochs=rising)


def of_run(run_id: str) -> Lesson:
    """The verdict on a run in the store, from its batch losses and its epochs' curves."""
    from core.lab import runs

    return lesson(runs.curves(run_id, ("batch_loss", "loss", "val_loss")))
