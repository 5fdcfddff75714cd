"""Train on our hands (the Class page's activity 3) on a class of real pen digits: before and after, one JSON line.

    VP_DATA_DIR=../shared/data python -m bench.bench_class_training [--students 81] [--model resnet] [--epochs 3]

A class in a store of its own (a temporary VP_HOME, runs and all): the first ``--students`` UNIPEN writers of
``unipen_dev_digits.jsonl`` join and draw in turns, each sending one of their own digits of the label the store
asks for, as the canvas sends it (``bench.harness.pen``), until they have none of the digit asked left. Then
the function the teacher's "Train on our hands" button calls (``core.classroom.training.train_on_class``) launches
the run on the engine with the page's defaults, and the run's card gives the figures: accuracy before and after on
the held-out students' drawings and on MNIST's 10,000 test digits (and which of those it lost and gained, beyond
chance or not, by the wall's rule), and the wall's sentence for the run; beside
them, what the wall says of the class before training (``--wall-only``: that alone).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from bench.harness.pen import class_of_writers


def draw_class(n_students: int) -> tuple[str, str]:
    """A class where the first ``n_students`` UNIPEN writers draw their digits when asked; returns (code, secret)."""
    import random

    from core.classroom import prompts
    from core.data import unipen

    prompts.random = random.Random(0)  # the store's prompts, seeded: the same class each time
    writers: set[str] = set()
    records = []
    for record in unipen.load_unipen():  # the first n_students writers, all their digits
        if record["writer_key"] in writers or len(writers) < n_students:
            writers.add(record["writer_key"])
            records.append(record)
    return class_of_writers(records)


def wall(code: str) -> dict:
    """What the wall says of the class before any training: its sentence, and each Draw network's digits read."""
    from core.classroom import captions, stats
    from core.nets import registry
    from core.nets.inference import Predictor

    figures = stats.class_stats(code, {name: Predictor.load(name) for name in registry.DRAW_MODELS})
    return {"sentence": captions.caption(figures), "hardest": captions.hardest_title(figures),
            "read": {s.name: f"{s.right} of {s.total}" for s in figures.scores},
            "mnist": {s.name: s.mnist_accuracy for s in figures.scores}}


def mnist_changes(model: str, run_id: str) -> dict:
    """MNIST's test digits the shipped network and the run's read differently: "lost" (right before, wrong after)
    and "gained"; "beyond_chance" by the wall's rule (``stats.beats``: lost - gained > NOISE_Z sqrt(lost + gained))."""
    import math

    from core.classroom.stats import NOISE_Z
    from core.data import datasets
    from core.nets import registry
    from core.training import kit

    _, (x, y) = datasets.load_dataset("mnist")
    before, after = ((registry.load(name).predict(kit.to_float(x), verbose=0).argmax(1) == y)
                     for name in (model, f"{registry.RUN_PREFIX}{run_id}"))
    lost, gained = int((before & ~after).sum()), int((~before & after).sum())
    return {"lost": lost, "gained": gained, "beyond_chance": abs(lost - gained) > NOISE_Z * math.sqrt(lost + gained)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=81, help="UNIPEN writers in the class (81: all of them)")
    parser.add_argument("--model", default="resnet", help="the page's default network")
    parser.add_argument("--epochs", type=int, default=3, help="the page's default epochs")
    parser.add_argument("--wall-only", action="store_true", help="the wall's figures only, no training")
    args = parser.parse_args()
    os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="vp_bench_class_")  # never the developer's runs and classes
    for setting in ("MLFLOW_TRACKING_URI", "VP_CLASS_DB"):
        os.environ.pop(setting, None)
    import ray

    from core.classroom import captions, training
    from core.lab import runs

    code, secret = draw_class(args.students)
    figures = {"students": args.students, "wall": wall(code)}
    if args.wall_only:
        print(json.dumps(figures), flush=True)
        return
    started = time.monotonic()
    run = training.train_on_class(code, secret, args.model, args.epochs)
    done = runs.wait(run.run_id, timeout_s=1800, poll_s=1.0)
    seconds = time.monotonic() - started
    ray.shutdown()
    if done.status != "FINISHED":
        raise SystemExit(f"the run ended {done.status}: {done.error}")
    card = runs.card(run.run_id)
    print(json.dumps({
        **figures, "model": args.model, "epochs": args.epochs, **card["class"],
        "mnist_before": card["test_accuracy_before"], "mnist_after": card["test_accuracy"],
        "mnist_changes": mnist_changes(args.model, run.run_id),
        "train_seconds": card["train_seconds"], "run_seconds": round(seconds, 1), "device": card["device"],
        "load_average": round(os.getloadavg()[0], 2), "caption": captions.training_caption(card)}), flush=True)


if __name__ == "__main__":
    main()
