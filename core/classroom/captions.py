"""The wall's one sentence: what the class's numbers show, computed from them (as the lab's captions are).

Below the minimum the wall compares nothing (``stats.MIN_DRAWINGS``, ``stats.MIN_STUDENTS``): the sentence says
what is still missing. A network leads only beyond chance (``stats.beats``); else the sentence says which are level.
"""

from __future__ import annotations

import math

from core.classroom import letters, store
from core.classroom.stats import (
    DIGITS,
    MIN_DRAWINGS,
    MIN_STUDENTS,
    NOISE_Z,
    ClassStats,
    NetworkScore,
    Stumper,
    beyond_chance,
)

SAME_AS_MNIST = 0.02  # within two points of its MNIST accuracy, a network reads the class as well as MNIST


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%" if x < 0.995 or x == 1 else f"{100 * x:.1f}%"


def _most_confused(stats: ClassStats) -> tuple[str, str, int] | None:
    """(digit asked, digit read, times) of the networks' most common misreading, None when there is none."""
    total = stats.confusion.copy()
    total[range(len(DIGITS)), range(len(DIGITS))] = 0
    if not total.any():
        return None
    asked, read = divmod(int(total.argmax()), len(DIGITS))
    return DIGITS[asked], DIGITS[read], int(total[asked, read])


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def still_missing(stats: ClassStats) -> str | None:
    """What the class must still draw before the wall compares the networks ("12 more drawings and 1 more
    student"); None when it has enough."""
    drawings, students = stats.missing
    wanted = [_count(drawings, "more drawing")] * bool(drawings) + [_count(students, "more student")] * bool(students)
    return _and(wanted) if wanted else None


def harder_than_mnist(score: NetworkScore) -> bool:
    """Whether the class's handwriting is harder for the network than MNIST's test digits, beyond chance: its
    share of the class's digits read is below its MNIST accuracy by more than ``NOISE_Z`` standard errors of a
    share of that many drawings at the MNIST rate (and by ``SAME_AS_MNIST`` at least)."""
    p = score.mnist_accuracy
    noise = NOISE_Z * math.sqrt(p * (1 - p) / score.total)
    return p - score.accuracy > max(SAME_AS_MNIST, noise)


def _level(stats: ClassStats) -> str:
    """'The ResNet, ConvNet and DNN are level on the class's 45 digits: they read 44, 43 and 41 of them, ...'."""
    front = stats.front
    names = _and([s.title for s in front])
    if len({s.right for s in front}) == 1:
        return f"The {names} each read {_percent(front[0].accuracy)} of the class's {stats.digits} digits"
    return (f"The {names} are level on the class's {stats.digits} digits: they read "
            f"{_and([str(s.right) for s in front])} of them, a difference chance alone could make")


def draw_caption(stats: ClassStats) -> str:
    """Draw for our data set: how the best network reads the class against MNIST (or which are level), and the
    common misreading; below the minimum, what the class must still draw."""
    if not stats.digits:
        return "No drawings yet: the wall fills in as the class sends them."
    missing = still_missing(stats)
    if missing is not None:
        return (f"{_count(stats.digits, 'digit')} from {_count(stats.students, 'student')} so far: {missing} to "
                f"compare the networks fairly (at least {MIN_DRAWINGS} digits from {MIN_STUDENTS} students).")
    best = stats.lead
    if best is None:
        said = _level(stats)
    else:
        said = f"The {best.title} reads {_percent(best.accuracy)} of the class's {best.total} digits"
        if best.mnist_accuracy is not None:
            if harder_than_mnist(best):
                said += (f", against {_percent(best.mnist_accuracy)} of MNIST's test digits: the class's handwriting "
                         f"is harder for it than the handwriting it learnt from")
            else:
                said += f", as well as MNIST's test digits ({_percent(best.mnist_accuracy)})"
    confused = _most_confused(stats)
    if confused is not None:
        asked, read, times = confused
        said += f"; the networks' most common mistake: a {asked} read as a {read} ({times}x)"
    return said + "."


def stump_caption(stats: ClassStats) -> str:
    """Stump the network: how many tries fool the networks, all of them or some."""
    if not stats.attempts:
        return "No stumpers yet: draw a digit a person reads at once but the networks misread."
    everyone = len(stats.scores)
    fool_all = sum(s.fooled == everyone for s in stats.stumpers)
    said = (f"Of the class's {stats.attempts} tries, {len(stats.stumpers)} fool at least one network and "
            f"{fool_all} fool all {everyone}")
    if stats.stumpers:
        said += f"; the best stumper: {what_each_read(stats, stats.stumpers[0])}"
    return said + "."


