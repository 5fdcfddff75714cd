"""The handwriting data set and network: digits and letters, split by writer, and letters drawn in other hands."""

from __future__ import annotations

import collections
import io
import string

import numpy as np
import pytest
from scipy import ndimage

from core.data import datasets, font_letters, greek_strokes, handwriting, shape_strokes, unipen
from core.images import strokes
from core.nets import registry
from tests.needs import needs_data

needs_letters = needs_data(unipen.LETTERS)


@pytest.fixture(scope="module")
def letters():
    return unipen.load_unipen(file=unipen.LETTERS)


@needs_letters
def test_writer_groups_keep_each_writer_in_one_group_with_the_shares_asked(letters):
    groups = unipen.writer_groups(letters)
    assert (groups == unipen.writer_groups(letters)).all()  # a fixed draw
    by_writer = collections.defaultdict(set)
    for rec, g in zip(letters, groups):
        by_writer[rec["writer"]].add(g)
    assert all(len(g) == 1 for g in by_writer.values())
    sizes = collections.Counter(rec["writer"] for rec in letters)
    assert all(by_writer[w] == {"train"} for w, n in sizes.items() if n > unipen.PROLIFIC)
    for name, share in unipen.WRITER_GROUPS.items():
        assert abs((groups == name).mean() - share) < 0.03, name
    labels = np.array([r["label"] for r in letters])
    for name in ("teach", "read"):  # every letter can be taught with 10 drawings, and read, by unseen writers
        assert min(((labels == c) & (groups == name)).sum() for c in set(labels)) >= 9
        assert len({w for w, g in by_writer.items() if g == {name}}) >= 30


def test_restyle_moves_every_point_but_keeps_the_strokes():
    rec = {"label": "a", "y_axis": "up", "strokes": [[[0, 0], [10, 5], [20, 30], [25, 40], [30, 10]], [[5, 5], [9, 9]]]}
    same = strokes.restyle(rec, np.random.default_rng(0), strength=0.0)
    assert np.allclose(np.concatenate(strokes.canvas_paths(same)), np.concatenate(strokes.canvas_paths(rec)))
    other = strokes.restyle(rec, np.random.default_rng(0), strength=1.0)
    assert [len(s) for s in other["strokes"]] == [5, 2] and other["label"] == "a"
    moved = np.abs(np.concatenate(strokes.canvas_paths(other)) - np.concatenate(strokes.canvas_paths(rec)))
    assert moved.max() > 2  # canvas pixels
    again = strokes.restyle(rec, np.random.default_rng(0), strength=1.0)
    assert again == other


@needs_letters
def test_the_handwriting_set_learns_the_train_writers_letters_and_tests_on_the_others(letters):
    groups = unipen.writer_groups(letters)
    few = [r for r, g in zip(letters, groups) if g == "train"][:20] + [r for r, g in zip(letters, groups)
                                                                        if g != "train"][:10]
    rng = np.random.default_rng(0)
    mnist = ((rng.integers(0, 255, (7, 28, 28), np.uint8), np.arange(7, dtype=np.uint8)),
             (rng.integers(0, 255, (3, 28, 28), np.uint8), np.arange(3, dtype=np.uint8)))
    typeset = font_letters.letters(renders=1, fonts=font_letters.font_files()[:2])
    (x_train, y_train), (x_test, y_test) = handwriting.build(mnist, few, typeset)
    n_learnt = (unipen.writer_groups(few) == "train").sum()
    n_drawn = 7 + handwriting.RENDERS * n_learnt
    assert len(x_train) == n_drawn + 2 * 26 and len(x_test) == 3 + len(few) - n_learnt
    assert "".join(handwriting.CLASSES[i] for i in y_train[n_drawn:]) == 2 * string.ascii_lowercase
    assert np.abs(x_train[n_drawn:] / 255 - typeset[0]).max() <= 0.51 / 255  # typeset letters learnt, not tested
    assert x_train.dtype == np.uint8 and x_train.shape[1:] == (28, 28)
    assert (y_train[:7] == np.arange(7)).all() and (y_train[7:] >= 10).all() and (y_test[3:] >= 10).all()
    assert handwriting.CLASSES[y_train[7]] == [r for r, g in zip(few, unipen.writer_groups(few))
                                               if g == "train"][0]["label"]
    drawn_twice = x_train[7:n_drawn].reshape(handwriting.RENDERS, n_learnt, 28, 28)
    assert not np.array_equal(drawn_twice[0], drawn_twice[1])  # each render another pen, size and place


@pytest.mark.slow
def test_the_fonts_typeset_every_letter_as_a_drawing_and_each_comes_with_its_licence():
    fonts = font_letters.font_files()
    assert len(fonts) == 252
    for font in fonts:
        licence = font.parent / f"{font.name.removesuffix('-latin-400-normal.woff')}.LICENSE"
        assert "Open Font License" in licence.read_text() or "Apache License" in licence.read_text(), font
    some = fonts[::12]  # every font is typeset in the slow test below, which builds the whole set
    images, labels = font_letters.letters(renders=1, fonts=some)
    assert len(images) == len(some) * 26 and "".join(labels[:26]) == string.ascii_lowercase  # none left blank
    assert images.shape[1:] == (28, 28) and images.min() >= 0 and images.max() <= 1
    # Preprocessed as a drawing is: the ink's centre of mass in the middle of the frame, as in MNIST.
    centres = np.array([ndimage.center_of_mass(image) for image in images])
    assert np.abs(centres - 13.5).max() < 1.0, np.abs(centres - 13.5).max()
    # Each font is its own hand: an "a" differs from font to font.
    a = images[labels == "a"].reshape(len(some), -1)
    assert np.linalg.norm(a[:, None] - a[None], axis=2)[np.triu_indices(len(some), 1)].min() > 1.0


