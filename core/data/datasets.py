"""Loading the data sets the app learns from, with one clear error when they are missing.

Two data sets in the Keras ``.npz`` layout: MNIST (digits) and CIFAR-10 (small
colour photos); and one folder of class folders: hand-drawn Greek letters
(``greek_letters/{train,test}/{alpha,beta,gamma}/*.png``), read through the
app's one preprocessing path into MNIST form, for transfer learning. Each is
looked up first in the folder named by the ``VP_DATA_DIR`` environment variable,
then in the Keras cache (``~/.keras/datasets``), and only then is it downloaded
with ``keras.datasets``, which needs internet.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.base import array_cache, paths, settings
from core.images import preprocess

DATA_ENV = settings.VP_DATA_DIR.name


class DataError(RuntimeError):
    """A data set is missing, unreadable or has the wrong shape."""


def data_dir() -> Path | None:
    """The folder named by ``VP_DATA_DIR``, or None when the variable is unset."""
    value = settings.VP_DATA_DIR.get()
    return Path(value).expanduser() if value else None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(name: str, array: np.ndarray, shape_tail: tuple[int, ...], dtype: str) -> None:
    if array.ndim != 1 + len(shape_tail) or array.shape[1:] != shape_tail:
        raise DataError(
            f"{name} has shape {array.shape}, expected (N, {', '.join(map(str, shape_tail))})"
            if shape_tail
            else f"{name} has shape {array.shape}, expected (N,)"
        )
    if array.dtype != np.dtype(dtype):
        raise DataError(f"{name} has dtype {array.dtype}, expected {dtype}")


@dataclass(frozen=True)
class DatasetSpec:
    """What a data set's ``.npz`` (or folder, for ``kind="folders"``) holds: its name, image shape, classes."""

    name: str
    title: str
    file: str
    image_shape: tuple[int, ...]
    classes: tuple[str, ...]
    n_train: int
    kind: str = "npz"  # "folders": train/<class>/*.png and test/<class>/*.png, read as drawings
    # "built": made from other files by the module registered in BUILDERS (core.data.handwriting)
    parent: str | None = None  # kind "subset": these classes of the parent data set, labelled 0..n-1 in order

    @property
    def drawings(self) -> bool:
        """Gray drawings (digits, letters) rather than colour photos: each kind has its own training recipe."""
        return len(self.image_shape) == 2


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("mnist", "MNIST", "mnist.npz", (28, 28), tuple(str(d) for d in range(10)), 60_000),
    "cifar10": DatasetSpec("cifar10", "CIFAR-10", "cifar10.npz", (32, 32, 3),
                           ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                            "truck"), 50_000),
    # CIFAR-10 cut in two for transfer learning: a backbone learns the first five classes, then is re-used for
    # the other five, which it has never seen (core.training.backbone_transfer).
    "cifar5_source": DatasetSpec("cifar5_source", "CIFAR-10, first five classes", "cifar10.npz", (32, 32, 3),
                                 ("airplane", "automobile", "bird", "cat", "deer"), 25_000, kind="subset",
                                 parent="cifar10"),
    "cifar5_target": DatasetSpec("cifar5_target", "CIFAR-10, last five classes", "cifar10.npz", (32, 32, 3),
                                 ("dog", "frog", "horse", "ship", "truck"), 25_000, kind="subset", parent="cifar10"),
    # MNIST's digits and the UNIPEN development letters of some writers (core.data.handwriting): features for
    # drawings that are not digits. 60,000 digits + 1,011 letters drawn 6 ways + 252 fonts' letters typeset 3 ways.
    "handwriting": DatasetSpec("handwriting", "Handwriting: digits and letters", "unipen_dev_letters.jsonl", (28, 28),
                               tuple("0123456789abcdefghijklmnopqrstuvwxyz"), 85_722, kind="built"),
    "greek": DatasetSpec("greek", "Greek letters", "greek_letters", (28, 28), ("alpha", "beta", "gamma"), 27,
                         kind="folders"),
}

