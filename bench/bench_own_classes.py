"""Own classes: how long a student waits, from 10 drawings of each of 3 shapes to a live prediction.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_own_classes [--model handwriting] [--per-class 10]
       [--repeats 50] [--tasks 100]

Prints the time to compute the examples' features cold (the model's first load
shown apart), to read them back from the cache, to train the head on cached
features, to score it held out (k-fold), to draw the PCA map, and the latency
of one live prediction. Runs with the app's thread settings (one intra-op
thread) in a temporary VP_HOME, so nothing is left behind.

Then what the head reads on people who did not teach it: tasks of 5 UNIPEN letters taught with 10 drawings
each by some writers, read on every drawing of them by other writers (``bench.bench_unseen_hands``), beside a
nearest neighbour on the pixels, and the time to teach one task's 50 drawings from cached features.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="vp_bench_own_")

from core.base import device, paths  # noqa: E402

device.configure_threads(intra_op=1, inter_op=1)

import numpy as np  # noqa: E402

from bench import bench_unseen_hands  # noqa: E402
from bench.harness.shapes import SHAPES, draw, drawn_shapes  # noqa: E402
from core import own_classes  # noqa: E402
from core.images import preprocess  # noqa: E402
from core.nets import registry  # noqa: E402


def timed(fn, repeats: int = 1) -> tuple[float, object]:
    """Median seconds of ``repeats`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def forget_features() -> None:
    """Features are cached by the examples' content, shared by projects: a cold measure starts without them."""
    shutil.rmtree(paths.cache_dir() / "own-features", ignore_errors=True)


def new_project(name: str, images: np.ndarray, labels: np.ndarray) -> Path:
    folder = own_classes.create_project(name, list(SHAPES))
    for image, label in zip(images, labels):
        own_classes.add_example(folder, SHAPES[label], image)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=own_classes.DEFAULT_MODEL)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=bench_unseen_hands.TASKS, help="letter tasks (0: skip)")
    args = parser.parse_args()
    images, labels = drawn_shapes(args.per_class, seed=0)
    n = len(images)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {args.model}, {n} examples ({args.per_class} per class x {len(SHAPES)})")

    first = new_project("first", images, labels)
    t_load, _ = timed(lambda: registry.load(args.model))
    t_first, _ = timed(lambda: own_classes.features(first, args.model))  # loads the model, builds the embedder
    forget_features()
    t_end, _ = timed(lambda: own_classes.train(new_project("end_to_end", images, labels), args.model))
    forget_features()
    cold = new_project("cold", images, labels)
    t_cold, X = timed(lambda: own_classes.features(cold, args.model))
    t_cached, _ = timed(lambda: own_classes.features(cold, args.model), args.repeats)
    own_classes.add_example(cold, SHAPES[0], preprocess.from_canvas(draw(SHAPES[0], np.random.default_rng(1))).image)
    t_one, _ = timed(lambda: own_classes.features(cold, args.model))
    X_one = own_classes.features(cold, args.model)
    _, y_one, _ = own_classes.examples(cold)
    t_train, head = timed(lambda: own_classes.train_head(X_one, y_one, len(SHAPES), list(SHAPES)), args.repeats)
    t_held, scores = timed(lambda: own_classes.held_out(X_one, y_one, list(SHAPES)), max(args.repeats // 5, 3))
    t_map, _ = timed(lambda: own_classes.feature_map(X_one, y_one), args.repeats)

    head = own_classes.train(cold, args.model)
    rng = np.random.default_rng(2)
    drawings = [preprocess.from_canvas(draw(SHAPES[i % 3], rng)).image for i in range(20)]
    own_classes.predict(head, args.model, drawings[0])  # the first call traces the compiled embedder
    latencies = []
    for i in range(max(args.repeats * 4, 100)):
        start = time.perf_counter()
        own_classes.predict(head, args.model, drawings[i % len(drawings)])
        latencies.append(time.perf_counter() - start)
    latencies.sort()

    ms = 1000.0
    print(f"model file load (registry.load)                   {t_load * ms:8.1f} ms")
    print(f"{n} examples' features, first in the process      {t_first * ms:8.1f} ms  (loads the model too)")
    print(f"{n} examples -> head trained and saved, cold      {t_end * ms:8.1f} ms  (model loaded; features "
          f"computed, head fitted)")
    print(f"{n} examples' features, cold (model loaded)       {t_cold * ms:8.1f} ms")
    print(f"{n} examples' features, from the cache            {t_cached * ms:8.1f} ms")
    print(f"one example added: features again                 {t_one * ms:8.1f} ms  (one network pass)")
    print(f"train the head on cached features ({n + 1})         {t_train * ms:8.1f} ms")
    print(f"held_out ({scores['folds']}-fold)                                {t_held * ms:8.1f} ms  "
          f"(accuracy {scores['accuracy']:.3f})")
    print(f"feature_map (PCA)                                 {t_map * ms:8.1f} ms")
    print(f"predict, one drawing: median / p95                {latencies[len(latencies) // 2] * ms:8.2f} / "
          f"{latencies[int(0.95 * len(latencies))] * ms:.2f} ms  ({len(latencies)} calls)")
    print(f"features {X.shape}, head {head.coef.shape}")
    if args.tasks:
        unseen_writers(args.model, args.tasks)


def unseen_writers(model: str, n_tasks: int) -> None:
    images, labels, groups = bench_unseen_hands.letters()
    X = own_classes.embed(model, images)
    scores = bench_unseen_hands.head_scores(X, labels, groups, n_tasks=n_tasks)
    pixels = bench_unseen_hands.pixel_scores(images, labels, groups, n_tasks=n_tasks)
    _, taught, _ = next(bench_unseen_hands.tasks(labels, groups))
    y = np.searchsorted(np.unique(labels[taught]), labels[taught])
    t_teach, _ = timed(lambda: own_classes.train_head(X[taught], y, 5), 20)
    print(f"{n_tasks} tasks of 5 letters x 10 drawings, read on writers not used to teach: "
          f"{bench_unseen_hands.summary(scores)} (mean, worst task); pixels, nearest neighbour: "
          f"{bench_unseen_hands.summary(pixels)}; teaching 50 drawings on cached features {t_teach * 1000:.0f} ms")


if __name__ == "__main__":
    main()
