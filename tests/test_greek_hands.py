"""Greek letters in many hands (core.data.greek_hands): what the shipped Greek model learns from and is scored on."""

import json

import numpy as np
import pytest

from core.base import paths
from core.data import greek_hands
from core.nets import registry
from core.training import letter_transfer
from core.training.train import to_float


def test_every_font_file_has_its_licence_and_the_package_that_copied_it():
    fonts = sorted(greek_hands.FONTS_DIR.glob("*.woff"))
    families = {greek_hands.family(f) for f in fonts}
    assert len(families) == 34 and len(fonts) > len(families)  # italic cuts beside the upright ones
    for name in families:
        assert "Open Font License" in (greek_hands.FONTS_DIR / f"{name}.LICENSE").read_text() or \
               "Apache License" in (greek_hands.FONTS_DIR / f"{name}.LICENSE").read_text() or \
               "UBUNTU FONT LICENCE" in (greek_hands.FONTS_DIR / f"{name}.LICENSE").read_text(), name
    copied = json.loads((greek_hands.FONTS_DIR / "package.json").read_text())["devDependencies"]
    assert {n.removeprefix("@fontsource/") for n in copied} == families


def test_hands_are_split_by_family_and_shape():
    held, learnt = greek_hands.font_files(held_out=True), greek_hands.font_files(held_out=False)
    assert {greek_hands.family(f) for f in held} == set(greek_hands.HELD_OUT)
    assert not {greek_hands.family(f) for f in held} & {greek_hands.family(f) for f in learnt}
    learnt_shapes, held_shapes = greek_hands.styles(), greek_hands.styles(held_out=True)
    for letter in greek_hands.CLASSES:
        assert held_shapes[letter] and learnt_shapes[letter]
        assert not any(shape in learnt_shapes[letter] for shape in held_shapes[letter]), letter


@pytest.mark.parametrize("held_out", [False, True])
def test_each_font_gives_every_letter_drawn_and_photographed(held_out):
    fonts = greek_hands.font_files(held_out)[::4]
    images, labels = greek_hands.font_letters_of(fonts, renders=2, seed=1)
    assert len(images) == len(fonts) * 3 * 2  # none blank
    assert (np.bincount(labels) == len(fonts) * 2).all()
    assert images.shape[1:] == (28, 28) and images.min() >= 0 and images.max() <= 1
    assert (images.reshape(len(images), -1).max(1) > 0.5).all()  # ink in every letter, drawn or photographed


def test_template_strokes_give_each_class_in_new_hands():
    images, labels = greek_hands.stroke_letters(per_class=8, seed=0)
    again, _ = greek_hands.stroke_letters(per_class=8, seed=1)
    assert (np.bincount(labels, minlength=3) == 8).all()
    assert (images.reshape(len(images), -1).max(1) > 0.5).all()
    assert not np.allclose(images, again)  # another seed, other hands


def test_a_photo_is_dark_ink_on_grey_paper():
    ink = np.zeros((280, 280), np.float32)
    ink[100:180, 130:150] = 1.0
    photo = greek_hands.photograph(ink, np.random.default_rng(0))
    side = photo.shape[0]
    middle = photo[int(side * 0.45):int(side * 0.55), int(side * 0.49):int(side * 0.51)]
    assert photo[: side // 10].mean() > 0.3 and middle.mean() < photo[: side // 10].mean() - 0.15


@pytest.mark.slow
def test_the_shipped_greek_model_reads_held_out_hands_that_the_one_hand_recipe_does_not(tmp_path):
    card = json.loads((paths.ROOT / "assets" / "models" / "greek.json").read_text())
    assert "--hands" in card["command"] and card["hands"]["sha256"] == greek_hands.sha256()
    x, y = greek_hands.held_out()

    def meets_target(model) -> tuple[bool, float, float]:
        """At least 97% of the held-out hands and at least 95% of each letter."""
        pred = model.predict(to_float(x), verbose=0).argmax(1)
        accuracy, worst = float((pred == y).mean()), min(float((pred[y == k] == k).mean()) for k in range(3))
        return accuracy >= 0.97 and worst >= 0.95, accuracy, worst

    met, accuracy, worst = meets_target(registry.load("greek"))
    assert met, (accuracy, worst)
    assert card["hands"]["held_out_accuracy"] == pytest.approx(accuracy, abs=0.01)
    # The recipe on the report's 27 letters alone (one hand), as the Greek model was made before, misses it
    # (the model shipped before: 93.8%, gamma 87%; bench_greek_hands' draw: 96.6%, alpha 93.5%).
    one_hand = letter_transfer.TransferConfig(source="handwriting", mode="frozen", out_dir=str(tmp_path))
    letter_transfer.train_transfer(one_hand)
    met, accuracy, worst = meets_target(registry.load("greek", models_dir=tmp_path))
    assert not met, (accuracy, worst)