Split = tuple[np.ndarray, np.ndarray]

# Seconds to read a data set the first time where that is slow, measured by bench/bench_datasets.py on the 2-core
# CPU the app is developed on: CIFAR-10's file is LZMA-compressed (later reads use an uncompressed copy, about 2 s),
# the handwriting set is built from its sources (later reads: its stored copy, about a second).
FIRST_READ_S = {"cifar10": 30, "handwriting": 230}


def first_read_words(dataset: str) -> str:
    """How long reading ``dataset`` takes the first time, in words for a spinner ("" when it is quick)."""
    spec = get_dataset(dataset)
    seconds = FIRST_READ_S.get(spec.parent or dataset)
    if seconds is None:
        return ""
    when = f"{round(seconds / 60)} min" if seconds >= 120 else f"{seconds} s"
    return f" (about {when} the first time, then a second or two)"


@dataclass(frozen=True)
class Builder:
    """How a data set of kind "built" is made: ``load`` returns its splits, ``sources`` the files it is made from
    (the last one named as the set's file), raising ``DataError`` for a missing one."""

    load: Callable[[], tuple[Split, Split]]
    sources: Callable[[], list[Path]]


# The modules that make the "built" data sets register here when imported (core/data/__init__.py imports them), so
# this catalogue imports none of them.
BUILDERS: dict[str, Builder] = {}
# Data sets whose classes are read from their folder (tiny-ImageNet's wnids.txt): their module registers the
# function that makes the spec, raising DataError when the folder is missing or damaged.
SPEC_MAKERS: dict[str, Callable[[], DatasetSpec]] = {}


UPLOAD_PREFIX = "upload:"  # a data set the user uploaded as a zip of class folders (see ``uploads_dir``)


def uploads_dir() -> Path:
    """Where uploaded data sets are kept, one folder of class folders each: ``$VP_HOME/datasets``."""
    return paths.vp_home() / "datasets"


def uploaded_datasets() -> list[str]:
    """Names (``upload:<name>``) of the data sets uploaded so far."""
    folder = uploads_dir()
    return sorted(f"{UPLOAD_PREFIX}{p.name}" for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def add_uploaded_dataset(name: str, zip_bytes: bytes) -> str:
    """Check an uploaded zip of class folders (core.data.zipdata: nothing is written if it fails) and keep it
    under ``uploads_dir()``; returns the data set's name, ``upload:<name>``."""
    from core.data import zipdata

    clean = zipdata.clean_name(name).replace(" ", "_")
    if not clean:
        raise DataError("give the data set a name: letters, digits, - or _")
    zipdata.extract_class_folders(zip_bytes, uploads_dir() / clean)
    return UPLOAD_PREFIX + clean


def _upload_spec(name: str) -> DatasetSpec:
    folder = uploads_dir() / name[len(UPLOAD_PREFIX):]
    if not folder.is_dir():
        raise DataError(f"no uploaded data set called {name[len(UPLOAD_PREFIX):]!r}")
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    n = sum(1 for c in classes for p in (folder / c).iterdir() if p.suffix.lower() in preprocess.IMAGE_SUFFIXES)
    return DatasetSpec(name, f"{name[len(UPLOAD_PREFIX):]} (uploaded)", str(folder), (32, 32, 3), classes,
                       n - n // 5, kind="upload")


def get_dataset(name: str) -> DatasetSpec:
    """The spec of data set ``name`` (``mnist``, ``cifar10``, ... or ``upload:<name>``)."""
    if name.startswith(UPLOAD_PREFIX):
        return _upload_spec(name)
    if name in SPEC_MAKERS:
        return SPEC_MAKERS[name]()
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join([*DATASETS, *SPEC_MAKERS])}") from None


def read_npz(path: Path, dataset: str = "mnist") -> tuple[Split, Split]:
    """Read a data set's ``.npz`` in the Keras layout and validate its shapes, dtypes and labels."""
    spec = get_dataset(dataset)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a lone .npy array under an .npz name
            raise DataError(f"{path} is a single NumPy array, not an .npz archive of the four arrays "
                            f"x_train, y_train, x_test, y_test")
        with archive as d:
            x_train, y_train = d["x_train"], d["y_train"]
            x_test, y_test = d["x_test"], d["y_test"]
    except KeyError as e:
        raise DataError(f"{path} is not a {spec.file} file: missing array {e}") from e
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path} could not be read as a NumPy .npz file: {e}") from e
    return _checked(path, dataset, x_train, y_train, x_test, y_test)


