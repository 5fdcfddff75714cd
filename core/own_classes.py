"""Your own classes: a new last layer on a drawing network's frozen features (the Teachable Machine idea).

A student names 2 to 10 classes (shapes, letters, symbols), draws a few
examples of each, and a new head learns them in a fraction of a second. The
shipped network (by default the handwriting ConvNet, which learnt digits and
letters) is kept as it is (frozen): each example becomes the
network's penultimate features once (``heads.embedding_model``), and a
softmax regression, scikit-learn's ``LogisticRegression`` on the features
scaled to length 1 (``unit_rows``), is fitted on those features alone. No weight of the network
changes, so training again after one more drawing costs one pass through the
network for that drawing and none for the others.

A project is a folder under ``$VP_HOME/own_classes/<name>/``::

    project.json                  class names (in the user's order), creation time
    examples/<class>/<n>.png      each example as the network sees it: 28x28, uint8, white on black
    drawings/<class>/<n>.png      the drawing it came from, when one was given
    features/<model>.npy, .json   the examples' features, keyed by model, model file and example content
    head-<model>.json             the trained head: plain numbers, no pickle

A head scored on its own training drawings is always right, so ``held_out``
predicts each example with a head that never saw it (stratified k-fold
cross-validation), and ``feature_map`` draws the frozen features in 2-D (PCA)
so a student can see whether the network's features keep the classes apart.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from core.base import paths
from core.base.files import atomic_path
from core.base.metrics import evaluate
from core.data import zipdata
from core.images import preprocess
from core.nets import registry

Project = str | Path  # a project's name, or its folder (as create_project returns it)

NETWORKS = registry.FEATURE_MODELS  # the networks a head may read, the default first
DEFAULT_MODEL = NETWORKS[0]
MIN_CLASSES, MAX_CLASSES = 2, 10
MAX_IMPORT_FILES = 5_000
MIN_IMPORT_PER_CLASS = 5  # pictures with a drawing that a zip must bring of each of its classes
SIDE = preprocess.FRAME
PROJECT_FILE = "project.json"
META_FOLDER = ".vision-playground"  # in an exported zip: hidden, so core.data.zipdata skips it as a system folder
# L2 strength of the head, on features scaled to length 1 (``unit_rows``). Measured on letters by writers who
# did not teach them (bench/bench_unseen_hands.py, 100 tasks of 5 letters x 10 drawings): the handwriting
# network's features read 94.3% this way against 91.6% standardised per feature as before (C=0.1), the
# ResNet's 89.1% against 88.7%, the ConvNet's 86.9% against 85.1%; C from 3 to 30 moves it by 0.2 point
# (with the fonts' letters learnt too, 2026-12-03: 95.0% at C=10, 94.9% at C=30, over 4 x 100 tasks).
# On 50 examples, standardising gives each mostly-silent ReLU feature as much say as the busy ones.
HEAD_C = 10.0


class ProjectError(ValueError):
    """A project, a class or an example cannot be used; the message says why, in plain words."""


# --- Projects and their examples ---------------------------------------------------------------


def projects_dir() -> Path:
    """The folder that holds every project."""
    path = paths.vp_home() / "own_classes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_name(name: str) -> str:
    """A name reduced to letters, digits, spaces, '-' and '_' (core.data.zipdata's rule, so zips round-trip)."""
    return zipdata.clean_name(str(name))


def create_project(name: str, classes: list[str]) -> Path:
    """A new, empty project folder with its class folders; refuses bad or clashing names."""
    folder_name = clean_name(name)
    if not folder_name:
        raise ProjectError("Give the project a name with at least one letter or digit.")
    names = check_classes(classes)
    folder = projects_dir() / folder_name
    if folder.exists():
        raise ProjectError(f"A project named '{folder_name}' already exists; choose another name or delete it.")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder_name}-", dir=projects_dir()))
    for cls in names:
        (staging / "examples" / cls).mkdir(parents=True)
    info = {"name": folder_name, "classes": names, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    (staging / PROJECT_FILE).write_text(json.dumps(info, indent=1))
    try:
        staging.rename(folder)  # the project appears whole or not at all
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise ProjectError(f"A project named '{folder_name}' already exists; choose another name.") from None
    return folder


def check_classes(classes: list[str]) -> list[str]:
    """The class names cleaned, in the order given; refuses too few, too many, empty or clashing names."""
    classes = list(classes)
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        raise ProjectError(f"A project needs {MIN_CLASSES} to {MAX_CLASSES} classes; {len(classes)} "
                           f"{'was' if len(classes) == 1 else 'were'} given.")
    names, seen = [], {}
    for raw in classes:
        name = clean_name(raw)
        if not name:
            raise ProjectError(f"The class name '{raw}' has no letters or digits; every class needs a name.")
        # Case-insensitive: on macOS and Windows the folders 'a' and 'A' are the same folder.
        other = seen.setdefault(name.casefold(), raw)
        if other == raw and name in names:
            raise ProjectError(f"The class name '{raw}' is given twice; give each class its own name.")
        if other != raw:
            raise ProjectError(f"The class names '{other}' and '{raw}' are the same once cleaned ('{name}'; "
                               f"case does not count); give each class its own name.")
        names.append(name)
    return names


def list_projects() -> list[str]:
    """The names of the projects, sorted."""
    return sorted(p.name for p in projects_dir().iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / PROJECT_FILE).is_file())


