"""Your own classes on hands never seen: 5 letters taught with 10 drawings each, read on other writers' letters.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_unseen_hands [--tasks 100] [--draws 4] [--features A B+C]

The UNIPEN development letters (2,080 lowercase letters by 104 writers) are drawn as the canvas draws them and go
through the app's preprocessing. Their writers are cut once into three groups (``unipen.writer_groups``): the
handwriting network learnt from the "train" writers' letters; a task takes 5 random letters, teaches a head
(``own_classes.train_head``, as the page does) with 10 drawings of each by "teach" writers, and reads every
drawing of those letters by the "read" writers, whom neither the network nor the head has seen. Each feature set
is scored on the same tasks, beside a nearest neighbour on the raw 28x28 pixels. A feature set is one network's
penultimate features (``own_classes.embed``) or several joined with "+". The same tasks are then set on shapes
that no file in the project holds (``core.data.shape_strokes``: stars, hearts, arrows... in generated hands).
One draw of 100 tasks moves a mean by about half a point (some drawings are unreadable and a task that holds
their letter loses them all): ``--draws`` sets more, each its own random tasks, and shows each draw's mean.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from core import own_classes
from core.data import shape_strokes, unipen
from core.images import augment

TASKS, CLASSES, PER_CLASS = 100, 5, 10


def letters() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The development letters drawn on the canvas once (N, 28, 28), their labels and their writers' groups."""
    records = unipen.load_unipen(file=unipen.LETTERS)
    return unipen.drawings(records), np.array([r["label"] for r in records]), unipen.writer_groups(records)