def _checked(path: Path | str, dataset: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
             y_test: np.ndarray) -> tuple[Split, Split]:
    """The four arrays read from ``path`` as splits, once their shapes, dtypes and labels are right for ``dataset``."""
    spec = get_dataset(dataset)
    y_train, y_test = y_train.reshape(-1) if y_train.ndim == 2 else y_train, \
        y_test.reshape(-1) if y_test.ndim == 2 else y_test  # Keras' CIFAR labels come as (N, 1)
    for name, arr in (("x_train", x_train), ("x_test", x_test)):
        _check(name, arr, spec.image_shape, "uint8")
    for name, arr, x in (("y_train", y_train, x_train), ("y_test", y_test, x_test)):
        _check(name, arr, (), "uint8")
        if len(arr) != len(x):
            raise DataError(f"{name} has {len(arr)} labels for {len(x)} images")
        if len(arr) and arr.max() >= len(spec.classes):
            raise DataError(f"{name} has labels above {len(spec.classes) - 1}")
    return (x_train, y_train), (x_test, y_test)


def read_mnist_npz(path: Path) -> tuple[Split, Split]:
    """Read an ``mnist.npz`` in the Keras layout (see ``read_npz``)."""
    return read_npz(path, "mnist")


def subset(splits: tuple[Split, Split], spec: DatasetSpec) -> tuple[Split, Split]:
    """The images of ``spec``'s classes from its parent's splits, relabelled 0..n-1 in ``spec.classes`` order."""
    parent = get_dataset(spec.parent).classes
    wanted = np.array([parent.index(c) for c in spec.classes])
    out = []
    for x, y in splits:
        keep = np.isin(y, wanted)
        relabel = np.full(len(parent), 255, np.uint8)
        relabel[wanted] = np.arange(len(wanted), dtype=np.uint8)
        out.append((x[keep], relabel[y[keep]]))
    return out[0], out[1]


def dataset_path(dataset: str = "mnist") -> Path | None:
    """Where a local copy of the data set is (``VP_DATA_DIR``, then the Keras cache), or None."""
    if get_dataset(dataset).kind == "subset":
        return dataset_path(get_dataset(dataset).parent)
    if get_dataset(dataset).kind == "upload":
        return Path(get_dataset(dataset).file)
    if get_dataset(dataset).kind == "built":
        try:
            return BUILDERS[dataset].sources()[-1]
        except DataError:
            return None
    file = get_dataset(dataset).file
    candidates = []
    if data_dir() is not None:
        candidates.append(data_dir() / file)
    candidates.append(Path.home() / ".keras" / "datasets" / file)
    if get_dataset(dataset).kind == "folders":
        return next((p for p in candidates if (p / "train").is_dir()), None)
    return next((p for p in candidates if p.is_file()), None)


SPLIT_ARRAYS = ("x_train", "y_train", "x_test", "y_test")  # a data set's arrays, in the Keras layout
COMPRESSED_BYTES = 50 * 2**20  # a data set file above this size is read through an uncompressed copy


