"""The wall's one sentence: what the class's numbers show, computed from them (as the lab's captions are)."""

from __future__ import annotations

from core.classroom import letters, store
from core.classroom.stats import DIGITS, ClassStats

SAME_AS_MNIST = 0.02  # within two points of its MNIST accuracy, a network reads the class as well as MNIST


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%" if x < 0.995 or x == 1 else f"{100 * x:.1f}%"


def _most_confused(stats: ClassStats) -> tuple[str, str, int] | None:
    """(digit asked, digit read, times) of the networks' most common misreading, None when there is none."""
    total = sum(score.confusion for score in stats.scores)
    if isinstance(total, int):
        return None
    total = total.copy()
    total[range(len(DIGITS)), range(len(DIGITS))] = 0
    if not total.any():
        return None
    asked, read = divmod(int(total.argmax()), len(DIGITS))
    return DIGITS[asked], DIGITS[read], int(total[asked, read])


def draw_caption(stats: ClassStats) -> str:
    """Draw for our data set: how the best network reads the class against MNIST, and the common misreading."""
    best = stats.lead
    if best is None or not best.total:
        return "No drawings yet: the wall fills in as the class sends them."
    said = f"The {best.title} reads {_percent(best.accuracy)} of the class's {best.total} digits"
    if best.mnist_accuracy is not None:
        gap = best.mnist_accuracy - best.accuracy
        if gap > SAME_AS_MNIST:
            said += (f", against {_percent(best.mnist_accuracy)} of MNIST's test digits: the class's handwriting is "
                     f"harder for it than the handwriting it learnt from")
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
        best = stats.stumpers[0]
        reads = sorted(set(best.reads.values()) - {best.drawing.label})
        said += f"; the best stumper is a {best.drawing.label} read as {' or '.join(reads)}"
    return said + "."


def caption(stats: ClassStats) -> str:
    """The sentence for the wall of the class's activity."""
    if stats.info.activity == store.LETTERS:
        return letters_caption(letters.latest(stats.info.code))
    return stump_caption(stats) if stats.info.activity == store.STUMP else draw_caption(stats)


def training_caption(card: dict) -> str:
    """Train on our hands: how the fine-tuned network reads students it never saw, before and after (from the
    run's card)."""
    seen, new = card["class"]["train_students"], card["class"]["held_out_students"]
    before, after = card["class"]["held_out_accuracy_before"], card["class"]["held_out_accuracy_after"]
    change = ("better than" if after > before + 0.005 else "worse than" if after < before - 0.005 else
              "as well as")
    return (f"Taught by {seen} students' drawings, the {card['title'].split(' fine-tuned')[0]} reads "
            f"{_percent(after)} of the drawings of {new} students it never saw, {change} before ({_percent(before)}); "
            f"MNIST's test digits: {_percent(card['test_accuracy_before'])} before, "
            f"{_percent(card['test_accuracy'])} after.")


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
