"""tiny-ImageNet-200: the 200-class photo set of reports 001 and 003, read from its standard folder.

The folder ``tiny-imagenet-200/`` is the common course download (about 240 MB zipped): ``wnids.txt`` (the
200 WordNet ids, one a line), ``words.txt`` (each id's names), ``train/<wnid>/images/*.JPEG`` (500 photos a
class, 64x64, with ``<wnid>_boxes.txt``), ``val/images/*.JPEG`` with ``val/val_annotations.txt`` (file, wnid,
box: 50 a class) and ``test/images/`` (unlabelled, not used). As in the reports, the labelled ``val`` split
is the test set, and the photos are used at 32x32 (or at their own 64x64).

The layout is checked before anything is decoded, so a partial or damaged folder is one clear error within
seconds. Decoding 110,000 JPEGs takes minutes: the arrays are kept in the content-keyed cache
(``core.base.array_cache``), keyed by the folder's file names and sizes and the chosen classes and size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.base import array_cache
from core.data import datasets

FOLDER = "tiny-imagenet-200"
NATIVE_SIDE = 64  # the photos as shipped
SIDE = 32  # as reports 001 and 003 used them
SIDES = (SIDE, NATIVE_SIDE)  # the sides a run may read them at
N_CLASSES = 200
DOWNLOAD_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"  # the data set's usual zip, about 240 MB
RECIPE = 1  # of the decoding below: arrays kept by another recipe are not read


@dataclass(frozen=True)
class Layout:
    """What a checked folder holds: the class ids in ``wnids.txt`` order, their names, and the labelled files."""

    folder: Path
    wnids: tuple[str, ...]
    names: tuple[str, ...]
    train: dict[str, list[Path]]  # wnid -> its training photos
    val: list[tuple[Path, str]]  # (photo, wnid) from val_annotations.txt


def find() -> Path | None:
    """The ``tiny-imagenet-200`` folder in ``VP_DATA_DIR``, else in the Keras cache, or None."""
    candidates = [datasets.data_dir() / FOLDER] if datasets.data_dir() is not None else []
    candidates.append(Path.home() / ".keras" / "datasets" / FOLDER)
    return next((p for p in candidates if p.is_dir()), None)


def where_to_put_it() -> str:
    """One sentence for a machine without the folder."""
    target = datasets.data_dir() / FOLDER if datasets.data_dir() is not None else f"${datasets.DATA_ENV}/{FOLDER}"
    return (f"tiny-ImageNet is not on this machine: unzip the data set's tiny-imagenet-200.zip ({DOWNLOAD_URL}, "
            f"about 240 MB) so that {target}/wnids.txt exists (set {datasets.DATA_ENV} to the folder holding it).")


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise datasets.DataError(f"tiny-ImageNet folder {path.parent} has no {path.name}")
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise datasets.DataError(f"{path} could not be read: {e}") from e


def check(folder: Path) -> Layout:
    """The folder's layout, checked without decoding a photo: a ``DataError`` naming the first thing wrong."""
    if not folder.is_dir():
        raise datasets.DataError(f"{folder} is not a folder")
    wnids = tuple(_lines(folder / "wnids.txt"))
    if not wnids or len(set(wnids)) != len(wnids):
        raise datasets.DataError(f"{folder / 'wnids.txt'} must list each class id once; it lists {len(wnids)} "
                                 f"lines and {len(set(wnids))} ids")
    words = {}
    for line in _lines(folder / "words.txt"):
        wnid, _, text = line.partition("\t")
        words[wnid] = text.split(",")[0].strip() or wnid
    train = {}
    for wnid in wnids:
        images = folder / "train" / wnid / "images"
        files = sorted(images.glob("*.JPEG")) if images.is_dir() else []
        if not files:
            raise datasets.DataError(f"class {wnid} has no training photos: expected {images}/*.JPEG")
        train[wnid] = files
    known, val = set(wnids), []
    for n, line in enumerate(_lines(folder / "val" / "val_annotations.txt"), start=1):
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in known:
            raise datasets.DataError(f"val/val_annotations.txt line {n} names no class of wnids.txt: {line[:80]!r}")
        photo = folder / "val" / "images" / fields[0]
        if not photo.is_file():
            raise datasets.DataError(f"val/val_annotations.txt line {n} names {fields[0]}, which is not in "
                                     f"{folder / 'val' / 'images'}")
        val.append((photo, fields[1]))
    return Layout(folder, wnids, tuple(words.get(w, w) for w in wnids), train, val)


