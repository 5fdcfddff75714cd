"""What a run's curves say, decided from the numbers: did it diverge, did it overfit.

The pages' captions interpret results with these, never from where a line happens to end: a ConvNet at
11% after two epochs whose loss fell well below the loss of guessing has not diverged (it learns slowly),
and a validation loss that rises once in a short run is not overfitting.

- **Diverged**: the training loss became NaN (or infinite); or it exploded on the way (``EXPLODE`` times the
  loss of guessing, as a DNN at learning rate 0.1 does in its first batches: 619); or it ended above where it
  began; or the run ended guessing: its loss back at ``ln(n_classes)``, the loss of a net that gives every
  class the same odds, and (when known) its accuracy at chance, about ``1 / n_classes``. A diverged run often
  does all of these: jumps to hundreds, then settles at 2.30 = ln 10 and reads 9.8% of the test digits, which
  is below its first batches' loss of 619 and so looked fine when only the last loss was set against the first.
- **Overfitting**: the training loss kept falling while the validation loss rose, epoch after epoch,
  for at least ``OVERFIT_EPOCHS`` epochs in a row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

OVERFIT_EPOCHS = 3  # rising validation loss over this many epochs in a row (with training loss falling)
EXPLODE = 5.0  # a loss above this many times the loss of guessing has exploded (ln 10 = 2.30: above 11.5)
GUESS_MARGIN = 0.05  # a loss within this of ln(n_classes) at the end is the loss of guessing
CHANCE_MARGIN = 1.25  # an accuracy below this many times 1 / n_classes is chance (MNIST's commonest digit: 11.4%)
DIGITS = 10


def guessing_loss(n_classes: int = DIGITS) -> float:
    """The cross-entropy of a net that gives every class the same odds, ln(n): where a fresh net starts."""
    return math.log(n_classes)


def at_chance(accuracy: float | None, n_classes: int = DIGITS) -> bool:
    """Whether an accuracy is what guessing scores, about 1 / n_classes (None: not known, not at chance)."""
    return accuracy is not None and accuracy < CHANCE_MARGIN / n_classes


def exploded(loss: Sequence[float], n_classes: int = DIGITS) -> bool:
    """Whether a loss went far above the loss of guessing anywhere on the way (NaN and infinity included)."""
    return any(not math.isfinite(v) or v > EXPLODE * guessing_loss(n_classes) for v in map(float, loss))


def guessing(end: float | None, accuracy: float | None = None, n_classes: int = DIGITS) -> bool:
    """Whether a run ended guessing: its loss at ln(n), and its accuracy, if known, at chance.

    Not from the accuracy alone: a net whose loss fell well below ln(n) is learning, however few it reads yet."""
    if end is None or not math.isfinite(end) or abs(end - guessing_loss(n_classes)) > GUESS_MARGIN:
        return False
    return accuracy is None or at_chance(accuracy, n_classes)


def diverged(loss: Sequence[float], start: float | None = None, accuracy: float | None = None,
             n_classes: int = DIGITS) -> bool:
    """Whether training blew up: a NaN or infinite loss, a loss that exploded on the way, a last loss above
    ``start`` (default: the first), or a run that ended guessing (see ``guessing``)."""
    values = [float(v) for v in loss]
    if not values:
        return False
    if exploded(values, n_classes):
        return True
    begin = values[0] if start is None or not math.isfinite(start) else float(start)
    return values[-1] > begin or guessing(values[-1], accuracy, n_classes)


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
    peak_loss: float | None = None
    accuracy: float | None = None
    n_classes: int = DIGITS

    @property
    def exploded(self) -> bool:
        return self.peak_loss is not None and exploded([self.peak_loss], self.n_classes)

    @property
    def guessing(self) -> bool:
        return guessing(self.end_loss, self.accuracy, self.n_classes)

    def _guessing_words(self) -> str:
        n = self.n_classes
        words = f"ln {n} = {guessing_loss(n):.2f}, the loss of guessing"
        if self.accuracy is not None:
            words += f": it reads {self.accuracy:.1%} right, where guessing scores about {1 / n:.0%}"
        return words

    def words(self, name: str) -> str | None:
        """One sentence on ``name`` when its curves show something; None when they show neither."""
        if self.diverged:
            if self.end_loss is None or not math.isfinite(self.end_loss) or not math.isfinite(self.peak_loss or 0):
                return f"{name} diverged: its training loss became NaN."
            end = f"{self.end_loss:.2f}"
            if self.exploded:
                said = (f"{name} diverged: its training loss jumped to {self.peak_loss:,.0f} on the way (a fresh "
                        f"net's is about {guessing_loss(self.n_classes):.2f})")
                if self.guessing:
                    return f"{said}, then sat at {end}, {self._guessing_words()}."
                return f"{said}, then came back to {end}."
            if self.guessing:
                return f"{name} diverged: its training loss ended at {end}, {self._guessing_words()}."
            return (f"{name} diverged: its training loss ended at {end}, above the {self.start_loss:.2f} it "
                    f"began at.")
        if self.overfitting:
            return (f"{name} overfits: its validation loss rose for {self.rising_epochs} epochs in a row while its "
                    f"training loss fell.")
        return None


def lesson(curves: dict[str, Sequence[tuple[int, float]]], n_classes: int = DIGITS,
           accuracy: float | None = None) -> Lesson:
    """The verdict on a run's curves, as ``core.lab.runs.curves`` gives them (``(step, value)`` per key).

    ``accuracy`` is the run's final score (its test accuracy); without it, its last validation accuracy."""
    loss = [v for _, v in curves.get("loss", [])]
    val_loss = [v for _, v in curves.get("val_loss", [])]
    batches = [v for _, v in curves.get("batch_loss", [])]
    val_accuracy = [v for _, v in curves.get("val_accuracy", [])]
    if accuracy is None and val_accuracy:
        accuracy = val_accuracy[-1]
    start = batches[0] if batches else (loss[0] if loss else None)
    end = loss[-1] if loss else (batches[-1] if batches else None)
    series = [*batches, *loss] if loss else batches  # every loss on the way, the epochs' means last
    peak = max(series, key=lambda v: v if math.isfinite(v) else math.inf) if series else None
    rising = overfitting_epochs(loss, val_loss)
    ending = [*(batches[:1]), *loss] if loss else batches  # the first batches' loss, then the epochs'
    return Lesson(diverged=exploded(series, n_classes) or diverged(ending, start, accuracy, n_classes),
                  overfitting=rising >= OVERFIT_EPOCHS, start_loss=start, end_loss=end, rising_epochs=rising,
                  peak_loss=peak, accuracy=accuracy, n_classes=n_classes)