def test_a_font_unpacked_once_draws_the_letters_freetype_draws_from_its_woff_file():
    """``font_letters.sfnt`` unpacks a WOFF font once rather than at each letter's size: the same pixels."""
    from PIL import Image, ImageDraw, ImageFont

    def drawn(font: ImageFont.FreeTypeFont, letter: str, width: int) -> bytes:
        page = Image.new("L", (560, 560))
        ImageDraw.Draw(page).text((140, 140), letter, font=font, fill=255, stroke_width=width, stroke_fill=255)
        return page.tobytes()

    for n, woff in enumerate(font_letters.font_files()[::50]):
        assert woff.read_bytes()[:4] == b"wOFF" and font_letters.sfnt(woff)[:4] in (b"\0\1\0\0", b"OTTO", b"true")
        for size in (font_letters.SIZES[0] + n, font_letters.SIZES[1] - 1 - n):
            own = ImageFont.truetype(str(woff), size)
            unpacked = ImageFont.truetype(io.BytesIO(font_letters.sfnt(woff)), size)
            for i, letter in enumerate(string.ascii_lowercase):
                assert drawn(own, letter, i % 5) == drawn(unpacked, letter, i % 5), (woff.name, size, letter)


def test_the_handwriting_network_reads_36_classes_and_is_the_own_classes_default():
    spec = registry.get("handwriting")
    assert spec.dataset == "handwriting" and datasets.get_dataset("handwriting").drawings
    assert registry.build("handwriting").output_shape == (None, 36)
    assert registry.FEATURE_MODELS[0] == "handwriting"


def test_greek_strokes_are_each_letter_in_every_style():
    images, labels = greek_strokes.drawn(per_class=6, seed=3)
    assert images.shape == (18, 28, 28) and (np.bincount(labels) == 6).all()
    assert (images.reshape(18, -1).max(1) > 0.5).all()
    again, _ = greek_strokes.drawn(per_class=6, seed=3)
    assert np.array_equal(images, again)
    other, _ = greek_strokes.drawn(per_class=6, seed=4)
    assert not np.array_equal(images, other)


def test_shape_strokes_are_each_shape_in_every_style_and_no_two_shapes_alike():
    n = len(shape_strokes.CLASSES)
    images, labels = shape_strokes.drawn(per_class=4, seed=3)
    assert images.shape == (4 * n, 28, 28) and (np.bincount(labels) == 4).all()
    assert (images.reshape(4 * n, -1).max(1) > 0.5).all()
    assert np.array_equal(images, shape_strokes.drawn(per_class=4, seed=3)[0])
    # every shape's first drawing is nearer, pixel by pixel, to its own second than to most other shapes' drawings
    flat = images.reshape(n, 4, -1)
    own = ((flat[:, 0] - flat[:, 1]) ** 2).sum(-1)
    other = ((flat[:, None, 0] - flat[None, :, 1]) ** 2).sum(-1)
    assert (own[:, None] <= other).mean() > 0.75, own


@needs_letters
@pytest.mark.slow
@pytest.mark.timeout(1800)  # builds the whole set first: 8.5 min in a full run on a quiet machine
def test_training_the_handwriting_network_on_a_slice_reads_letters_and_digits(tmp_path, shared_cache):
    from core.training.train import TrainConfig, train

    shared_cache("handwriting")  # built once per test run: the overview test of the Data sets page reads it too
    card = train(TrainConfig(model="handwriting", epochs=1, limit=6000, polish_epochs=0, out_dir=str(tmp_path)))
    assert card["dataset"] == "handwriting" and len(card["per_class_recall"]) == 36
    assert card["data"]["sha256"] == datasets.dataset_sha256("handwriting") != datasets.dataset_sha256("mnist")
    (_, y_train), (_, y_test) = datasets.load_dataset("handwriting")  # the cached copy now
    assert len(y_train) == datasets.get_dataset("handwriting").n_train and (y_test >= 10).sum() > 900
    assert card["test_accuracy"] > 0.5  # 1 epoch of 6,000 images, the letters a tenth of them (0.85 here)
    model = registry.load("handwriting", tmp_path)
    assert model.output_shape == (None, 36)


def test_the_cached_set_is_made_again_when_its_recipe_changes_and_only_then(tmp_path, monkeypatch):
    """The copy is keyed by the recipe's code, not by a version number someone must remember to bump."""
    import types

    from core.data import handwriting

    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    source = tmp_path / "letters.jsonl"
    source.write_text("{}\n")
    recipe = tmp_path / "recipe.py"

    def recipe_module(text: str) -> types.ModuleType:
        """The recipe as a module of its own (its source read by inspect, as the real recipe's modules are)."""
        recipe.write_text(text)
        module = types.ModuleType("recipe")
        module.__file__ = str(recipe)
        return module

    made = []

    def make(files):
        made.append(files)
        x, y = np.zeros((36, 28, 28), np.uint8), np.arange(36, dtype=np.uint8)
        return (x, y), (x, y)

    monkeypatch.setattr(handwriting, "source_files", lambda: [source])
    monkeypatch.setattr(handwriting, "_made", make)
    monkeypatch.setattr(handwriting, "RECIPE", (recipe_module("RENDERS = 6\n"),))
    handwriting.load()
    (_, y), _ = handwriting.load()  # the cached copy
    assert len(made) == 1 and y.tolist() == list(range(36))
    # The recipe changed (a process started after the change reads the new code): the old copy is not read.
    monkeypatch.setattr(handwriting, "RECIPE", (recipe_module("RENDERS = 7  # one more\n"),))
    handwriting.load()
    assert len(made) == 2