def decode(files: list[Path], side: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    out = np.empty((len(files), side, side, 3), np.uint8)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as img:
                img = img.convert("RGB")  # a few photos of the set are gray
                if img.size != (side, side):
                    img = img.resize((side, side), Image.Resampling.BOX)  # 64 -> 32: each pixel the mean of four
                out[i] = np.asarray(img, np.uint8)
        except (OSError, UnidentifiedImageError) as e:
            raise datasets.DataError(f"{file} is not a readable photo: {e}") from e
    return out


def load(folder: Path | None = None, classes: tuple[str, ...] | None = None,
         side: int = SIDE) -> tuple[datasets.Split, datasets.Split]:
    """``(x_train, y_train), (x_val, y_val)``: uint8 RGB photos ``side`` x ``side`` and labels 0..n-1.

    ``classes`` (wnids, default all in ``wnids.txt`` order) picks a subset, labelled in the order given.
    """
    folder = folder or find()
    if folder is None:
        raise datasets.DataError(where_to_put_it())
    layout = check(folder)
    classes = classes or layout.wnids
    missing = [c for c in classes if c not in layout.train]
    if missing:
        raise datasets.DataError(f"{', '.join(missing[:5])} not among tiny-ImageNet's classes in {folder}")
    train = [(f, label) for label, c in enumerate(classes) for f in layout.train[c]]
    index = {c: label for label, c in enumerate(classes)}
    val = [(f, index[c]) for f, c in layout.val if c in index]
    files = [f for f, _ in train + val]
    parts = [f"recipe {RECIPE}", f"side {side}", ",".join(classes),
             *(f"{f.relative_to(folder)}:{f.stat().st_size}" for f in files)]

    def build() -> dict[str, np.ndarray]:
        return {"x_train": decode([f for f, _ in train], side), "y_train": np.array([y for _, y in train], np.uint8),
                "x_test": decode([f for f, _ in val], side), "y_test": np.array([y for _, y in val], np.uint8)}

    arrays = array_cache.cached("tiny-imagenet", parts, build)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def class_names(folder: Path | None = None) -> dict[str, str]:
    """Each class id's first name from ``words.txt`` ("n01443537" -> "goldfish"), in ``wnids.txt`` order."""
    folder = folder or find()
    if folder is None:
        raise datasets.DataError(where_to_put_it())
    layout = check(folder)
    return dict(zip(layout.wnids, layout.names))


NAME = "tiny-imagenet"
TITLE = "tiny-ImageNet-200"


@functools.lru_cache(maxsize=4)
def _checked(folder: Path, stamp: int) -> Layout:  # ``stamp``: wnids.txt's mtime, so a new copy is checked again
    return check(folder)


def layout() -> Layout:
    """The checked folder (checked once while ``wnids.txt`` is unchanged: the pages ask for the spec often)."""
    folder = find()
    if folder is None:
        raise datasets.DataError(where_to_put_it())
    wnids = folder / "wnids.txt"
    return _checked(folder, wnids.stat().st_mtime_ns if wnids.is_file() else 0)


def spec() -> datasets.DatasetSpec:
    """The catalogue's entry: the classes by name, in ``wnids.txt`` order, at 32x32 as the reports used them.

    Without the folder, the standard set's shape (200 classes, 500 photos each), so its networks can still be
    built and listed; loading it then says where to put the folder.
    """
    try:
        found = layout()
    except datasets.DataError:
        if find() is not None:
            raise  # a damaged folder is said at once, not hidden behind the standard shape
        return datasets.DatasetSpec(NAME, TITLE, FOLDER, (SIDE, SIDE, 3),
                                    tuple(f"class {i}" for i in range(N_CLASSES)), N_CLASSES * 500, kind="built")
    return datasets.DatasetSpec(NAME, TITLE, FOLDER, (SIDE, SIDE, 3), found.names,
                                sum(len(f) for f in found.train.values()), kind="built")


def names(classes: tuple[str, ...]) -> tuple[str, ...]:
    """The names (words.txt) of ``classes`` (wnids), in their order."""
    found = dict(zip(layout().wnids, layout().names))
    return tuple(found.get(c, c) for c in classes)


def n_train(classes: tuple[str, ...]) -> int:
    """Training photos of ``classes`` (wnids) in the folder; 500 a class, the standard set's, without it."""
    if find() is None:
        return 500 * len(classes)
    found = layout()
    missing = [c for c in classes if c not in found.train]
    if missing:
        raise datasets.DataError(f"{', '.join(missing[:5])} not among tiny-ImageNet's classes in {found.folder}")
    return sum(len(found.train[c]) for c in classes)


def _sources() -> list[Path]:
    found = layout()
    return [*(f for files in found.train.values() for f in files), *(f for f, _ in found.val),
            found.folder / "wnids.txt"]


datasets.SPEC_MAKERS[NAME] = spec
datasets.BUILDERS[NAME] = datasets.Builder(load=lambda: load(find()), sources=_sources)