def of_run(run_id: str) -> Lesson:
    """The verdict on a run in the store, from its batch losses, its epochs' curves and its test accuracy."""
    from core.data import datasets
    from core.lab import runs

    run = runs.get(run_id)
    try:
        n_classes = len(datasets.get_dataset(run.dataset).classes)
    except datasets.DataError:  # an uploaded data set since deleted: its classes are not known
        n_classes = DIGITS
    return lesson(runs.curves(run_id, ("batch_loss", "loss", "val_loss", "val_accuracy")), n_classes,
                  run.metrics.get("test_accuracy"))


HANDS_GAP = 0.05  # many hands this far (5 points) above one hand, on the same held-out letters, is the lesson


def hands_words(scores) -> str:
    """What one hand and many hands read of the same held-out letters (``core.training.many_hands.scores``),
    decided from the two accuracies: many hands ``HANDS_GAP`` or more ahead, within it, or behind."""
    from core.data import greek_hands

    one, many = scores.accuracy(scores.one_hand), scores.accuracy(scores.many_hands)
    said = (f"On the same {scores.n} letters by hands neither learnt from, report 002's recipe (one hand's 27 "
            f"letters, {scores.one_hand_trainable} weights) reads {one:.0%} ({scores.right(scores.one_hand)} of "
            f"{scores.n}) and the shipped model, learnt from many hands, {many:.0%} "
            f"({scores.right(scores.many_hands)} of {scores.n}).")
    gap = round((many - one) * 100)
    if many - one >= HANDS_GAP:
        per_class = scores.per_class(scores.one_hand)
        worst = per_class.index(min(per_class))
        return (f"{said} Many hands read {gap} points more: a head learnt from one person's letters reads that "
                f"person's, and misses other people's {greek_hands.CLASSES[worst]} most "
                f"({per_class[worst]:.0%} right).")
    if one - many >= HANDS_GAP:
        return f"{said} One hand reads {-gap} points more here: the many hands did not help on these letters."
    return f"{said} Within {HANDS_GAP:.0%} of each other: on these letters, many hands add little."