def _read_cached(path: Path, dataset: str) -> tuple[Split, Split]:
    """Read a data set, through an uncompressed copy (``core.base.array_cache``) when the file is compressed hard.

    The shared ``cifar10.npz`` is LZMA-compressed: about 10 s to read on a laptop, for every run and every
    server start. The copy, keyed by the file's name, size and time and checked the same way, reads in well
    under a second.
    """
    stat = path.stat()
    if stat.st_size < COMPRESSED_BYTES:
        return read_npz(path, dataset)

    def build() -> tuple[Split, Split]:
        # The copy as it was named before the shared cache: 170 MB for CIFAR-10, not to be left behind.
        (paths.cache_dir() / f"{dataset}-{stat.st_size}-{stat.st_mtime_ns}.npz").unlink(missing_ok=True)
        return read_npz(path, dataset)

    return cached_splits(dataset, [path.name, str(stat.st_size), str(stat.st_mtime_ns)], build)


def cached_splits(dataset: str, parts: list[str | bytes], build: Callable[[], tuple[Split, Split]]
                  ) -> tuple[Split, Split]:
    """``dataset``'s splits, made by ``build`` from the inputs ``parts`` names and kept in the shared array cache
    (``core.base.array_cache``); a copy read back is checked as a data set file is, and made again if wrong."""
    where = f"the cached copy of {dataset}"

    def arrays() -> dict[str, np.ndarray]:
        (x_train, y_train), (x_test, y_test) = build()
        return dict(zip(SPLIT_ARRAYS, (x_train, y_train, x_test, y_test)))

    def valid(kept: dict[str, np.ndarray]) -> bool:
        try:
            _checked(where, dataset, *(kept[k] for k in SPLIT_ARRAYS))
            return True
        except (KeyError, DataError):
            return False

    kept = array_cache.cached(dataset, parts, arrays, valid)
    return _checked(where, dataset, *(kept[k] for k in SPLIT_ARRAYS))


def load_dataset(dataset: str = "mnist", download: bool = True) -> tuple[Split, Split]:
    """``(x_train, y_train), (x_test, y_test)`` as uint8 images and uint8 labels, found locally or downloaded."""
    spec = get_dataset(dataset)
    if spec.kind == "subset":
        return subset(load_dataset(spec.parent, download), spec)
    if spec.kind == "upload":
        return read_photo_folders(Path(spec.file), spec.classes)
    if spec.kind == "built":
        return BUILDERS[dataset].load()
    path = dataset_path(dataset)
    if path is not None and spec.kind == "folders":
        return read_class_folders(path / "train", spec.classes), read_class_folders(path / "test", spec.classes)
    if path is not None:
        return _read_cached(path, dataset)
    if spec.kind == "folders":
        where = f"{data_dir() / spec.file}" if data_dir() else "$" + DATA_ENV + "/" + spec.file
        raise DataError(f"{spec.title} not found: expected the folder {where}/train (set {DATA_ENV})")
    where = f"{data_dir() / spec.file}" if data_dir() else "$" + DATA_ENV + "/" + spec.file
    if not download:
        raise DataError(f"{spec.title} not found: expected {where} (set {DATA_ENV} to the data folder)")
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, dataset).load_data()
    except Exception as e:  # noqa: BLE001 - any download failure means the same to the user
        raise DataError(
            f"{spec.title} not found at {where} and the download failed ({e}). "
            f"Put {spec.file} in a folder and set {DATA_ENV} to that folder."
        ) from e
    return (x_train, y_train.reshape(-1).astype("uint8")), (x_test, y_test.reshape(-1).astype("uint8"))




def read_class_folders(folder: Path, classes: tuple[str, ...] | None = None) -> Split:
    """Pictures in ``folder/<class>/`` as MNIST-style 28x28 uint8 images and their labels.

    Each picture goes through the same preprocessing as a drawing on the canvas or an upload
    (polarity, crop to the ink, centre of mass), so a photo of ink on grey paper becomes a white
    letter on black, as MNIST's digits are. ``classes`` fixes the label order (default: sorted folders).
    """
    classes = classes or tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    xs, ys = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).glob("*") if p.suffix.lower() in preprocess.IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"{folder / name} holds no pictures")
        for file in files:
            try:
                result = preprocess.to_mnist(preprocess.read_image_file(file), keep_steps=False)
            except (OSError, preprocess.InputError) as e:
                raise DataError(f"{file} could not be read: {e}") from e
            if result.empty:
                raise DataError(f"{file} is blank: no letter or digit found in it")
            xs.append(np.round(result.image * 255).astype(np.uint8))
            ys.append(label)
    return np.stack(xs), np.asarray(ys, np.uint8)