def project_dir(project: Project) -> Path:
    """The folder of an existing project, given its name or its folder."""
    folder = Path(project) if isinstance(project, Path) else projects_dir() / clean_name(project)
    if not clean_name(folder.name) or not (folder / PROJECT_FILE).is_file():
        raise ProjectError(f"There is no project named '{folder.name if isinstance(project, Path) else project}'.")
    return folder


def project_info(project: Project) -> dict:
    """What project.json holds: the name, the class names in order, the creation time."""
    folder = project_dir(project)
    try:
        info = json.loads((folder / PROJECT_FILE).read_text())
        check_classes(info["classes"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ProjectError(f"The project '{folder.name}' is damaged: its {PROJECT_FILE} cannot be read.") from None
    return info


def class_names(project: Project) -> list[str]:
    """The project's classes, in the order the user named them (the head's output order)."""
    return list(project_info(project)["classes"])


def delete_project(name: Project) -> None:
    """Delete a project folder: its examples, cached features and heads."""
    folder = project_dir(name)
    if folder.resolve().parent != projects_dir().resolve():
        raise ProjectError(f"'{folder}' is not a project folder of this app; nothing was deleted.")
    shutil.rmtree(folder)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def _gray_uint8(image: np.ndarray, what: str) -> np.ndarray:
    """A 2-D gray picture as uint8: uint8 is kept, floats must lie in [0, 1] (as preprocess makes them)."""
    a = np.asarray(image)
    if a.ndim != 2:
        raise ProjectError(f"{what} must be a 2-D gray picture; got shape {a.shape}.")
    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float64)
    if not np.isfinite(a).all() or a.min() < 0.0 or a.max() > 1.0:
        raise ProjectError(f"{what} must hold gray values between 0 and 1 (or be uint8).")
    return np.round(a * 255.0).astype(np.uint8)


def _find_class(project: Project, cls: str) -> str:
    names = class_names(project)
    by_key = {n.casefold(): n for n in names}
    found = by_key.get(clean_name(cls).casefold())
    if found is None:
        raise ProjectError(f"'{cls}' is not a class of this project; its classes are {', '.join(names)}.")
    return found


def add_example(project: Project, cls: str, image28: np.ndarray, drawing: np.ndarray | None = None) -> Path:
    """Save one example of class ``cls`` (a 28x28 preprocessed picture) and, optionally, the drawing behind it."""
    folder = project_dir(project)
    cls = _find_class(folder, cls)
    pixels = _gray_uint8(image28, "An example")
    if pixels.shape != (SIDE, SIDE):
        raise ProjectError(f"An example must be the {SIDE}x{SIDE} picture the network reads (from "
                           f"preprocess.to_mnist); got {pixels.shape[0]}x{pixels.shape[1]}.")
    if pixels.max() == 0:
        raise ProjectError("The example is empty: draw something first.")
    data = _png(pixels)
    target = folder / "examples" / cls
    target.mkdir(parents=True, exist_ok=True)
    while True:  # 'x' mode: two sessions adding at once never overwrite each other's example
        n = 1 + max((int(p.stem) for p in target.glob("*.png") if p.stem.isdigit()), default=0)
        path = target / f"{n}.png"
        try:
            with open(path, "xb") as f:
                f.write(data)
            break
        except FileExistsError:
            continue
    if drawing is not None:
        raw = folder / "drawings" / cls / path.name
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_bytes(_png(_gray_uint8(drawing, "A drawing")))
    return path


def remove_example(path: str | Path) -> None:
    """Delete one example (and its drawing); only files inside a project's examples folder are touched."""
    path = Path(path).resolve()
    try:
        parts = path.relative_to(projects_dir().resolve()).parts
    except ValueError:
        parts = ()
    if len(parts) != 4 or parts[1] != "examples" or path.suffix != ".png":
        raise ProjectError(f"'{path}' is not an example of a project; nothing was deleted.")
    path.unlink(missing_ok=True)  # already gone (a double click) is not an error
    (path.parents[2] / "drawings" / parts[2] / parts[3]).unlink(missing_ok=True)


def example_files(project: Project) -> tuple[list[Path], np.ndarray, list[str]]:
    """Every example file, its label (index into the class names) and the class names, in a fixed order."""
    folder = project_dir(project)
    names = class_names(folder)
    files, labels = [], []
    for label, cls in enumerate(names):
        found = [p for p in (folder / "examples" / cls).glob("*.png") if p.stem.isdigit()]
        for path in sorted(found, key=lambda p: int(p.stem)):
            files.append(path)
            labels.append(label)
    return files, np.asarray(labels, np.int64), names


def _decode_example(data: bytes, path: Path) -> np.ndarray:
    try:
        pixels = preprocess.scale_pixels(Image.open(io.BytesIO(data)).convert("L"))
    except (OSError, ValueError):
        pixels = None
    if pixels is None or pixels.shape != (SIDE, SIDE):
        raise ProjectError(f"The example {path} is damaged (not a {SIDE}x{SIDE} PNG); remove it.")
    return pixels


def examples(project: Project) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The examples as (N, 28, 28) float32 in [0, 1], their labels (N,), and the class names."""
    files, labels, names = example_files(project)
    images = [_decode_example(p.read_bytes(), p) for p in files]
    return np.stack(images) if images else np.zeros((0, SIDE, SIDE), np.float32), labels, names


def counts(project: Project) -> dict[str, int]:
    """The number of examples of each class, in class order."""
    _, labels, names = example_files(project)
    return dict(zip(names, np.bincount(labels, minlength=len(names)).tolist()))


# --- The frozen network's features, computed once per example ----------------------------------------


def _file_key(model_name: str) -> str:
    return re.sub(r"[^\w\-]", "_", model_name)  # 'run:<id>' names a lab model: no ':' in file names


@functools.lru_cache(maxsize=4)
def _network(model_name: str, version: int):
    """The network up to its penultimate layer, and a compiled one-image version (kept per model file)."""
    # Imported here: Keras takes seconds to load, and listing or deleting projects needs none of it.
    from core.nets import heads

    model = registry.load(model_name)
    if tuple(model.input_shape[1:]) != (SIDE, SIDE, 1):
        readers = ", ".join(n for n in NETWORKS if n in registry.available(dataset=None))
        raise ProjectError(f"'{model_name}' does not read {SIDE}x{SIDE} gray drawings; choose one of the "
                           f"drawing networks: {readers}.")
    return heads.embedding_model(model), heads.compiled_embedder(model)


def embed(model_name: str, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The penultimate features of (N, 28, 28) pictures in [0, 1]: one pass through the frozen network."""
    network, _ = _network(model_name, registry.version(model_name))
    x = np.asarray(images, np.float32).reshape(-1, SIDE, SIDE, 1)
    return np.concatenate([np.asarray(network(x[i: i + batch_size], training=False), np.float32)
                           for i in range(0, len(x), batch_size)])


def _read_cache(folder: Path, model_name: str, version: int) -> dict[str, np.ndarray]:
    """Cached features by example hash; empty when missing, damaged or made by another model file."""
    index, matrix = folder / f"{_file_key(model_name)}.json", folder / f"{_file_key(model_name)}.npy"
    try:
        meta = json.loads(index.read_text())
        rows = np.load(matrix, allow_pickle=False)
        if meta["model"] != model_name or meta["version"] != version or rows.ndim != 2 \
                or len(meta["hashes"]) != len(rows):
            return {}
        return dict(zip(meta["hashes"], rows))
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_cache(folder: Path, model_name: str, version: int, cache: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    index, matrix = folder / f"{_file_key(model_name)}.json", folder / f"{_file_key(model_name)}.npy"
    # The index and the matrix are checked against each other on reading, so a crash between the two
    # renames leaves a cache that is ignored, never one that pairs features with the wrong examples.
    with atomic_path(index) as tmp_index, atomic_path(matrix) as tmp_matrix:
        np.save(tmp_matrix, np.stack(list(cache.values())).astype(np.float32))
        tmp_index.write_text(json.dumps({"model": model_name, "version": version, "hashes": list(cache)}))


def features(project: Project, model_name: str = DEFAULT_MODEL) -> np.ndarray:
    """The (N, D) frozen features of the project's examples, in ``examples`` order.

    Each example's features are computed once and kept under the project's
    ``features/`` folder, keyed by the model's name, its file's version and the
    example file's content (SHA-256): a new example costs one network pass, and
    a new model file or a changed example is recomputed, never served stale.
    """
    folder = project_dir(project)
    files, _, _ = example_files(folder)
    version = registry.version(model_name)
    data = [p.read_bytes() for p in files]
    hashes = [hashlib.sha256(d).hexdigest() for d in data]
    cache = _read_cache(folder / "features", model_name, version)
    # hash -> first example with it, for the examples not in the cache (two identical drawings: one pass).
    missing = {h: i for i, h in reversed(list(enumerate(hashes))) if h not in cache}
    if missing:
        new = embed(model_name, np.stack([_decode_example(data[i], files[i]) for i in missing.values()]))
        cache.update(zip(missing, new))
    kept = {h: cache[h] for h in dict.fromkeys(hashes)}  # removed examples' features are dropped
    if kept and (missing or len(kept) != len(cache)):
        _write_cache(folder / "features", model_name, version, kept)
    if not hashes:
        return np.zeros((0, 0), np.float32)
    return np.stack([kept[h] for h in hashes]).astype(np.float32)


# --- The head: softmax regression on the features ---------------------------------------------------


@dataclass(eq=False)  # numpy arrays have no single truth value to compare by
class Head:
    """A trained softmax-regression head as plain numbers: each feature vector scaled to length 1 (``unit``), then
    shifted and scaled per feature (``mean``, ``scale``: 0 and 1 for a head trained now), one dense layer, softmax.

    A head saved before ``unit`` existed standardised the raw features instead (its file has no ``unit``): it
    is read as it was trained.
    """

    mean: np.ndarray  # (D,) subtracted from each feature
    scale: np.ndarray  # (D,) then divided by
    coef: np.ndarray  # (C, D) one weight per class and feature
    intercept: np.ndarray  # (C,)
    class_names: list[str]
    model_name: str
    model_version: int
    unit: bool = True  # features scaled to length 1 first

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities: (C,) for one feature vector, (N, C) for a batch."""
        f = np.asarray(features, np.float64)
        x = unit_rows(np.atleast_2d(f)) if self.unit else np.atleast_2d(f)
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)  # softmax without overflow
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return p[0] if f.ndim == 1 else p

    def to_json(self) -> dict:
        return {"model": self.model_name, "model_version": self.model_version, "classes": self.class_names,
                "unit": self.unit, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> Head:
        """A head from ``to_json``'s dict; refuses missing fields, wrong shapes and non-finite numbers."""
        head = cls(mean=np.asarray(d["mean"], np.float64), scale=np.asarray(d["scale"], np.float64),
                   coef=np.asarray(d["coef"], np.float64), intercept=np.asarray(d["intercept"], np.float64),
                   class_names=[str(c) for c in d["classes"]], model_name=str(d["model"]),
                   model_version=int(d["model_version"]), unit=d.get("unit", False) is True)
        n, dim = len(head.class_names), head.mean.shape[0] if head.mean.ndim == 1 else -1
        if head.mean.shape != (dim,) or head.scale.shape != (dim,) or head.coef.shape != (n, dim) \
                or head.intercept.shape != (n,) or not (head.scale > 0).all():
            raise ValueError("the head's arrays do not fit together")
        if not all(np.isfinite(a).all() for a in (head.mean, head.scale, head.coef, head.intercept)):
            raise ValueError("the head holds numbers that are not finite")
        return head


def _check_labels(y: np.ndarray, n_classes: int, least: int, classes: list[str] | None, why: str) -> np.ndarray:
    """The examples per class; refuses any class with fewer than ``least``, naming them."""
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    per_class = np.bincount(y, minlength=n_classes)
    names = classes or [str(i) for i in range(n_classes)]
    short = [f"{names[i]} ({per_class[i]})" for i in range(n_classes) if per_class[i] < least]
    if short:
        raise ProjectError(f"Draw at least {least} example{'s' if least > 1 else ''} of each class {why}; "
                           f"too few in: {', '.join(short)}.")
    return per_class


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (an all-zero row stays zero): a drawing's features by their direction."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def train_head(X: np.ndarray, y: np.ndarray, n_classes: int, class_names: list[str] | None = None,
               model_name: str = DEFAULT_MODEL, model_version: int = 0, C: float = HEAD_C) -> Head:
    """Fit a softmax-regression head (features scaled to length 1, L2 strength ``1/C``) to features ``X``, labels
    ``y``."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.int64)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"expected features (N, D) and N labels; got {X.shape} and {y.shape}")
    if n_classes < MIN_CLASSES:
        raise ProjectError(f"A head needs at least {MIN_CLASSES} classes.")
    _check_labels(y, n_classes, 1, class_names, "to train the head")
    # One BLAS thread: a problem this small (tens of examples) only loses time to threads, and on a busy
    # CPU a lot (181 ms with two threads against 9 ms with one, beside a training run; bench_own_classes.py).
    with threadpool_limits(limits=1):
        # lbfgs fits one multinomial (softmax) model over all classes at once.
        fit = LogisticRegression(C=C, max_iter=2000).fit(unit_rows(X), y)
    coef, intercept = fit.coef_, fit.intercept_
    if n_classes == 2:
        # Two classes give one logistic output z; the softmax of (-z/2, z/2) is exactly (1 - sigmoid z, sigmoid z).
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    return Head(mean=np.zeros(X.shape[1]), scale=np.ones(X.shape[1]), coef=np.array(coef),
                intercept=np.array(intercept), class_names=list(class_names or map(str, range(n_classes))),
                model_name=model_name, model_version=int(model_version))


def _head_path(folder: Path, model_name: str) -> Path:
    return folder / f"head-{_file_key(model_name)}.json"


def save_head(project: Project, head: Head) -> Path:
    """Write the head as JSON next to the project's examples (floats as written by Python: exact)."""
    path = _head_path(project_dir(project), head.model_name)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(head.to_json()))
    return path


