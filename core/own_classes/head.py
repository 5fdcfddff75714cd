"""The head: a softmax regression on the frozen features, saved as plain numbers (JSON, no pickle)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from core.base.files import atomic_path
from core.nets import registry
from core.own_classes.feature_cache import features, file_key, model_key, network
from core.own_classes.projects import (
    DEFAULT_MODEL,
    MIN_CLASSES,
    Project,
    ProjectError,
    example_files,
    project_dir,
)

# L2 strength of the head, on features scaled to length 1 (``unit_rows``). Measured on letters by writers who
# did not teach them (bench/bench_unseen_hands.py, 100 tasks of 5 letters x 10 drawings): the handwriting
# network's features read 94.3% this way against 91.6% standardised per feature as before (C=0.1), the
# ResNet's 89.1% against 88.7%, the ConvNet's 86.9% against 85.1%; C from 3 to 30 moves it by 0.2 point
# (with the fonts' letters learnt too, 2026-12-03: 95.0% at C=10, 94.9% at C=30, over 4 x 100 tasks).
# On 50 examples, standardising gives each mostly-silent ReLU feature as much say as the busy ones.
HEAD_C = 10.0


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
    model_version: str  # the network file's content digest (feature_cache.model_key); an int: its mtime, before
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
                   model_version=_version(d["model_version"]), unit=d.get("unit", False) is True)
        n, dim = len(head.class_names), head.mean.shape[0] if head.mean.ndim == 1 else -1
        if head.mean.shape != (dim,) or head.scale.shape != (dim,) or head.coef.shape != (n, dim) \
                or head.intercept.shape != (n,) or not (head.scale > 0).all():
            raise ValueError("the head's arrays do not fit together")
        if not all(np.isfinite(a).all() for a in (head.mean, head.scale, head.coef, head.intercept)):
            raise ValueError("the head holds numbers that are not finite")
        return head


def _version(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"the head's model version {value!r} is neither a digest nor a time")
    return str(value)


def check_labels(y: np.ndarray, n_classes: int, least: int, classes: list[str] | None, why: str) -> np.ndarray:
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
               model_name: str = DEFAULT_MODEL, model_version: str = "", C: float = HEAD_C) -> Head:
    """Fit a softmax-regression head (features scaled to length 1, L2 strength ``1/C``) to features ``X``, labels
    ``y``."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.int64)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"expected features (N, D) and N labels; got {X.shape} and {y.shape}")
    if n_classes < MIN_CLASSES:
        raise ProjectError(f"A head needs at least {MIN_CLASSES} classes.")
    check_labels(y, n_classes, 1, class_names, "to train the head")
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
                model_name=model_name, model_version=str(model_version))


def _head_path(folder: Path, model_name: str) -> Path:
    return folder / f"head-{file_key(model_name)}.json"


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
        raise ProjectError(f"The saved head {path.name} of the project '{path.parent.name}' cannot be read ({e}); "
                           f"train the head again.") from None


def train(project: Project, model_name: str = DEFAULT_MODEL, C: float = HEAD_C) -> Head:
    """Features (cached), a new head on them, saved: what the page's 'Train' button does."""
    X = features(project, model_name)
    _, y, names = example_files(project)
    head = train_head(X, y, len(names), names, model_name, model_key(model_name), C)
    save_head(project, head)
    return head


def predict(head: Head, model: str, image28: np.ndarray) -> np.ndarray:
    """The head's class probabilities for one 28x28 drawing, through the network ``model`` (for the live canvas)."""
    if model != head.model_name:
        raise ProjectError(f"This head was trained on the {head.model_name} network's features, not {model}'s.")
    version = model_key(model)
    # A head saved before heads were keyed by content names its file's mtime: still valid if that is unchanged.
    if head.model_version not in (version, str(registry.version(model))):
        raise ProjectError(f"The {model} network's file changed since this head was trained; train it again.")
    _, one_image = network(model, version)
    return head.predict_proba(one_image(np.asarray(image28, np.float32)))


def heads_of(project: Project) -> list[Head]:
    """The project's trained heads, the most recently trained first; a damaged one is named, with what to do."""
    folder = project_dir(project)
    heads = []
    for path in sorted(folder.glob("head-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        try:
            heads.append(Head.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ProjectError(f"The project '{folder.name}' has a damaged head, {path.name} ({e}); train it again, "
                               f"or delete the project.") from None
    return heads