def read_photo_folders(folder: Path, classes: tuple[str, ...], size: int = 32, test_fraction: float = 0.2,
                       seed: int = 0) -> tuple[Split, Split]:
    """Photos in ``folder/<class>/`` as ``size`` x ``size`` RGB uint8 images, split into train and test.

    Each photo is cropped to its central square and shrunk to CIFAR-10's 32x32, so the project's CIFAR
    backbones (and the ImageNet ones, upsampled) take it as they take CIFAR-10. A fifth of each class,
    drawn at random once (``seed``), is held out as its test set.
    """
    from PIL import Image, ImageOps

    rng = np.random.default_rng(seed)
    splits: list[list] = [[], [], [], []]
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in preprocess.IMAGE_SUFFIXES)
        images = []
        for file in files:
            try:
                preprocess.read_image_file(file)  # the app's checks: size, megapixels, a real picture
                with Image.open(file) as img:
                    square = ImageOps.fit(ImageOps.exif_transpose(img).convert("RGB"), (size, size),
                                          Image.Resampling.LANCZOS)
            except (OSError, preprocess.InputError) as e:
                raise DataError(f"{file} could not be read: {e}") from e
            images.append(np.asarray(square, np.uint8))
        order = rng.permutation(len(images))
        n_test = max(1, int(round(test_fraction * len(images))))
        for part, idx in ((2, order[:n_test]), (0, order[n_test:])):
            splits[part] += [images[i] for i in idx]
            splits[part + 1] += [label] * len(idx)
    x_train, y_train, x_test, y_test = splits
    return ((np.stack(x_train), np.asarray(y_train, np.uint8)), (np.stack(x_test), np.asarray(y_test, np.uint8)))


def load_mnist(download: bool = True) -> tuple[Split, Split]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``, uint8 images 28x28 and labels 0-9."""
    return load_dataset("mnist", download)


def dataset_sha256(dataset: str = "mnist") -> str:
    """sha256 of the data set file in use, recorded on every model card."""
    if get_dataset(dataset).kind == "built":  # one hash over the files it is made from
        return hashlib.sha256("".join(f"{f.name}:{sha256_file(f)}\n" for f in BUILDERS[dataset].sources())
                              .encode()).hexdigest()
    path = dataset_path(dataset)
    if path is not None and path.is_dir():  # a folder: one hash over its files' names and contents
        digest = hashlib.sha256()
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(f"{file.relative_to(path)}:{sha256_file(file)}\n".encode())
        return digest.hexdigest()
    return sha256_file(path) if path else "keras-download"


def class_counts(y: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """How many images each class has: a data set's balance."""
    return np.bincount(np.asarray(y, np.int64), minlength=n_classes)


def preview_grid(x: np.ndarray, y: np.ndarray, per_class: int = 8, seed: int = 0) -> np.ndarray:
    """One picture of ``per_class`` random images of each class, a row per class (uint8, gray or RGB)."""
    rng = np.random.default_rng(seed)
    rows = []
    for label in range(int(y.max()) + 1):
        idx = np.flatnonzero(y == label)
        pick = rng.choice(idx, min(per_class, len(idx)), replace=False)
        blanks = [np.zeros_like(x[0])] * (per_class - len(pick))  # a class with fewer images than asked
        rows.append(np.concatenate([*x[pick], *blanks], axis=1))
    return np.concatenate(rows, axis=0)