def shapes(teach_per_class: int = 30, read_per_class: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapes no file holds (``shape_strokes``), in the letters' form: a pool to teach from and one to read, each
    drawn in its own hands (another seed)."""
    taught, y_taught = shape_strokes.drawn(teach_per_class, seed=1)
    read, y_read = shape_strokes.drawn(read_per_class, seed=2)
    groups = np.array(["teach"] * len(taught) + ["read"] * len(read))
    return np.concatenate([taught, read]), np.concatenate([y_taught, y_read]), groups


def tasks(labels: np.ndarray, groups: np.ndarray, n_tasks: int = TASKS, n_classes: int = CLASSES,
          per_class: int = PER_CLASS, seed: int = 1):
    """(classes, taught indices, read indices) for each task: taught by "teach" writers, read on "read" writers'."""
    rng = np.random.default_rng(seed)
    teach = groups == "teach"
    choices = [c for c in np.unique(labels) if ((labels == c) & teach).sum() >= per_class]
    for _ in range(n_tasks):
        classes = np.sort(rng.choice(choices, n_classes, replace=False))
        taught = np.concatenate([rng.choice(np.flatnonzero((labels == c) & teach), per_class, replace=False)
                                 for c in classes])
        yield classes, taught, np.flatnonzero(np.isin(labels, classes) & (groups == "read"))


def head_scores(X: np.ndarray, labels: np.ndarray, groups: np.ndarray, C: float = own_classes.HEAD_C,
                copies: np.ndarray | None = None, **task_args) -> list[float]:
    """Each task's accuracy on the read writers of a head taught on features ``X`` (and ``copies`` of each taught
    drawing's features, (N, k, D), beside it)."""
    scores = []
    for classes, taught, read in tasks(labels, groups, **task_args):
        y_taught = np.searchsorted(classes, labels[taught])
        X_taught, y_fit = X[taught], y_taught
        if copies is not None:
            X_taught = np.concatenate([X_taught, copies[taught].reshape(-1, X.shape[1])])
            y_fit = np.concatenate([y_taught, np.repeat(y_taught, copies.shape[1])])
        head = own_classes.train_head(X_taught, y_fit, len(classes), C=C)
        scores.append(float((head.predict_proba(X[read]).argmax(1) == np.searchsorted(classes, labels[read])).mean()))
    return scores


def pixel_scores(images: np.ndarray, labels: np.ndarray, groups: np.ndarray, **task_args) -> list[float]:
    """The baseline: each read drawing takes the class of the nearest taught drawing, pixel by pixel."""
    pixels = images.reshape(len(images), -1)
    scores = []
    for _, taught, read in tasks(labels, groups, **task_args):
        d = ((pixels[read, None, :] - pixels[None, taught, :]) ** 2).sum(-1)
        scores.append(float((labels[taught][d.argmin(1)] == labels[read]).mean()))
    return scores


def distorted(images: np.ndarray, copies: int, seed: int = 0) -> np.ndarray:
    """``copies`` distorted versions of each image (rotation, shear, zoom, shift, stroke width): (N, copies, 28, 28)."""
    x = np.repeat(images[:, None], copies, axis=1).reshape(-1, *images.shape[1:], 1).astype(np.float32)
    out = augment.random_thickness(augment.make_augmenter(seed)(x, training=True))
    return np.asarray(out).reshape(len(images), copies, *images.shape[1:])


def summary(scores: list[float] | list[list[float]]) -> str:
    """The mean and worst task of a draw's task scores, or over several draws' then each draw's mean."""
    draws = [scores] if np.ndim(scores) == 1 else scores
    every = np.concatenate(draws)
    each = "  (" + " / ".join(f"{np.mean(d):.1%}" for d in draws) + ")" if len(draws) > 1 else ""
    return f"{np.mean(every):6.1%}  {np.min(every):6.1%}{each}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=TASKS)
    parser.add_argument("--draws", type=int, default=1, help="draws of --tasks tasks each (seeds 1, 2, ...)")
    parser.add_argument("--features", nargs="+",
                        default=["handwriting", "resnet", "convnet", "dnn", "net002", "handwriting+resnet"])
    parser.add_argument("--copies", type=int, default=0, help="also teach with this many distorted copies of each "
                                                            "taught drawing beside it")
    parser.add_argument("--C", type=float, nargs="+", default=[own_classes.HEAD_C], help="head strengths to try")
    args = parser.parse_args()
    draws = range(1, args.draws + 1)
    images, labels, groups = letters()
    print(f"# {platform.machine()}, {os.cpu_count()} cores; {len(labels)} letters, taught by "
          f"{(groups == 'teach').sum()} of the teach writers' letters, read on {(groups == 'read').sum()} by other "
          f"writers; {args.draws} x {args.tasks} tasks of {CLASSES} letters x {PER_CLASS} drawings", flush=True)
    nets = sorted({n for f in args.features for n in f.split("+")})
    embedded, copies = {}, {}
    for net in nets:
        start = time.perf_counter()
        embedded[net] = own_classes.embed(net, images)
        print(f"features of {net}: {embedded[net].shape[1]} numbers, {time.perf_counter() - start:.1f} s", flush=True)
    if args.copies:
        extra = distorted(images, args.copies).reshape(-1, *images.shape[1:])
        copies = {net: own_classes.embed(net, extra).reshape(len(images), args.copies, -1) for net in nets}
    print(f"\n{'features':<40}   mean   worst task")
    for name in args.features:
        X = np.concatenate([embedded[n] for n in name.split("+")], axis=1)
        more = np.concatenate([copies[n] for n in name.split("+")], axis=2) if copies else None
        for C in args.C:
            for k in sorted({0, args.copies}):
                scores = [head_scores(X, labels, groups, C, more if k else None, n_tasks=args.tasks, seed=seed)
                          for seed in draws]
                print(f"{name + f', C={C:g}' + (f', {k} copies' if k else ''):<40} {summary(scores)}", flush=True)
    pixels = [pixel_scores(images, labels, groups, n_tasks=args.tasks, seed=seed) for seed in draws]
    print(f"{'pixels, nearest neighbour':<40} {summary(pixels)}")

    images, labels, groups = shapes()
    print(f"\nshapes no file holds ({len(shape_strokes.CLASSES)}, shape_strokes): taught by one set of hands, read "
          f"on {(groups == 'read').sum()} drawings by others; {args.tasks} tasks of {CLASSES} shapes x {PER_CLASS} "
          "drawings")
    print(f"{'features':<40}   mean   worst task")
    embedded = {net: own_classes.embed(net, images) for net in nets}
    for name in args.features:
        X = np.concatenate([embedded[n] for n in name.split("+")], axis=1)
        scores = [head_scores(X, labels, groups, n_tasks=args.tasks, seed=seed) for seed in draws]
        print(f"{name:<40} {summary(scores)}", flush=True)
    pixels = [pixel_scores(images, labels, groups, n_tasks=args.tasks, seed=seed) for seed in draws]
    print(f"{'pixels, nearest neighbour':<40} {summary(pixels)}")


if __name__ == "__main__":
    main()
