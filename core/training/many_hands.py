"""Report 002's lesson beside many hands: one hand's head and the shipped Greek model on the same held-out letters.

Report 002 froze its digit net (net002) and trained a new last layer of 153 weights on one person's 27 letters:
12 of that person's 15 test letters read right. Whether such a head reads other people's letters is another
question, and the shipped ``greek`` model answers it differently: it learnt from many hands
(``core.data.greek_hands``) and its card records how it reads the hands it never saw. Here both are scored on
exactly those held-out letters (``greek_hands.held_out``, the card's own ``hands`` split): report 002's recipe
re-trained on the 27 letters alone, and the shipped model as it is.

Generating the held-out letters takes about half a minute and training the head a few seconds, so the
predictions are kept in the content-keyed cache (``core.base.array_cache``), keyed by the hands' recipe, the
letters folder and both model files; and, as the data sets' overviews are, shipped in ``assets/previews``
(``ship``) with that key, so a fresh clone shows the figures at once and a changed input computes them anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.base import array_cache, files
from core.base.files import atomic_path
from core.base.paths import ROOT
from core.data import datasets, greek_hands
from core.nets import registry
from core.nets.backbones import count_params

ONE_HAND_SOURCE = "net002"  # report 002's network, frozen under a new 3-letter head: 153 weights
MANY_HANDS = "greek"  # the shipped model, learnt from the report's letters and many hands
RECIPE = 1  # of the scoring below: predictions kept by another recipe are not read
SHIPPED = ROOT / "assets" / "previews" / "greek_hands_scores.npz"


@dataclass(frozen=True)
class HandsScores:
    """How many of the same ``n`` held-out letters each reads right, per letter class too."""

    y: np.ndarray  # the held-out letters' labels
    one_hand: np.ndarray  # report 002's recipe (one hand's 27 letters), its answer for each letter
    many_hands: np.ndarray  # the shipped model's answers
    one_hand_trainable: int  # weights the one-hand recipe learnt: report 002's 153
    many_hands_trainable: int  # weights the shipped model learnt (its card's count)

    @property
    def n(self) -> int:
        return len(self.y)

    def right(self, answers: np.ndarray) -> int:
        return int((answers == self.y).sum())

    def accuracy(self, answers: np.ndarray) -> float:
        return float((answers == self.y).mean())

    def per_class(self, answers: np.ndarray) -> list[float]:
        return [float((answers[self.y == k] == k).mean()) for k in range(len(greek_hands.CLASSES))]


def _seed() -> int:
    """The seed of the shipped model's held-out letters, as its card records them (0 without a card)."""
    card = registry.card(MANY_HANDS) or {}
    return int(card.get("config", {}).get("seed", greek_hands.SEED))


def _one_hand_answers(x: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """Report 002's recipe (net002 frozen, a new head trained on the 27 letters only) reading ``x``."""
    import keras

    from core.training import kit, letter_transfer

    config = letter_transfer.TransferConfig(source=ONE_HAND_SOURCE, mode="frozen", seed=seed)
    keras.utils.set_random_seed(seed)
    (x_fit, y_fit), _ = datasets.load_dataset(config.target)
    model = letter_transfer.compile_model(letter_transfer.start_model(config), config)
    letter_transfer.fit(model, x_fit, y_fit, config)
    answers = model.predict(kit.to_float(x), verbose=0).argmax(1)
    return answers, count_params(model)["trainable"]


def _parts() -> list[str]:
    """What the scores are made from: the recipe, the seed, the hands, the 27 letters and both model files."""
    seed = _seed()
    return [f"recipe {RECIPE}", f"seed {seed}", greek_hands.sha256(), datasets.dataset_sha256("greek"),
            *(files.file_digest(registry.get(name).path()) for name in (ONE_HAND_SOURCE, MANY_HANDS))]


def _build() -> dict[str, np.ndarray]:
    from core.training import kit

    seed = _seed()
    x, y = greek_hands.held_out(seed)
    one, one_trainable = _one_hand_answers(x, seed)
    many = registry.load(MANY_HANDS).predict(kit.to_float(x), verbose=0).argmax(1)
    return {"y": y, "one_hand": one.astype(np.uint8), "many_hands": many.astype(np.uint8),
            "one_hand_trainable": np.array(one_trainable)}


def _shipped(key: str) -> dict[str, np.ndarray] | None:
    """The shipped scores when they were made from these very inputs, else None."""
    arrays = array_cache.read(SHIPPED) if SHIPPED.is_file() else None
    return arrays if arrays is not None and str(arrays.pop("key", "")) == key else None


def scores() -> HandsScores:
    """Both networks' answers on the held-out letters: shipped or cached when their inputs are unchanged."""
    parts = _parts()
    kept = _shipped(array_cache.key(parts)) or array_cache.cached("greek-hands-scores", parts, _build)
    card = registry.card(MANY_HANDS) or {}
    return HandsScores(kept["y"], kept["one_hand"], kept["many_hands"], int(kept["one_hand_trainable"]),
                       int(card.get("transfer_params", {}).get("trainable", 0)))


def ship() -> Path:
    """Write the scores, and the key of what they were made from, to ``assets/previews`` (after a retrain:
    ``python -c "from core.training import many_hands; many_hands.ship()"``)."""
    parts = _parts()
    arrays = array_cache.cached("greek-hands-scores", parts, _build)
    with atomic_path(SHIPPED) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, key=np.array(array_cache.key(parts)), **arrays)
    return SHIPPED