def what_each_read(stats: ClassStats, drawing: Stumper) -> str:
    """'ConvNet read 1, DNN read 7, ResNet read 1; asked for 7': which network read what in one drawing."""
    titles = {s.name: s.title for s in stats.scores}
    reads = ", ".join(f"{titles.get(name, name)} read {read}" for name, read in drawing.reads.items())
    return f"{reads}; asked for {drawing.drawing.label}"


def confusion_title(stats: ClassStats) -> str | None:
    """The title of the wall's confusion matrix: the leading network's, else the networks' together; None below
    the minimum (the wall then shows none)."""
    if not stats.enough:
        return None
    if stats.lead is not None:
        return f"How the {stats.lead.title} reads the class's digits"
    return f"How the {len(stats.scores)} networks together read the class's digits (they are level)"


def confusion_waits(stats: ClassStats) -> str:
    """What the wall shows where the confusion matrix comes once the class has drawn enough."""
    return f"The confusion matrix comes with {still_missing(stats)}."


def hardest_title(stats: ClassStats) -> str:
    """The heading of the wall's hardest drawings: the leading network's, else the networks' together."""
    return f"Hardest for the {stats.lead.title}" if stats.lead is not None else "Hardest for the networks"


def caption(stats: ClassStats) -> str:
    """The sentence for the wall of the class's activity."""
    if stats.info.activity == store.LETTERS:
        return letters_caption(letters.latest(stats.info.code))
    return stump_caption(stats) if stats.info.activity == store.STUMP else draw_caption(stats)


def training_caption(card: dict) -> str:
    """Train on our hands: how the fine-tuned network reads students it never saw, before and after (from the
    run's card). "Better" or "worse" only beyond chance: on the drawings it read differently after training, as
    the wall compares networks (``beyond_chance``)."""
    seen, new = card["class"]["train_students"], card["class"]["held_out_students"]
    before, after = card["class"]["held_out_accuracy_before"], card["class"]["held_out_accuracy_after"]
    said = (f"Taught by {seen} students' drawings, the {card['title'].split(' fine-tuned')[0]} reads "
            f"{_percent(after)} of the drawings of {new} students it never saw ({_percent(before)} before): "
            f"{_verdict(card['class']['held_out'])}. MNIST's test digits: {_percent(card['test_accuracy_before'])} "
            f"before, {_percent(card['test_accuracy'])} after")
    mnist = card["test_changes"]
    return said + (f" (worse beyond chance: {mnist['broken']} digits lost, {mnist['fixed']} gained)."
                   if beyond_chance(mnist["broken"], mnist["fixed"]) else ".")


def _verdict(changed: dict[str, int]) -> str:
    fixed, broken = changed["fixed"], changed["broken"]
    counts = f"{fixed} drawing{'s' * (fixed != 1)} fixed, {broken} broken"
    if beyond_chance(fixed, broken):
        return f"better than before ({counts})"
    if beyond_chance(broken, fixed):
        return f"worse than before ({counts})"
    return f"no better and no worse beyond chance ({counts})"


def letters_caption(result: letters.Comparison | None) -> str:
    """Letters with many hands: which head reads the held-out students better, one hand's or the class's; what is
    missing while the class has too few letters to say."""
    if result is None:
        return "No heads taught yet: when the class has drawn, press the button to teach them."
    if result.missing:
        return f"Not enough letters yet to compare one hand with the class: needed {'; '.join(result.missing)}."
    one, many = result.one_hand, result.many_hands
    # One drawing either way is within the luck of which students were held out.
    verdict = ("the class's many hands teach it better" if many.right > one.right + 1 else
               "one hand teaches it better" if one.right > many.right + 1 else
               "one hand teaches it as well as many")
    return (f"On {result.held_out_students} students neither head saw, the head taught by the class "
            f"({many.students} students, {many.drawings} drawings) reads {_percent(many.accuracy)} of their "
            f"{many.read} letters and the head taught by {one.taught_by} ({one.drawings} drawings) "
            f"{_percent(one.accuracy)}: {verdict}.")