def load_head(project: Project, model: str = DEFAULT_MODEL) -> Head | None:
    """The project's head for ``model``, or None when none has been trained."""
    path = _head_path(project_dir(project), model)
    if not path.is_file():
        return None
    try:
        return Head.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ProjectError(f"The saved head {path.name} cannot be read ({e}); train the head again.") from None


def train(project: Project, model_name: str = DEFAULT_MODEL, C: float = HEAD_C) -> Head:
    """Features (cached), a new head on them, saved: what the page's 'Train' button does."""
    X = features(project, model_name)
    _, y, names = example_files(project)
    head = train_head(X, y, len(names), names, model_name, registry.version(model_name), C)
    save_head(project, head)
    return head


def predict(head: Head, model: str, image28: np.ndarray) -> np.ndarray:
    """The head's class probabilities for one 28x28 drawing, through the network ``model`` (for the live canvas)."""
    if model != head.model_name:
        raise ProjectError(f"This head was trained on the {head.model_name} network's features, not {model}'s.")
    version = registry.version(model)
    if version != head.model_version:
        raise ProjectError(f"The {model} network's file changed since this head was trained; train it again.")
    _, one_image = _network(model, version)
    return head.predict_proba(one_image(np.asarray(image28, np.float32)))


# --- Honest scores and a map of the features ---------------------------------------------------------


