"""A data set at a glance: a few training images of each class and how many images each class has.

The Data sets page shows no more than that, yet reading the whole set first takes about half a minute for
CIFAR-10 (its file is LZMA-compressed) and about four minutes for the handwriting set (built from its sources).
So the overviews of those two are shipped in ``assets/previews`` (written by ``python -m core previews``), each
naming the sizes of the files it was made from. tiny-ImageNet (110,000 JPEGs) is counted from its checked layout
and only the photos shown are decoded; any other set, or one whose files differ, is read whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.base.files import atomic_path
from core.base.paths import ROOT
from core.data import datasets, tiny_imagenet

PREVIEWS_DIR = ROOT / "assets" / "previews"
PER_CLASS = 20  # training images kept of each class: two pages of ten for "Other examples"
SHIPPED = ("cifar10", "handwriting")  # the sets that are slow to read whole


@dataclass(frozen=True)
class Overview:
    """``x``, ``y``: up to ``PER_CLASS`` training images of each class; the training and test images a class."""

    x: np.ndarray
    y: np.ndarray
    train_counts: np.ndarray
    test_counts: np.ndarray


def sources_key(dataset: str) -> str:
    """The names and sizes of the files ``dataset`` is read or built from, hashed ("" when one is missing)."""
    spec = datasets.get_dataset(dataset)
    try:
        files = datasets.BUILDERS[dataset].sources() if spec.kind == "built" else [datasets.dataset_path(dataset)]
    except datasets.DataError:
        return ""
    if any(f is None or not f.is_file() for f in files):
        return ""
    return hashlib.sha256(" ".join(f"{f.name}:{f.stat().st_size}" for f in files).encode()).hexdigest()[:16]


def preview_path(dataset: str) -> Path:
    return PREVIEWS_DIR / f"{dataset}.npz"


def from_splits(train: datasets.Split, test: datasets.Split, n_classes: int, seed: int = 0) -> Overview:
    """The overview of a data set read whole: ``PER_CLASS`` random training images of each class."""
    (x_train, y_train), (_, y_test) = train, test
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.permutation(np.flatnonzero(y_train == c))[:PER_CLASS] for c in range(n_classes)])
    return Overview(x_train[keep], y_train[keep], datasets.class_counts(y_train, n_classes),
                    datasets.class_counts(y_test, n_classes))


def only(view: Overview, classes: list[int]) -> datasets.Split:
    """The overview's images of ``classes`` (label numbers), relabelled 0..n-1 in the order given: the rows a
    page shows of a set with too many classes to show them all."""
    keep = np.isin(view.y, classes)
    relabel = np.zeros(len(view.train_counts), np.uint8)
    relabel[classes] = np.arange(len(classes))
    return view.x[keep], relabel[view.y[keep]]


def shipped(dataset: str) -> Overview | None:
    """The shipped overview of ``dataset``, or None when there is none or it was made from other files."""
    path = preview_path(dataset)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as d:
            if str(d["sources"]) != sources_key(dataset) or not str(d["sources"]):
                return None
            return Overview(d["x"], d["y"], d["train_counts"], d["test_counts"])
    except (OSError, ValueError, KeyError):
        return None


def tiny_imagenet_overview(seed: int = 0) -> Overview:
    """tiny-ImageNet's overview from its checked folder: counts from the file lists, ``PER_CLASS`` random
    training photos of each class decoded (4,000 of the standard set's 100,000: a few seconds)."""
    layout = tiny_imagenet.layout()
    rng = np.random.default_rng(seed)
    picked = [(f, label) for label, wnid in enumerate(layout.wnids) for f in
              (layout.train[wnid][i] for i in sorted(rng.permutation(len(layout.train[wnid]))[:PER_CLASS]))]
    val = np.array([layout.wnids.index(w) for _, w in layout.val], np.int64)
    return Overview(tiny_imagenet.decode([f for f, _ in picked], tiny_imagenet.SIDE),
                    np.array([label for _, label in picked], np.uint8),
                    np.array([len(layout.train[w]) for w in layout.wnids]),
                    datasets.class_counts(val, len(layout.wnids)))


def overview(dataset: str) -> Overview:
    """The overview of ``dataset``: the shipped one when it fits its files, else read from the whole set."""
    if dataset == tiny_imagenet.NAME:
        return tiny_imagenet_overview()
    return shipped(dataset) or from_splits(*datasets.load_dataset(dataset, download=False),
                                           len(datasets.get_dataset(dataset).classes))


def ship(dataset: str) -> Path:
    """Write ``dataset``'s overview to ``assets/previews`` from the whole set (``python -m core previews``)."""
    splits = datasets.load_dataset(dataset, download=False)
    view = from_splits(*splits, len(datasets.get_dataset(dataset).classes))
    PREVIEWS_DIR.mkdir(parents=True, exist_ok=True)
    path = preview_path(dataset)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, x=view.x, y=view.y, train_counts=view.train_counts, test_counts=view.test_counts,
                            sources=np.array(sources_key(dataset)))
    return path
