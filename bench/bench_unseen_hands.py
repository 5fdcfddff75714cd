"""Your own classes on hands never seen: 5 letters taught with 10 drawings each, read on other writers' letters.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_unseen_hands [--tasks 40] [--features resnet convnet ...]

The UNIPEN development letters (2,080 lowercase letters by 104 writers) are drawn as the canvas draws them and
go through the app's preprocessing. The writers are split in two, once: a task takes 5 random letters, teaches
a head with 10 drawings of each by writers of the first half, and reads every drawing of those letters by the
second half. Each feature set is scored on the same tasks, beside a nearest neighbour on the raw 28x28 pixels.
A feature set is one network's penultimate features (``own_classes.embed``) or several joined with "+".
``letters`` names a ConvNet trained here (``--letter-epochs``, about 2 minutes) on 30,000 MNIST digits and the
first half's letters, drawn six ways each: features that know letters, for the idea of issue 17.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time

import numpy as np

from core import own_classes
from core.data import datasets, unipen
from core.images import augment, preprocess, strokes


def drawings(records: list[dict], seed: int = 0) -> np.ndarray:
    """Each record drawn on the canvas (random pen width, size and place) and preprocessed: (N, 28, 28)."""
    rng = np.random.default_rng(seed)
    out = []
    for rec in records:
        width = int(rng.integers(12, 30))
        box = rng.uniform(120, 240)
        room = (strokes.CANVAS_SIDE - box - width) / 2 - 4
        offset = tuple(rng.uniform(-room, room, size=2))
        gray = strokes.render(strokes.canvas_paths(rec, box=box, offset=offset), width=width) / 255.0
        out.append(preprocess.from_canvas(gray.astype(np.float32)).image)
    return np.stack(out)


def distorted(images: np.ndarray, copies: int, seed: int = 0) -> np.ndarray:
    """``copies`` distorted versions of each image (rotation, shear, zoom, shift, stroke width): (N, copies, 28, 28)."""
    x = np.repeat(images[:, None], copies, axis=1).reshape(-1, *images.shape[1:], 1).astype(np.float32)
    out = augment.random_thickness(augment.make_augmenter(seed)(x, training=True))
    return np.asarray(out).reshape(len(images), copies, *images.shape[1:])


def letter_net(records: list[dict], teach: np.ndarray, epochs: int):
    """A ConvNet trained on MNIST digits plus the teaching writers' letters (36 classes): its embedding function."""
    import keras

    from core.nets import digits, heads
    from core.training import train

    letters = sorted({r["label"] for r in records})
    taught = [r for r, k in zip(records, teach) if k]
    x_letters = np.concatenate([drawings(taught, seed=s) for s in range(1, 7)])
    y_letters = np.tile([10 + letters.index(r["label"]) for r in taught], 6)
    (x_digits, y_digits), _ = datasets.load_mnist(download=False)
    x = np.concatenate([x_digits[:30000], np.round(x_letters * 255).astype(np.uint8)])
    y = np.concatenate([y_digits[:30000], y_letters]).astype("int32")
    keras.utils.set_random_seed(0)
    model = digits.build_convnet(num_classes=10 + len(letters))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(train.pipeline(x, y, 128, 0, distort=True, photos=False), epochs=epochs, verbose=0)
    train.settle_batch_norm(model, train.to_float(x[np.random.default_rng(0).permutation(len(x))[:4096]]))
    embed = heads.embedding_model(model)
    return lambda images: np.concatenate([np.asarray(embed(images[i: i + 256, ..., None], training=False), np.float32)
                                          for i in range(0, len(images), 256)])


def tasks(labels: np.ndarray, teach: np.ndarray, n_tasks: int, n_classes: int, per_class: int, seed: int):
    """(classes, taught indices, tested indices) for each task; taught from ``teach`` writers, tested on the rest."""
    rng = np.random.default_rng(seed)
    letters = np.unique(labels)
    for _ in range(n_tasks):
        classes = rng.choice(letters, n_classes, replace=False)
        taught = np.concatenate([rng.choice(np.flatnonzero((labels == c) & teach), per_class, replace=False)
                                 for c in classes])
        tested = np.flatnonzero(np.isin(labels, classes) & ~teach)
        yield classes, taught, tested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--features", nargs="+", default=["resnet", "convnet", "dnn", "net002", "convnet+resnet"])
    parser.add_argument("--copies", type=int, default=0, help="also teach with this many distorted copies of each "
                                                            "taught drawing beside it")
    parser.add_argument("--C", type=float, nargs="+", default=[own_classes.HEAD_C], help="head strengths to try")
    parser.add_argument("--letter-epochs", type=int, default=5, help="epochs of the 'letters' feature net")
    args = parser.parse_args()
    records = unipen.load_unipen(file=unipen.LETTERS)
    labels = np.array([r["label"] for r in records])
    writers = sorted({r["writer"] for r in records})
    half = set(np.random.default_rng(0).permutation(writers)[: len(writers) // 2])
    teach = np.array([r["writer"] in half for r in records])
    images = drawings(records)
    print(f"# {platform.machine()}, {os.cpu_count()} cores; {len(records)} letters by {len(writers)} writers; "
          f"{args.tasks} tasks of {args.classes} letters x {args.per_class} drawings", flush=True)
    nets = sorted({n for f in args.features for n in f.split("+")})
    embedders = {net: (letter_net(records, teach, args.letter_epochs) if net == "letters"
                       else functools.partial(own_classes.embed, net)) for net in nets}
    embedded = {}
    for net in nets:
        start = time.perf_counter()
        embedded[net] = embedders[net](images)
        print(f"features of {net}: {embedded[net].shape[1]} numbers, {time.perf_counter() - start:.1f} s",
              flush=True)
    copies = {}
    if args.copies:
        extra = distorted(images, args.copies).reshape(-1, *images.shape[1:])
        copies = {net: embedders[net](extra).reshape(len(images), args.copies, -1) for net in nets}
    pixels = images.reshape(len(images), -1)
    variants = [(name, c, k) for name in args.features for c in args.C for k in sorted({0, args.copies})]
    scores: dict[str, list[float]] = {f"{n}, C={c:g}" + (f", {k} copies" if k else ""): [] for n, c, k in variants}
    scores["pixels, nearest neighbour"] = []
    for classes, taught, tested in tasks(labels, teach, args.tasks, args.classes, args.per_class, seed=1):
        y_taught = np.searchsorted(np.sort(classes), labels[taught])
        y_tested = np.searchsorted(np.sort(classes), labels[tested])
        for name, C, k in variants:
            X = np.concatenate([embedded[n] for n in name.split("+")], axis=1)
            X_taught, y_fit = X[taught], y_taught
            if k:
                more = np.concatenate([copies[n][taught] for n in name.split("+")], axis=2).reshape(-1, X.shape[1])
                X_taught, y_fit = np.concatenate([X_taught, more]), np.concatenate([y_taught, np.repeat(y_taught, k)])
            head = own_classes.train_head(X_taught, y_fit, len(classes), C=C)
            key = f"{name}, C={C:g}" + (f", {k} copies" if k else "")
            scores[key].append(float((head.predict_proba(X[tested]).argmax(1) == y_tested).mean()))
        d = ((pixels[tested, None, :] - pixels[None, taught, :]) ** 2).sum(-1)
        scores["pixels, nearest neighbour"].append(float((y_taught[d.argmin(1)] == y_tested).mean()))
    print(f"\n{'features':<40} mean    worst task")
    for name, values in scores.items():
        print(f"{name:<40} {np.mean(values):.1%}   {np.min(values):.1%}")


if __name__ == "__main__":
    main()