def held_out(X: np.ndarray, y: np.ndarray, classes: list[str], C: float = HEAD_C) -> dict:
    """Scores of heads on examples they never saw: stratified k-fold, k = min(5, fewest examples in a class).

    Returns ``accuracy``, ``per_class_accuracy`` (recall, in class order), the
    ``confusion_matrix`` (rows: true class, columns: predicted), each example's
    held-out ``predictions`` and ``probabilities``, ``folds`` and core.base.metrics'
    full ``scores``.
    """
    X, y = np.asarray(X, np.float64), np.asarray(y, np.int64)
    per_class = _check_labels(y, len(classes), 2, list(classes),
                              "to measure the head on drawings it has not seen")
    k = int(min(5, per_class.min()))
    probs = np.zeros((len(y), len(classes)))
    for fit_idx, test_idx in StratifiedKFold(k, shuffle=True, random_state=0).split(X, y):
        probs[test_idx] = train_head(X[fit_idx], y[fit_idx], len(classes), list(classes), C=C).predict_proba(
            X[test_idx])
    scores = evaluate(y, probs)
    return {"accuracy": scores["test_accuracy"], "per_class_accuracy": scores["per_class_recall"],
            "confusion_matrix": scores["confusion_matrix"], "predictions": probs.argmax(axis=1),
            "probabilities": probs, "folds": k, "classes": list(classes), "scores": scores}


