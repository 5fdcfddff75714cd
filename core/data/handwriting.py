"""Handwriting: MNIST's digits and the UNIPEN development letters, one data set of 36 classes (0-9, a-z).

A class a student teaches on the own-classes page (a letter, a shape, a symbol) is read
through a frozen network's features. A network that learnt digits alone knows the strokes
of ten shapes; one that also learnt 26 letters, drawn by dozens of people, knows loops,
hooks, ascenders and crossings of many more kinds, and its features keep apart classes
it has never seen better (bench/bench_unseen_hands.py measures it on writers it never saw).

Only the letters of the ``train`` writers (``unipen.writer_groups``) are learnt, each drawn on
the canvas ``RENDERS`` times (another pen, size and place each time) and preprocessed as a
drawing is; the other writers' letters, drawn once, join MNIST's test digits as the test set.
Beside them the network learns the letters of 252 handwriting fonts (``font_letters``): those
people wrote most letters in only a few hands. The set is built from ``mnist.npz``,
``unipen_dev_letters.jsonl`` and ``assets/fonts`` and kept under ``VP_HOME/cache`` (about a
minute to build, well under a second to read).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from core.base import array_cache, paths
from core.data import datasets, font_letters, unipen
from core.images import preprocess, strokes

CLASSES = datasets.DATASETS["handwriting"].classes  # the ten digits, then a to z
RENDERS = 6  # drawings of each training letter: 6,066 letters beside 60,000 digits (and 19,656 typeset)
# The code the set is made with (drawn, typeset, preprocessed): part of its cached copy's key.
RECIPE = (sys.modules[__name__], unipen, font_letters, strokes, preprocess)


def letter_labels(records: list[dict]) -> np.ndarray:
    """Each letter's class index among ``CLASSES``."""
    return np.array([CLASSES.index(str(r["label"])) for r in records], np.uint8)


def build(mnist: tuple[datasets.Split, datasets.Split], records: list[dict],
          typeset: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[datasets.Split, datasets.Split]:
    """``(x_train, y_train), (x_test, y_test)``: MNIST's splits plus the letters, as uint8 28x28 images; the
    typeset letters (``font_letters.letters()`` unless given) are learnt after the drawn ones."""
    (x_digits, y_digits), (x_digits_test, y_digits_test) = mnist
    groups = unipen.writer_groups(records)
    learnt = [r for r, g in zip(records, groups) if g == "train"]
    kept = [r for r, g in zip(records, groups) if g != "train"]
    x_letters = np.concatenate([unipen.drawings(learnt, seed=s) for s in range(1, RENDERS + 1)])
    y_letters = np.tile(letter_labels(learnt), RENDERS)
    x_typeset, typeset_labels = font_letters.letters() if typeset is None else typeset
    x_letters = np.concatenate([x_letters, x_typeset])
    y_letters = np.concatenate([y_letters, np.array([CLASSES.index(c) for c in typeset_labels], np.uint8)])

    def as_uint8(images: np.ndarray) -> np.ndarray:
        return np.round(images * 255).astype(np.uint8)

    return ((np.concatenate([x_digits, as_uint8(x_letters)]), np.concatenate([y_digits, y_letters])),
            (np.concatenate([x_digits_test, as_uint8(unipen.drawings(kept))]),
             np.concatenate([y_digits_test, letter_labels(kept)])))


def source_files() -> list[Path]:
    """The files the set is made from (MNIST, the fonts, the letters last); a ``DataError`` names a missing one."""
    mnist = datasets.dataset_path("mnist")
    if mnist is None:
        raise datasets.DataError(f"MNIST not found: the handwriting set needs mnist.npz in ${datasets.DATA_ENV}")
    letters = datasets.data_dir() / unipen.LETTERS if datasets.data_dir() else None
    if letters is None or not letters.is_file():
        raise datasets.DataError(f"UNIPEN letters not found: the handwriting set needs {unipen.LETTERS} in "
                                 f"${datasets.DATA_ENV}")
    fonts = font_letters.font_files()
    if not fonts:
        raise datasets.DataError(f"No fonts in {font_letters.FONTS_DIR}: the handwriting set learns letters from "
                                 "them (npm run fonts puts them there)")
    return [mnist, *fonts, letters]


def load() -> tuple[datasets.Split, datasets.Split]:
    """The handwriting set, built once and then read from its cached copy (``core.base.array_cache``).

    The copy is keyed by the source files (names, sizes, times) and by the code of the recipe that builds it
    (this module and those it draws and preprocesses with): a changed recipe builds the set again by itself,
    where a version number bumped by hand could be forgotten."""
    files = source_files()
    parts = [f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]
    parts += array_cache.code(*RECIPE)
    return datasets.cached_splits("handwriting", parts, lambda: _made(files))


def _made(files: list[Path]) -> tuple[datasets.Split, datasets.Split]:
    """The set made from its source files (``source_files``): about a minute."""
    for old in paths.cache_dir().glob("handwriting-v*-*.npz"):  # copies kept under hand-numbered versions
        old.unlink(missing_ok=True)
    return build(datasets.read_npz(files[0], "mnist"), unipen.load_unipen(files[-1], file=unipen.LETTERS))


datasets.BUILDERS["handwriting"] = datasets.Builder(load, source_files)