def feature_map(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The features projected on their two principal components: (N, 2), one point per example.

    The features are not standardised here: on the test shapes the classes
    stood further apart (silhouette 0.70 against 0.66 for the ResNet) when the
    network's strong features set the axes. Each axis is turned so that the
    first class lies on its negative side, so the map does not flip over when
    one example is added.
    """
    X, y = np.asarray(X, np.float64), np.asarray(y)
    out = np.zeros((len(X), 2))
    n = min(2, *X.shape) if X.ndim == 2 and len(X) >= 2 else 0
    if n:
        out[:, :n] = PCA(n, random_state=0).fit_transform(X)
        first = y == y.min()
        out[:, out[first].mean(axis=0) > 0] *= -1
    return out


# --- Zips: export a project, import examples ---------------------------------------------------------


def export_project(name: Project) -> bytes:
    """A zip of the examples as class folders of PNGs (the layout core.data.zipdata reads), with the project's JSON.

    ``project.json`` and the heads go in a hidden ``.vision-playground/`` folder,
    which zipdata skips as system files, so the zip is a valid image data set.
    """
    folder = project_dir(name)
    files, labels, names = example_files(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, label in zip(files, labels):
            # Zero-padded, so that a zip sorted by name (as zipdata reads it) keeps the examples' order.
            archive.writestr(f"{names[label]}/{int(path.stem):05d}.png", path.read_bytes())
        archive.writestr(f"{META_FOLDER}/{PROJECT_FILE}", (folder / PROJECT_FILE).read_text())
        for head in sorted(folder.glob("head-*.json")):
            archive.writestr(f"{META_FOLDER}/{head.name}", head.read_text())
    return buf.getvalue()


def _zip_class_order(zip_bytes: bytes, found: list[str]) -> list[str]:
    """The class order of an exported project's zip, when its project.json lists exactly these classes."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            info = archive.getinfo(f"{META_FOLDER}/{PROJECT_FILE}")
            if info.file_size > 64 * 1024:
                return found
            order = check_classes(json.loads(zipdata.read_member(archive, info))["classes"])
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile):
        return found
    return order if sorted(order) == sorted(found) else found


def _as_example(gray: np.ndarray) -> np.ndarray:
    """An uploaded picture as a 28x28 example: one already in that form (white on black) is kept as it is.

    to_mnist crops a picture to its ink and scales it again, so running it on
    its own output would move and grow the strokes a little with every export
    and import.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if gray.shape == (SIDE, SIDE) and float(np.median(border)) < 0.5:
        return gray
    return preprocess.to_mnist(gray, keep_steps=False).image


def _check_drawn(found: list[str], labels: list[int], added: list[Path]) -> None:
    """Refuse a zip in which a class has fewer than ``MIN_IMPORT_PER_CLASS`` pictures with a drawing (blank ones
    are left out), saying so, rather than import a class of nothing."""
    brought = {found[label]: labels.count(label) for label in set(labels)}
    drawn = {cls: sum(p.parent.name.casefold() == cls.casefold() for p in added) for cls in brought}
    short = [f"{cls} ({drawn[cls]} of {brought[cls]} had a drawing)" for cls in brought
             if drawn[cls] < MIN_IMPORT_PER_CLASS]
    if short:
        raise ProjectError(f"Each class needs at least {MIN_IMPORT_PER_CLASS} pictures with a drawing in them, and "
                           f"blank pictures are left out: too few in {', '.join(short)}.")


def import_examples(name: str, zip_bytes: bytes) -> dict:
    """Add the images of a zip of class folders to project ``name`` (created when missing, with their classes).

    The zip is checked and unpacked by core.data.zipdata into a temporary folder;
    each image then goes through the app's preprocessing (decode_image, to_mnist).
    Returns how many examples each class gained and the images skipped as empty (blank).
    Each class in the zip must bring at least ``MIN_IMPORT_PER_CLASS`` pictures with a drawing in them.
    Nothing is added when anything fails.
    """
    limits = zipdata.ZipLimits(min_classes=1, max_classes=MAX_CLASSES, min_images_per_class=MIN_IMPORT_PER_CLASS,
                               max_files=MAX_IMPORT_FILES)
    try:
        existing = project_dir(name)
    except ProjectError:
        existing = None
    with tempfile.TemporaryDirectory(prefix="vp_own_import_") as tmp:
        try:
            zipdata.extract_class_folders(zip_bytes, Path(tmp) / "classes", limits)
        except zipdata.ZipDataError as e:
            raise ProjectError(str(e)) from None
        files, labels, found = zipdata.load_class_folders(Path(tmp) / "classes")
        if existing is None:
            folder = create_project(name, _zip_class_order(zip_bytes, found))
        else:
            folder = existing
            known = {c.casefold() for c in class_names(folder)}
            unknown = [c for c in found if c.casefold() not in known]
            if unknown:
                raise ProjectError(f"The zip has classes the project '{folder.name}' does not: "
                                   f"{', '.join(unknown)}. Its classes are {', '.join(class_names(folder))}.")
        added: list[Path] = []
        skipped: list[str] = []
        try:
            for path, label in zip(files, labels):
                image = _as_example(preprocess.read_image_file(path))
                if not image.any():
                    skipped.append(f"{found[label]}/{path.name}")
                    continue
                added.append(add_example(folder, found[label], image))
            _check_drawn(found, labels, added)
        except BaseException:
            if existing is None:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                for path in added:
                    remove_example(path)
            raise
    gained = {c: 0 for c in class_names(folder)}
    for path in added:
        gained[path.parent.name] += 1
    return {"project": folder.name, "added": gained, "skipped_empty": skipped}


# --- The command line: a project from a folder of class folders -----------------------------------------


def _zip_folder(folder: Path) -> bytes:
    """A folder of class folders as zip bytes (stored, not compressed), so it is checked as an upload is.

    Stops adding after ``MAX_IMPORT_FILES`` + 1 files or zipdata's total size, so a huge folder is refused by
    the same checks instead of read whole."""
    limit = zipdata.DEFAULT_LIMITS.max_total_bytes
    buffer, total = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n, path in enumerate(p for p in sorted(folder.rglob("*")) if p.is_file()):
            total += path.stat().st_size
            if n > MAX_IMPORT_FILES or total > limit:
                raise ProjectError(f"{folder} holds more than {MAX_IMPORT_FILES:,} files or "
                                   f"{limit // zipdata.MB} MB of pictures; a project takes fewer.")
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def teach(source: str | Path, name: str, model_name: str = DEFAULT_MODEL) -> dict:
    """Create or replace project ``name`` from ``source`` (a folder of class folders, or a zip of them), train its
    head on ``model_name``'s features, and score it on examples each fold's head never saw.

    The pictures are checked and read as the page's zip import reads them. The new project is made beside the
    old one and takes its place only once trained, so a failed import leaves the old project as it was.
    Returns ``name``, ``classes``, ``examples`` (per class) and ``held_out_accuracy``.
    """
    source = Path(source)
    if not source.exists():
        raise ProjectError(f"{source} does not exist: give a folder with one folder of pictures per class, or a zip.")
    final = clean_name(name)
    if not final:
        raise ProjectError("Give the project a name with at least one letter or digit.")
    data = _zip_folder(source) if source.is_dir() else source.read_bytes()
    staging = f"{final} importing {hashlib.sha256(data).hexdigest()[:8]}"
    if (projects_dir() / staging).exists():
        delete_project(staging)  # a previous import of the same pictures that stopped half-way
    import_examples(staging, data)
    try:
        X = features(staging, model_name)
        _, y, classes = example_files(staging)
        score = held_out(X, y, classes)["accuracy"]
        train(staging, model_name)
        info = project_info(staging) | {"name": final}
        with atomic_path(projects_dir() / staging / PROJECT_FILE) as tmp:
            tmp.write_text(json.dumps(info, indent=1))
        old = projects_dir() / final
        trash = projects_dir() / f".{final}-replaced-{hashlib.sha256(data).hexdigest()[:8]}"
        if old.exists():
            old.rename(trash)
        (projects_dir() / staging).rename(old)
        shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(projects_dir() / staging, ignore_errors=True)
        raise
    return {"name": final, "classes": classes, "examples": counts(final), "model": model_name,
            "held_out_accuracy": round(float(score), 4)}


def heads_of(project: Project) -> list[Head]:
    """The project's trained heads, the most recently trained first."""
    files = sorted(project_dir(project).glob("head-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return [h for p in files if (h := load_head(project, json.loads(p.read_text()).get("model", ""))) is not None]
